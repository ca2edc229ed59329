//! The client as `clerk-core`'s [`BackendApi`]: what the [`Authenticator`](clerk_core::Authenticator) calls to load
//! users and verify opaque machine tokens, so that one configured client serves the framework adapters.

use bytes::Bytes;
use clerk_core::{BackendApi, BackendError, BackendUser, BoxFuture, MachineAuth, UserId};

use crate::error::Error;
use crate::machine::MachineVerifyError;
use crate::request::Req;
use crate::{Client, User};

/// A user as the Backend API returned it: typed, and the raw JSON (with any field this SDK does not model). What
/// [`Client`] loads for the authenticator; the framework adapters' `ClerkUser` extractors hand it to handlers.
#[derive(Debug)]
pub struct FetchedUser {
    /// The typed user.
    pub user: User,
    /// The body exactly as Clerk sent it.
    pub raw: serde_json::Value,
}

impl FetchedUser {
    /// The user an authenticated request carries, when the authenticator loaded it through a [`Client`].
    #[must_use]
    pub fn of(auth: &clerk_core::Authenticated) -> Option<std::sync::Arc<Self>> {
        auth.user()?.get_arc()
    }

    /// The user of an authenticated session: the one `authenticator` loaded with it, else loaded now (through its
    /// user cache). What the framework adapters' `ClerkUser` extractors do.
    ///
    /// # Errors
    /// The authenticator's [`Failure`](clerk_core::Failure) (a deleted user, an outage), or
    /// [`Failure::NoBackendApi`](clerk_core::Failure::NoBackendApi) when it loads users through another Backend API
    /// than a [`Client`] (another user type).
    pub async fn load(
        authenticator: &clerk_core::Authenticator,
        session: &clerk_core::SessionAuth,
        auth: &clerk_core::Authenticated,
    ) -> Result<std::sync::Arc<Self>, clerk_core::Failure> {
        let user = match auth.user() {
            Some(user) => user.clone(),
            None => authenticator.user(session.user_id()).await?,
        };
        user.get_arc().ok_or_else(|| {
            tracing::error!(target: "clerk::auth", "loading users as clerk_api::FetchedUser needs the authenticator's Backend API to be a clerk_api::Client");
            clerk_core::Failure::NoBackendApi
        })
    }
}

fn decode_user(body: &Bytes) -> Result<FetchedUser, Error> {
    let raw: serde_json::Value = crate::client::decode(200, body)?;
    let user: User = crate::client::decode(200, body)?;
    Ok(FetchedUser { user, raw })
}

impl BackendApi for Client {
    fn load_user<'a>(&'a self, user_id: &'a UserId) -> BoxFuture<'a, Result<BackendUser, BackendError>> {
        Box::pin(async move {
            let req = Req::new(http::Method::GET, "GetUser")
                .lit("/users/")
                .seg("user_id", user_id.as_str())
                .map_err(|_| BackendError::InvalidId)?;
            let resp = match self.execute(&req).await {
                Ok(resp) => resp,
                Err(Error::Api(e)) if e.is_not_found() => return Err(BackendError::Refused),
                Err(e) => return Err(BackendError::Unavailable(Box::new(e))),
            };
            let fetched = decode_user(resp.body()).map_err(|e| {
                tracing::warn!(target: "clerk::auth", error = %e, "the Backend API answered a user that does not decode");
                BackendError::UnexpectedResponse
            })?;
            Ok(BackendUser::new(user_id.clone(), fetched))
        })
    }

    fn verify_machine_token<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<MachineAuth, BackendError>> {
        Box::pin(async move {
            Self::verify_machine_token(self, token).await.map_err(|e| match e {
                MachineVerifyError::NotOpaque | MachineVerifyError::Invalid { .. } => BackendError::Refused,
                MachineVerifyError::SecretKeyInvalid(e) => BackendError::SecretKeyInvalid(Box::new(e)),
                MachineVerifyError::Unavailable(e) => BackendError::Unavailable(Box::new(e)),
                MachineVerifyError::UnexpectedResponse => BackendError::UnexpectedResponse,
            })
        })
    }
}

impl Client {
    /// An [`Authenticator`](clerk_core::Authenticator) builder over this client: keys from `GET /v1/jwks` (as
    /// [`verifier`](Self::verifier)), users and opaque machine tokens through the Backend API. Set the rest
    /// (`fetch_user`, caches, accepted token types) on the builder.
    ///
    /// # Errors
    /// When the verifier cannot be built.
    pub fn authenticator(&self) -> Result<clerk_core::AuthenticatorBuilder, clerk_core::BuildError> {
        Ok(clerk_core::Authenticator::builder().verifier(self.verifier().build()?).backend_api(self.clone()))
    }
}

/// An [`Authenticator`](clerk_core::Authenticator) configured from the environment, as the framework adapters'
/// `from_env` build it: the verifier from `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`,
/// `CLERK_PUBLISHABLE_KEY` and `CLERK_AUTHORIZED_PARTIES`, and, when `CLERK_SECRET_KEY` is set, this client as its
/// Backend API (users on demand, opaque machine tokens). Users are not loaded for every request.
///
/// # Errors
/// When a variable is invalid or no key source is configured.
pub fn authenticator_from_env() -> Result<clerk_core::Authenticator, clerk_core::BuildError> {
    let verifier = clerk_core::Verifier::from_env()?.build()?;
    let mut builder = clerk_core::Authenticator::builder().verifier(verifier);
    if std::env::var("CLERK_SECRET_KEY").is_ok_and(|v| !v.trim().is_empty()) {
        builder = builder.backend_api(Client::from_env()?.build()?);
    }
    builder.build()
}
