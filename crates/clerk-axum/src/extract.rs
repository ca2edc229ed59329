//! Extractors: `ClerkAuth`, `Option<ClerkAuth>`, `ClerkUser`.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use clerk_api::plug::{Authenticated, Authenticator, Failure, FetchedUser};
use clerk_core::SessionAuth;
use http::request::Parts;

use crate::ClerkState;
use crate::layer::UnavailableStatus;
use crate::rejection::ClerkRejection;

/// The signed-in session. Rejects with `401` when signed out or refused (a request authenticated by a machine
/// token too: `token-type-mismatch`), `503` on an outage.
#[derive(Debug, Clone)]
pub struct ClerkAuth(pub Authenticated, SessionAuth);

impl Deref for ClerkAuth {
    type Target = SessionAuth;

    fn deref(&self) -> &SessionAuth {
        &self.1
    }
}

/// A session extractor given a machine-authenticated request.
const NOT_A_SESSION: Failure = Failure::Unauthorized { token_present: true, reason: "token-type-mismatch" };

fn signed_in(a: &Authenticated, parts: &Parts) -> Result<ClerkAuth, ClerkRejection> {
    match a.session() {
        Some(s) => Ok(ClerkAuth(a.clone(), s.clone())),
        None => Err(ClerkRejection::from_failure(&NOT_A_SESSION, unavailable(parts))),
    }
}

fn unavailable(parts: &Parts) -> http::StatusCode {
    parts.extensions.get::<UnavailableStatus>().map_or(http::StatusCode::SERVICE_UNAVAILABLE, |s| s.0)
}

fn state(parts: &Parts) -> Result<&ClerkState, ClerkRejection> {
    parts.extensions.get::<ClerkState>().ok_or_else(ClerkRejection::layer_missing)
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match state(parts)? {
            ClerkState::SignedIn(a) => signed_in(a, parts),
            ClerkState::SignedOut => Err(ClerkRejection::signed_out()),
            ClerkState::Failed(f) => Err(ClerkRejection::from_failure(f, unavailable(parts))),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        match state(parts)? {
            ClerkState::SignedIn(a) => signed_in(a, parts).map(Some),
            ClerkState::SignedOut => Ok(None),
            ClerkState::Failed(f) => Err(ClerkRejection::from_failure(f, unavailable(parts))),
        }
    }
}

/// The signed-in user as the Backend API returns it (typed, and the raw JSON). Uses the user the layer fetched
/// ([`FetchUser::Always`](crate::FetchUser::Always)), else fetches it now through the authenticator (and its TTL
/// cache). Rejects like [`ClerkAuth`]; a deleted user is `401`, an unreachable Backend API `503`.
#[derive(Debug, Clone)]
pub struct ClerkUser(pub Arc<FetchedUser>);

impl Deref for ClerkUser {
    type Target = FetchedUser;

    fn deref(&self) -> &FetchedUser {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkUser {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = <ClerkAuth as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if let Some(user) = auth.0.user_arc() {
            return Ok(Self(user));
        }
        let authenticator =
            parts.extensions.get::<Authenticator>().cloned().ok_or_else(ClerkRejection::layer_missing)?;
        authenticator
            .user(auth.user_id().as_str())
            .await
            .map(Self)
            .map_err(|f| ClerkRejection::from_failure(&f, unavailable(parts)))
    }
}
