//! What the engine needs from Clerk's Backend API, as a trait: load a user, verify an opaque machine token.
//! `clerk_api::Client` implements it; so can a test double or another client. Keys come through
//! [`JwksSource`](crate::JwksSource) the same way.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::ids::UserId;
use crate::machine::MachineAuth;
use crate::transport::BoxFuture;

/// The Backend API calls the [`Authenticator`](crate::Authenticator) makes. Object-safe; implemented by
/// `clerk_api::Client`.
pub trait BackendApi: Send + Sync + fmt::Debug + 'static {
    /// `GET /v1/users/{user_id}`: the user, typed as the implementation likes ([`BackendUser`]).
    ///
    /// # Errors
    /// [`BackendError::Refused`] when the user does not exist; [`BackendError::InvalidId`] for an id that cannot be
    /// sent; anything else is an outage.
    fn load_user<'a>(&'a self, user_id: &'a UserId) -> BoxFuture<'a, Result<BackendUser, BackendError>>;

    /// Verifies an opaque machine token (`ak_…`, `mt_…`, `oat_…`) with the Backend API. Never cached by the
    /// implementation: a revoked token must be refused on the next request.
    ///
    /// # Errors
    /// [`BackendError::Refused`] when Clerk says the token is not valid; anything else is an outage or a
    /// configuration problem.
    fn verify_machine_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<MachineAuth, BackendError>>;
}

/// A user loaded through the Backend API: its id, and the value the [`BackendApi`] made of Clerk's answer (with
/// `clerk-api`: a `clerk_api::FetchedUser`, the typed user and the raw JSON). Cheap to clone.
#[derive(Clone)]
pub struct BackendUser {
    id: UserId,
    value: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for BackendUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendUser").field("id", &self.id).finish_non_exhaustive()
    }
}

impl BackendUser {
    /// A user with id `id`, as `value`.
    pub fn new<T: Any + Send + Sync>(id: UserId, value: T) -> Self {
        Self { id, value: Arc::new(value) }
    }

    /// The user's id.
    #[must_use]
    pub const fn id(&self) -> &UserId {
        &self.id
    }

    /// The user as the [`BackendApi`] typed it, when it is a `T`.
    #[must_use]
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The user as a shared `T`, when it is one.
    #[must_use]
    pub fn get_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.value).downcast().ok()
    }
}

/// Why a Backend API call did not give an answer the engine can use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// Clerk said no: the user does not exist, or the machine token is unknown, revoked, expired or malformed.
    #[error("the Clerk Backend API refused the request")]
    Refused,
    /// The id cannot be sent to the Backend API (not a path segment); nothing was sent.
    #[error("the id cannot be sent to the Clerk Backend API")]
    InvalidId,
    /// The Backend API refused the secret key: a configuration problem.
    #[error("the Clerk Backend API refused the secret key")]
    SecretKeyInvalid(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The Backend API could not answer: unreachable, timed out, `429` or `5xx`.
    #[error("the Clerk Backend API could not be reached")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A `2xx` answer this SDK does not understand.
    #[error("the Clerk Backend API answered something unexpected")]
    UnexpectedResponse,
}
