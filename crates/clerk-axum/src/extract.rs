//! Extractors: `ClerkAuth`, `Option<ClerkAuth>`, `ClerkMachine`, `Option<ClerkMachine>`, and (feature `api`)
//! `ClerkUser`.

use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use clerk_core::{Authenticated, Failure, MachineAuth, Outcome, Reason, SessionAuth, TokenType};
use http::request::Parts;

use crate::layer::ClerkContext;
use crate::rejection::ClerkRejection;

/// The signed-in session. Rejects with `401` when signed out or refused (a request authenticated by a machine
/// token too: `token-type-mismatch`), `503` on an outage, `500` without [`ClerkLayer`](crate::ClerkLayer).
///
/// Dereferences to [`SessionAuth`]: `auth.user_id()`, `auth.org_role()`, `auth.has(…)`. `Option<ClerkAuth>` is
/// `None` only without credentials; `Result<ClerkAuth, ClerkRejection>` lets a handler see every outcome, with the
/// [`Failure`](ClerkRejection::failure) behind a refusal.
#[derive(Debug, Clone)]
pub struct ClerkAuth {
    authenticated: Authenticated,
    session: SessionAuth,
}

impl ClerkAuth {
    /// The authenticated request: the session and, when loaded, the user.
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.authenticated
    }

    /// The session.
    #[must_use]
    pub fn into_inner(self) -> SessionAuth {
        self.session
    }
}

impl Deref for ClerkAuth {
    type Target = SessionAuth;

    fn deref(&self) -> &SessionAuth {
        &self.session
    }
}

/// A request authenticated by the other kind of token: `401` with `error="invalid_token"`, reason
/// `token-type-mismatch` in the `tracing` event.
fn mismatch(ctx: &ClerkContext, wanted: &'static str, got: TokenType) -> ClerkRejection {
    let failure = Failure::Token(Reason::TokenTypeMismatch);
    tracing::info!(target: "clerk::auth", reason = failure.reason(), token_type = got.as_str(), wanted, "request refused: token type not accepted by the extractor");
    ClerkRejection::from_failure(&failure, ctx.unavailable())
}

fn session(ctx: &ClerkContext, a: &Authenticated) -> Result<ClerkAuth, ClerkRejection> {
    match a.session() {
        Some(s) => Ok(ClerkAuth { authenticated: a.clone(), session: s.clone() }),
        None => Err(mismatch(ctx, "session", a.token_type())),
    }
}

fn machine(ctx: &ClerkContext, a: &Authenticated) -> Result<ClerkMachine, ClerkRejection> {
    match a.machine() {
        Some(m) => Ok(ClerkMachine { authenticated: a.clone(), machine: m.clone() }),
        None => Err(mismatch(ctx, "machine", a.token_type())),
    }
}

/// The outcome as an extractor sees it: signed in, signed out, or the rejection of a failure.
fn outcome(extensions: &http::Extensions) -> Result<Option<(&ClerkContext, &Authenticated)>, ClerkRejection> {
    let ctx = extensions.get::<ClerkContext>().ok_or_else(ClerkRejection::layer_missing)?;
    match &ctx.outcome {
        Outcome::SignedIn(a) => Ok(Some((ctx, a))),
        Outcome::SignedOut => Ok(None),
        Outcome::Failed(f) => Err(ClerkRejection::from_failure(f, ctx.unavailable())),
    }
}

impl ClerkAuth {
    /// The signed-in session [`ClerkLayer`](crate::ClerkLayer) recorded in a request's extensions, for code that is
    /// not an axum handler: a tonic handler (`request.extensions()`), a tower service behind the layer. Refuses as the
    /// extractor does; `Ok(None)` without credentials.
    ///
    /// # Errors
    /// The [`ClerkRejection`] the extractor would answer.
    pub fn from_extensions(extensions: &http::Extensions) -> Result<Option<Self>, ClerkRejection> {
        outcome(extensions)?.map(|(ctx, a)| session(ctx, a)).transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_extensions(&parts.extensions)?.ok_or_else(ClerkRejection::signed_out)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Self::from_extensions(&parts.extensions)
    }
}

/// The signed-in session, if any: `None` only without credentials; credentials present but refused → `401`; an
/// outage → `503`. The same as `Option<ClerkAuth>`, under the name clerk-actix uses (where `Option<T>` swallows
/// errors).
#[derive(Debug, Clone)]
pub struct OptionalClerkAuth(pub Option<ClerkAuth>);

impl<S: Send + Sync> FromRequestParts<S> for OptionalClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        ClerkAuth::from_extensions(&parts.extensions).map(Self)
    }
}

/// The verified machine token, if any: `None` only without credentials. The same as `Option<ClerkMachine>`, under
/// the name clerk-actix uses.
#[derive(Debug, Clone)]
pub struct OptionalClerkMachine(pub Option<ClerkMachine>);

impl<S: Send + Sync> FromRequestParts<S> for OptionalClerkMachine {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        ClerkMachine::from_extensions(&parts.extensions).map(Self)
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
pub struct ClerkMachine {
    authenticated: Authenticated,
    machine: MachineAuth,
}

impl ClerkMachine {
    /// The authenticated request (its [`token_type`](Authenticated::token_type), its
    /// [`origin`](Authenticated::origin): always the header for machine tokens).
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.authenticated
    }

    /// The verified token.
    #[must_use]
    pub fn into_inner(self) -> MachineAuth {
        self.machine
    }
}

impl Deref for ClerkMachine {
    type Target = MachineAuth;

    fn deref(&self) -> &MachineAuth {
        &self.machine
    }
}

impl ClerkMachine {
    /// The machine token [`ClerkLayer`](crate::ClerkLayer) recorded in a request's extensions, for code that is not
    /// an axum handler (see [`ClerkAuth::from_extensions`]). `Ok(None)` without credentials.
    ///
    /// # Errors
    /// The [`ClerkRejection`] the extractor would answer.
    pub fn from_extensions(extensions: &http::Extensions) -> Result<Option<Self>, ClerkRejection> {
        outcome(extensions)?.map(|(ctx, a)| machine(ctx, a)).transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClerkMachine {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_extensions(&parts.extensions)?.ok_or_else(ClerkRejection::signed_out)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClerkMachine {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Self::from_extensions(&parts.extensions)
    }
}

#[cfg(feature = "api")]
pub use user::ClerkUser;

#[cfg(feature = "api")]
mod user {
    use std::ops::Deref;
    use std::sync::Arc;

    use axum::extract::FromRequestParts;
    use clerk_api::FetchedUser;
    use http::request::Parts;

    use super::{outcome, session};
    use crate::rejection::ClerkRejection;

    /// The signed-in user as the Backend API returns it (typed, and the raw JSON). Uses the user the layer loaded
    /// ([`FetchUser::Always`](crate::FetchUser::Always)), else loads it now through the authenticator (and its TTL
    /// cache), once per request: later `ClerkUser` extractions in the same request reuse it. Rejects like
    /// [`ClerkAuth`](crate::ClerkAuth); a deleted user is `401`, an unreachable Backend API `503`.
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
            if let Some(user) = parts.extensions.get::<Self>() {
                return Ok(user.clone());
            }
            let (ctx, a) = outcome(&parts.extensions)?.ok_or_else(ClerkRejection::signed_out)?;
            let auth = session(ctx, a)?;
            let user = FetchedUser::load(&ctx.shared.authenticator, &auth, auth.authenticated())
                .await
                .map_err(|f| ClerkRejection::from_failure(&f, ctx.unavailable()))?;
            let user = Self(user);
            parts.extensions.insert(user.clone());
            Ok(user)
        }
    }
}
