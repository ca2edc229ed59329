//! Extractors: `ClerkAuth`, `OptionalClerkAuth`, `ClerkMachine`, `OptionalClerkMachine`, and (feature `api`)
//! `ClerkUser`.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use clerk_core::{Authenticated, Failure, MachineAuth, Outcome, Reason, SessionAuth, TokenType};

use crate::ClerkState;
use crate::rejection::ClerkRejection;

/// The signed-in session. Rejects with `401` when signed out or refused (a request authenticated by a machine token
/// too: `token-type-mismatch`), `503` on an outage, `500` without the [`Clerk`](crate::Clerk) middleware.
///
/// Dereferences to [`SessionAuth`]: `auth.user_id()`, `auth.org_role()`, `auth.has(…)`.
///
/// Do not take `Option<ClerkAuth>`: actix turns *any* extractor error into `None`, so an expired or forged token,
/// or a Clerk outage, would look signed out. Take [`OptionalClerkAuth`] instead.
#[derive(Debug, Clone)]
pub struct ClerkAuth {
    authenticated: Authenticated,
    session: SessionAuth,
}

impl Deref for ClerkAuth {
    type Target = SessionAuth;

    fn deref(&self) -> &SessionAuth {
        &self.session
    }
}

/// What an extractor answers for a request authenticated by the other kind of token (a machine token where a
/// session is required, or the reverse): `401` with `error="invalid_token"`, reason `token-type-mismatch` in the
/// `tracing` event.
fn mismatch(state: &ClerkState, got: TokenType, wanted: &'static str) -> ClerkRejection {
    let failure = Failure::Token(Reason::TokenTypeMismatch);
    tracing::info!(target: "clerk::auth", reason = failure.reason(), token_type = got.as_str(), wanted, "request refused: token type not accepted here");
    ClerkRejection::from_failure(&failure, state.config.unavailable)
}

/// The middleware's record, or the `500` for its absence; then what the outcome says.
fn outcome<T>(
    req: &HttpRequest,
    signed_in: impl FnOnce(&ClerkState, &Authenticated) -> Result<T, ClerkRejection>,
) -> Result<Option<T>, ClerkRejection> {
    let ext = req.extensions();
    let Some(state) = ext.get::<ClerkState>() else { return Err(ClerkRejection::middleware_missing()) };
    match &state.outcome {
        Outcome::SignedIn(a) => signed_in(state, a).map(Some),
        Outcome::SignedOut => Ok(None),
        Outcome::Failed(f) => Err(ClerkRejection::from_failure(f, state.config.unavailable)),
    }
}

impl ClerkAuth {
    /// The session and, when fetched, the user.
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.authenticated
    }

    /// The session.
    #[must_use]
    pub fn into_inner(self) -> SessionAuth {
        self.session
    }

    fn from_state(req: &HttpRequest) -> Result<Option<Self>, ClerkRejection> {
        outcome(req, |state, a| match a.session() {
            Some(s) => Ok(Self { authenticated: a.clone(), session: s.clone() }),
            None => Err(mismatch(state, a.token_type(), "session")),
        })
    }

    fn required(req: &HttpRequest) -> Result<Self, ClerkRejection> {
        Self::from_state(req)?.ok_or_else(ClerkRejection::signed_out)
    }
}

impl FromRequest for ClerkAuth {
    type Error = ClerkRejection;
    type Future = Ready<Result<Self, ClerkRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::required(req))
    }
}

/// The signed-in session, if any: no credentials → `None`; credentials present but refused → `401`; an outage →
/// `503`. This is what `Option<ClerkAuth>` means in `clerk-axum`; actix's own `Option<T>` extractor would swallow
/// the `401`/`503` into `None`, hence this type.
///
/// ```
/// use clerk_actix::OptionalClerkAuth;
///
/// async fn greet(OptionalClerkAuth(auth): OptionalClerkAuth) -> String {
///     match auth {
///         Some(auth) => format!("hello {}", auth.user_id()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct OptionalClerkAuth(pub Option<ClerkAuth>);

impl OptionalClerkAuth {
    /// The session, if signed in.
    #[must_use]
    pub fn into_inner(self) -> Option<ClerkAuth> {
        self.0
    }
}

impl Deref for OptionalClerkAuth {
    type Target = Option<ClerkAuth>;

    fn deref(&self) -> &Option<ClerkAuth> {
        &self.0
    }
}

impl From<OptionalClerkAuth> for Option<ClerkAuth> {
    fn from(o: OptionalClerkAuth) -> Self {
        o.0
    }
}

impl FromRequest for OptionalClerkAuth {
    type Error = ClerkRejection;
    type Future = Ready<Result<Self, ClerkRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(ClerkAuth::from_state(req).map(Self))
    }
}

