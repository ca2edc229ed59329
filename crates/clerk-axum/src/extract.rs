//! Extractors: `ClerkAuth`, `Option<ClerkAuth>`, `ClerkUser`, `ClerkMachine`, `Option<ClerkMachine>`.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use clerk_api::plug::{Authenticated, Failure, FetchedUser};
use clerk_core::{MachineAuth, SessionAuth, TokenType};
use http::request::Parts;

use crate::ClerkState;
use crate::layer::ClerkContext;
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

/// What an extractor answers for a request authenticated by the other kind of token: the reason
/// `token-type-mismatch`, for logs; the client sees a plain `401` with `error="invalid_token"`.
const MISMATCH: Failure = Failure::Unauthorized { token_present: true, reason: "token-type-mismatch" };

fn mismatch(ctx: &ClerkContext, wanted: &'static str, got: TokenType) -> ClerkRejection {
    tracing::info!(target: "clerk::auth", reason = MISMATCH.reason(), token_type = got.as_str(), wanted, "request refused: token type not accepted by the extractor");
    ClerkRejection::from_failure(&MISMATCH, ctx.unavailable())
}

fn session(ctx: &ClerkContext, a: &Authenticated) -> Result<ClerkAuth, ClerkRejection> {
    match a.session() {
        Some(s) => Ok(ClerkAuth(a.clone(), s.clone())),
        None => Err(mismatch(ctx, "session", a.token_type())),
    }
}

fn machine(ctx: &ClerkContext, a: &Authenticated) -> Result<ClerkMachine, ClerkRejection> {
    match a.machine() {
        Some(m) => Ok(ClerkMachine(a.clone(), m.clone())),
        None => Err(mismatch(ctx, "machine", a.token_type())),
    }
}

fn context(parts: &Parts) -> Result<&ClerkContext, ClerkRejection> {
    parts.extensions.get::<ClerkContext>().ok_or_else(ClerkRejection::layer_missing)
}

/// The outcome as an extractor sees it: signed in, signed out, or the rejection of a failure.
fn outcome(parts: &Parts) -> Result<Option<(&ClerkContext, &Authenticated)>, ClerkRejection> {
    let ctx = context(parts)?;
    match &ctx.state {
        ClerkState::SignedIn(a) => Ok(Some((ctx, a))),
        ClerkState::SignedOut => Ok(None),
        ClerkState::Failed(f) => Err(ClerkRejection::from_failure(f, ctx.unavailable())),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (ctx, a) = outcome(parts)?.ok_or_else(ClerkRejection::signed_out)?;
        session(ctx, a)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        outcome(parts)?.map(|(ctx, a)| session(ctx, a)).transpose()
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

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (ctx, a) = outcome(parts)?.ok_or_else(ClerkRejection::signed_out)?;
        let auth = session(ctx, a)?;
        if let Some(user) = auth.0.user_arc() {
            return Ok(Self(user));
        }
        ctx.shared
            .authenticator
            .user(auth.user_id().as_str())
            .await
            .map(Self)
            .map_err(|f| ClerkRejection::from_failure(&f, ctx.unavailable()))
    }
}

/// A verified machine token: an API key, an M2M token or an OAuth access token (derefs to
/// [`clerk_core::MachineAuth`]: [`token_type`](MachineAuth::token_type), [`id`](MachineAuth::id),
/// [`subject`](MachineAuth::subject), [`scopes`](MachineAuth::scopes), …).
///
/// Use it behind a layer that accepts machine tokens ([`ClerkLayer::machine`](crate::ClerkLayer::machine) or
/// [`ClerkLayer::accepting`](crate::ClerkLayer::accepting)). Rejects like [`ClerkAuth`]: `401` without credentials
/// or when they are refused, `401` with `error="invalid_token"` when a session token authenticated the request
/// (`token-type-mismatch` in the `tracing` event), `503` when the Backend API could not verify an opaque token.
/// `Option<ClerkMachine>` is `None` without credentials and rejects the same way otherwise.
#[derive(Debug, Clone)]
pub struct ClerkMachine(pub Authenticated, MachineAuth);

impl Deref for ClerkMachine {
    type Target = MachineAuth;

    fn deref(&self) -> &MachineAuth {
        &self.1
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkMachine {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (ctx, a) = outcome(parts)?.ok_or_else(ClerkRejection::signed_out)?;
        machine(ctx, a)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClerkMachine {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        outcome(parts)?.map(|(ctx, a)| machine(ctx, a)).transpose()
    }
}
