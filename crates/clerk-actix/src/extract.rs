//! Extractors: `ClerkAuth`, `OptionalClerkAuth`, `ClerkUser`, `ClerkMachine`, `OptionalClerkMachine`.

use std::future::{Ready, ready};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use clerk_api::plug::{Authenticated, Failure, FetchedUser};
use clerk_core::{MachineAuth, SessionAuth, TokenType};
use tokio::sync::OnceCell;

use crate::error::ClerkError;
use crate::{ClerkState, LocalBoxFuture, Outcome};

/// The signed-in session. Rejects with `401` when signed out or refused (a request authenticated by a machine token
/// too: `token-type-mismatch`), `503` on an outage, `500` without [`ClerkMiddleware`](crate::ClerkMiddleware).
///
/// Dereferences to [`SessionAuth`]: `auth.user_id()`, `auth.org_role()`, `auth.has(…)`.
///
/// Do not take `Option<ClerkAuth>`: actix turns *any* extractor error into `None`, so an expired or forged token,
/// or a Clerk outage, would look signed out. Take [`OptionalClerkAuth`] instead.
#[derive(Debug, Clone)]
pub struct ClerkAuth(pub Authenticated, SessionAuth);

impl Deref for ClerkAuth {
    type Target = SessionAuth;

    fn deref(&self) -> &SessionAuth {
        &self.1
    }
}

/// What an extractor answers for a request authenticated by the other kind of token (a machine token where a
/// session is required, or the reverse): `401` with `error="invalid_token"`, reason `token-type-mismatch` in the
/// `tracing` event.
fn mismatch(got: TokenType, wanted: &'static str) -> ClerkError {
    tracing::info!(target: "clerk::auth", reason = "token-type-mismatch", token_type = got.as_str(), wanted, "request refused: token type not accepted here");
    ClerkError::invalid_token()
}

/// The middleware's record, or the `500` for its absence; then what the outcome says.
fn outcome<T>(
    req: &HttpRequest,
    signed_in: impl FnOnce(&Authenticated) -> Result<T, ClerkError>,
) -> Result<Option<T>, ClerkError> {
    let ext = req.extensions();
    let Some(state) = ext.get::<ClerkState>() else { return Err(ClerkError::middleware_missing()) };
    match &state.outcome {
        Outcome::SignedIn(a) => signed_in(a).map(Some),
        Outcome::SignedOut => Ok(None),
        Outcome::Failed(f) => Err(ClerkError::from_failure(f, state.config.unavailable)),
    }
}

impl ClerkAuth {
    /// The session and, when fetched, the user.
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.0
    }

    fn from_state(req: &HttpRequest) -> Result<Option<Self>, ClerkError> {
        outcome(req, |a| match a.session() {
            Some(s) => Ok(Self(a.clone(), s.clone())),
            None => Err(mismatch(a.token_type(), "session")),
        })
    }

    fn required(req: &HttpRequest) -> Result<Self, ClerkError> {
        Self::from_state(req)?.ok_or_else(ClerkError::signed_out)
    }
}

impl FromRequest for ClerkAuth {
    type Error = ClerkError;
    type Future = Ready<Result<Self, ClerkError>>;

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
    type Error = ClerkError;
    type Future = Ready<Result<Self, ClerkError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(ClerkAuth::from_state(req).map(Self))
    }
}

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
    type Error = ClerkError;
    type Future = LocalBoxFuture<Result<Self, ClerkError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let auth = match ClerkAuth::required(req) {
            Ok(auth) => auth,
            Err(e) => return Box::pin(ready(Err(e))),
        };
        if let Some(user) = auth.0.user_arc() {
            return Box::pin(ready(Ok(Self(user))));
        }
        let mut ext = req.extensions_mut();
        let Some(config) = ext.get::<ClerkState>().map(|s| Rc::clone(&s.config)) else {
            return Box::pin(ready(Err(ClerkError::middleware_missing())));
        };
        let unavailable = config.unavailable;
        let RequestUser(slot) = ext.get_or_insert_with(RequestUser::default).clone();
        drop(ext);
        Box::pin(async move {
            slot.get_or_init(|| async { config.authenticator.user(auth.user_id().as_str()).await })
                .await
                .clone()
                .map(Self)
                .map_err(|f| ClerkError::from_failure(&f, unavailable))
        })
    }
}

/// The verified machine token: an API key, an M2M token or an OAuth access token, on a route whose
/// [`ClerkMiddleware`](crate::ClerkMiddleware) accepts them ([`accepting`](crate::ClerkMiddleware::accepting)).
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
pub struct ClerkMachine(pub Authenticated, MachineAuth);

impl ClerkMachine {
    /// The authenticated request (its [`token_type`](Authenticated::token_type), its
    /// [`origin`](Authenticated::origin): always the header for machine tokens).
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.0
    }

    /// The verified token.
    #[must_use]
    pub fn into_inner(self) -> MachineAuth {
        self.1
    }

    fn from_state(req: &HttpRequest) -> Result<Option<Self>, ClerkError> {
        outcome(req, |a| match a.machine() {
            Some(m) => Ok(Self(a.clone(), m.clone())),
            None => Err(mismatch(a.token_type(), "machine")),
        })
    }
}

impl Deref for ClerkMachine {
    type Target = MachineAuth;

    fn deref(&self) -> &MachineAuth {
        &self.1
    }
}

impl FromRequest for ClerkMachine {
    type Error = ClerkError;
    type Future = Ready<Result<Self, ClerkError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::from_state(req).and_then(|m| m.ok_or_else(ClerkError::signed_out)))
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
    type Error = ClerkError;
    type Future = Ready<Result<Self, ClerkError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(ClerkMachine::from_state(req).map(Self))
    }
}