/// The verified machine token: an API key, an M2M token or an OAuth access token, on a route whose
/// [`Clerk`](crate::Clerk) middleware accepts them ([`accepting`](crate::Clerk::accepting)).
/// Rejects like [`ClerkAuth`]: no credentials → `401`; refused (also a session token: `token-type-mismatch`) → `401`;
/// an outage (the Backend API could not verify an opaque token) → `503`; no middleware → `500`.
///
/// Dereferences to [`MachineAuth`]: `machine.token_type()`, `machine.subject()`, `machine.scopes()`,
/// `machine.has_scope(…)`.
///
/// ```
/// use clerk_actix::ClerkMachine;
///
/// async fn report(machine: ClerkMachine) -> Result<String, actix_web::Error> {
///     if !machine.has_scope("reports:read") {
///         return Err(actix_web::error::ErrorForbidden("Forbidden"));
///     }
///     Ok(format!("report for {} ({})", machine.subject(), machine.token_type()))
/// }
/// ```
///
/// As with [`ClerkAuth`], take [`OptionalClerkMachine`], not `Option<ClerkMachine>` (actix turns any error into
/// `None`).
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

    fn from_state(req: &HttpRequest) -> Result<Option<Self>, ClerkRejection> {
        outcome(req, |state, a| match a.machine() {
            Some(m) => Ok(Self { authenticated: a.clone(), machine: m.clone() }),
            None => Err(mismatch(state, a.token_type(), "machine")),
        })
    }
}

impl Deref for ClerkMachine {
    type Target = MachineAuth;

    fn deref(&self) -> &MachineAuth {
        &self.machine
    }
}

impl FromRequest for ClerkMachine {
    type Error = ClerkRejection;
    type Future = Ready<Result<Self, ClerkRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::from_state(req).and_then(|m| m.ok_or_else(ClerkRejection::signed_out)))
    }
}

/// The verified machine token, if any: no credentials → `None`; credentials present but refused (a session token
/// included) → `401`; an outage → `503`. The machine counterpart of [`OptionalClerkAuth`].
#[derive(Debug, Clone)]
pub struct OptionalClerkMachine(pub Option<ClerkMachine>);

impl OptionalClerkMachine {
    /// The machine token, if one authenticated the request.
    #[must_use]
    pub fn into_inner(self) -> Option<ClerkMachine> {
        self.0
    }
}

impl Deref for OptionalClerkMachine {
    type Target = Option<ClerkMachine>;

    fn deref(&self) -> &Option<ClerkMachine> {
        &self.0
    }
}

impl From<OptionalClerkMachine> for Option<ClerkMachine> {
    fn from(o: OptionalClerkMachine) -> Self {
        o.0
    }
}

impl FromRequest for OptionalClerkMachine {
    type Error = ClerkRejection;
    type Future = Ready<Result<Self, ClerkRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(ClerkMachine::from_state(req).map(Self))
    }
}

#[cfg(feature = "api")]
pub use user::ClerkUser;

#[cfg(feature = "api")]
mod user {
    use std::future::ready;
    use std::ops::Deref;
    use std::rc::Rc;
    use std::sync::Arc;

    use actix_web::dev::Payload;
    use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
    use clerk_api::FetchedUser;
    use clerk_core::Failure;
    use tokio::sync::OnceCell;

    use super::ClerkAuth;
    use crate::rejection::ClerkRejection;
    use crate::{ClerkState, LocalBoxFuture};

    /// The signed-in user as the Backend API returns it (typed, and the raw JSON). Uses the user the middleware fetched
    /// ([`FetchUser::Always`](crate::FetchUser::Always)), else fetches it now through the authenticator (and its TTL
    /// cache), once per request: later `ClerkUser` extractions in the same request reuse it. Rejects like
    /// [`ClerkAuth`]; a deleted user is `401`, an unreachable Backend API `503`.
    #[derive(Debug, Clone)]
    pub struct ClerkUser(pub Arc<FetchedUser>);

    impl Deref for ClerkUser {
        type Target = FetchedUser;

        fn deref(&self) -> &FetchedUser {
            &self.0
        }
    }

    /// The user fetched on demand for this request: one fetch, however many extractors ask (actix starts all of a
    /// handler's extractors before polling any, so the first one's result is shared, not merely stored).
    #[derive(Clone, Default)]
    struct RequestUser(Rc<OnceCell<Result<Arc<FetchedUser>, Failure>>>);

    impl FromRequest for ClerkUser {
        type Error = ClerkRejection;
        type Future = LocalBoxFuture<Result<Self, ClerkRejection>>;

        fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
            let auth = match ClerkAuth::required(req) {
                Ok(auth) => auth,
                Err(e) => return Box::pin(ready(Err(e))),
            };
            let mut ext = req.extensions_mut();
            let Some(config) = ext.get::<ClerkState>().map(|s| Rc::clone(&s.config)) else {
                return Box::pin(ready(Err(ClerkRejection::middleware_missing())));
            };
            let unavailable = config.unavailable;
            let RequestUser(slot) = ext.get_or_insert_with(RequestUser::default).clone();
            drop(ext);
            Box::pin(async move {
                let user = slot
                    .get_or_init(|| FetchedUser::load(&config.authenticator, &auth, auth.authenticated()))
                    .await
                    .clone()
                    .map_err(|f| ClerkRejection::from_failure(&f, unavailable))?;
                Ok(Self(user))
            })
        }
    }
}
