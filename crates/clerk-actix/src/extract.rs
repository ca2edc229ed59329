//! Extractors: `ClerkAuth`, `OptionalClerkAuth`, `ClerkUser`.

use std::future::{Ready, ready};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use clerk_api::plug::{Authenticated, Authenticator, Failure, FetchedUser};
use clerk_core::SessionAuth;
use tokio::sync::OnceCell;

use crate::error::ClerkError;
use crate::middleware::unavailable;
use crate::{ClerkState, LocalBoxFuture};

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

/// A session extractor given a machine-authenticated request.
const NOT_A_SESSION: Failure = Failure::Unauthorized { token_present: true, reason: "token-type-mismatch" };

impl ClerkAuth {
    /// The session and, when fetched, the user.
    #[must_use]
    pub const fn authenticated(&self) -> &Authenticated {
        &self.0
    }

    fn from_state(req: &HttpRequest) -> Result<Option<Self>, ClerkError> {
        let ext = req.extensions();
        match ext.get::<ClerkState>() {
            None => Err(ClerkError::middleware_missing()),
            Some(ClerkState::SignedIn(a)) => match a.session() {
                Some(s) => Ok(Some(Self(a.clone(), s.clone()))),
                None => Err(ClerkError::from_failure(&NOT_A_SESSION, unavailable(&ext))),
            },
            Some(ClerkState::SignedOut) => Ok(None),
            Some(ClerkState::Failed(f)) => Err(ClerkError::from_failure(f, unavailable(&ext))),
        }
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
        let Some(authenticator) = ext.get::<Authenticator>().cloned() else {
            return Box::pin(ready(Err(ClerkError::middleware_missing())));
        };
        let unavailable = unavailable(&ext);
        let RequestUser(slot) = ext.get_or_insert_with(RequestUser::default).clone();
        drop(ext);
        Box::pin(async move {
            slot.get_or_init(|| async { authenticator.user(auth.user_id().as_str()).await })
                .await
                .clone()
                .map(Self)
                .map_err(|f| ClerkError::from_failure(&f, unavailable))
        })
    }
}
