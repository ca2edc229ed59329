//! [`Authenticator::authenticate`]: one pass over a request. The `Authorization` header is read once and its token
//! hashed once; a session token the verified-token cache holds (most requests of a signed-in user) is decided at
//! once, without a future; anything that must wait (keys, a user, the Backend API) becomes one boxed future.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::auth::SessionAuth;
use crate::error::{Reason, VerifyError};
use crate::ids::UserId;
use crate::machine::TokenType;
use crate::source::{CredentialHeaders, TokenOrigin, TokenSourceError, raw_bearer};
use crate::verify::Probe;

use super::backend::{BackendApi, BackendError, BackendUser};
use super::{Authenticated, Authenticator, Failure, FetchUser};

type Answer = Result<Option<Authenticated>, Failure>;

/// What [`Authenticator::authenticate`] answers: at once when it can, else a future. `.await` it for the answer
/// either way (it implements [`IntoFuture`]); a middleware matches on it to skip the future when it can.
#[must_use = "an authentication does nothing until its answer is read"]
#[derive(Debug)]
pub enum Authentication {
    /// Decided without waiting: no credentials, unreadable or refused ones, or a session token the verified-token
    /// cache holds (with its user, when users are loaded and the user cache holds it).
    Ready(Answer),
    /// Keys, a user or a Backend API answer to wait for.
    Pending(PendingAuthentication),
}

impl IntoFuture for Authentication {
    type Output = Answer;
    type IntoFuture = PendingAuthentication;

    fn into_future(self) -> PendingAuthentication {
        match self {
            Self::Ready(answer) => PendingAuthentication(Repr::Ready(Some(answer))),
            Self::Pending(pending) => pending,
        }
    }
}

/// The future of an [`Authentication`]: `Send + 'static`, so a middleware can keep it in its response future.
pub struct PendingAuthentication(Repr);

enum Repr {
    Ready(Option<Answer>),
    Boxed(Pin<Box<dyn Future<Output = Answer> + Send>>),
}

impl fmt::Debug for PendingAuthentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthentication").finish_non_exhaustive()
    }
}

impl Future for PendingAuthentication {
    type Output = Answer;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        match &mut self.0 {
            Repr::Ready(answer) => Poll::Ready(answer.take().unwrap_or(Err(Failure::Token(Reason::TokenInvalid)))),
            Repr::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

fn pending(future: impl Future<Output = Answer> + Send + 'static) -> Authentication {
    Authentication::Pending(PendingAuthentication(Repr::Boxed(Box::pin(future))))
}

/// Credentials that cannot be read.
fn unreadable(e: TokenSourceError) -> Failure {
    let f = Failure::Credentials(e);
    tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused: unreadable credentials");
    f
}

/// A token of a kind the endpoint does not accept: no network call, no RSA work.
fn mismatch(kind: TokenType) -> Failure {
    let f = Failure::Token(Reason::TokenTypeMismatch);
    tracing::info!(target: "clerk::auth", reason = f.reason(), token_type = kind.as_str(), "request refused: token type not accepted");
    f
}

/// How often a misconfiguration is logged at `error`: once is enough to be seen, every request would flood the log.
const MISCONFIGURATION_LOG_INTERVAL_MS: u64 = 60_000;

/// A verification refused, or impossible: an outage when the keys could not be had, else a refused token.
fn refused(e: &VerifyError) -> Failure {
    if e.is_key_unavailable() {
        let f = Failure::KeysUnavailable(e.reason());
        tracing::warn!(target: "clerk::auth", reason = f.reason(), error = %e, "cannot verify: keys unavailable");
        f
    } else {
        let f = Failure::Token(e.reason());
        tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused");
        f
    }
}

impl Authenticator {
    /// `failure`, logged at `error` (at most once a minute) with what to fix when it is a misconfiguration.
    fn alarm(&self, failure: Failure) -> Failure {
        use std::sync::atomic::Ordering::Relaxed;
        if !failure.is_misconfiguration() {
            return failure;
        }
        let now = self.inner.verifier.clock().now_millis().max(1);
        let last = self.inner.misconfiguration_logged_at.load(Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= MISCONFIGURATION_LOG_INTERVAL_MS;
        if due && self.inner.misconfiguration_logged_at.compare_exchange(last, now, Relaxed, Relaxed).is_ok() {
            if failure == Failure::NoBackendApi {
                tracing::error!(target: "clerk::auth", reason = failure.reason(), "this request needs the Clerk Backend API (a user to load, an opaque machine token) and none is configured: set CLERK_SECRET_KEY (with clerk-api) or give the authenticator a backend_api");
            } else {
                tracing::error!(target: "clerk::auth", reason = failure.reason(), "the Clerk Backend API refused the secret key: set CLERK_SECRET_KEY to this instance's secret key (Clerk Dashboard, API keys); requests are answered 500 until it is fixed");
            }
        }
        failure
    }

    /// Authenticates a request by its headers. `Ok(None)`: no credentials at all (signed out).
    ///
    /// Session tokens come from `Authorization: Bearer`, else the session cookie; machine tokens from the header
    /// only (when session tokens are not accepted, cookies are not read at all). The header token is classified as
    /// Clerk's JS SDK does ([`TokenType::of`]); a kind not [accepted](super::AuthenticatorBuilder::accepts) is refused
    /// with `token-type-mismatch` before any network call or RSA work. Session tokens are verified (a token verified
    /// before is answered from the verified-token cache, at once); machine JWTs against the instance keys; opaque
    /// machine tokens by the Backend API, every time (never a positive cache), through the optional negative cache.
    ///
    /// The answer is [`Authentication::Ready`] when nothing needs waiting for; `.await` works in both cases.
    ///
    /// # Errors
    /// The answer's [`Failure`]: refused credentials (`401`) or an outage (`503`).
    pub fn authenticate<H: CredentialHeaders + ?Sized>(&self, headers: &H) -> Authentication {
        let sessions = self.accepts.contains(TokenType::SessionToken);
        let verifier = &self.inner.verifier;
        let mut hash = None;
        let (token, origin) = match raw_bearer(headers) {
            Err(e) => return Authentication::Ready(Err(unreadable(e))),
            Ok(Some(raw)) => {
                // Most requests: a session token verified before, found by its bytes before its text is checked.
                if sessions {
                    match verifier.probe(raw.bytes()) {
                        Probe::Hit(answer) => return self.session_answer(answer, TokenOrigin::Header),
                        Probe::Miss(h) => hash = h,
                    }
                }
                match raw.text() {
                    Ok(token) => (token, TokenOrigin::Header),
                    Err(e) => return Authentication::Ready(Err(unreadable(e))),
                }
            }
            Ok(None) if sessions => match verifier.extractor().cookie_token(headers) {
                Ok(Some(token)) => match verifier.probe(token.as_bytes()) {
                    Probe::Hit(answer) => return self.session_answer(answer, TokenOrigin::Cookie),
                    Probe::Miss(h) => {
                        hash = h;
                        (token, TokenOrigin::Cookie)
                    }
                },
                Ok(None) => return Authentication::Ready(Ok(None)),
                Err(e) => return Authentication::Ready(Err(unreadable(e))),
            },
            Ok(None) => return Authentication::Ready(Ok(None)),
        };
        self.decide(token, origin, hash)
    }

    /// A token not in the verified-token cache: opaque machine token, session token or machine JWT.
    fn decide(&self, token: &str, origin: TokenOrigin, hash: Option<u64>) -> Authentication {
        // Opaque machine tokens, by prefix (a cookie is never a machine credential: it takes the session path).
        if origin == TokenOrigin::Header
            && let Some(kind) = TokenType::from_prefix(token)
        {
            return self.opaque(token, kind);
        }
        if token.len() > self.inner.verifier.max_token_bytes() {
            // What the verification would answer, without copying the token for it.
            return Authentication::Ready(Err(refused(&crate::verify::oversized())));
        }
        let this = self.clone();
        let token = token.to_owned();
        // Session tokens: the session verifier refuses machine JWTs itself (`token-type-mismatch`, before any key or
        // RSA work), so the session path pays nothing for machine support.
        if origin == TokenOrigin::Cookie || self.accepts.contains(TokenType::SessionToken) {
            return pending(async move {
                match this.inner.verifier.verify_uncached(&token, hash).await {
                    Ok(auth) => this.session_answer(Ok(auth), origin).await,
                    Err(e)
                        if e.reason() == Reason::TokenTypeMismatch
                            && origin == TokenOrigin::Header
                            && this.accepts.accepts_machine() =>
                    {
                        this.machine_jwt(&token).await
                    }
                    Err(e) => Err(this.alarm(refused(&e))),
                }
            });
        }
        // An endpoint that takes no session tokens: machine JWTs only, the kind decided before any work.
        let kind = TokenType::of(&token);
        if !kind.is_machine() || !self.accepts.contains(kind) {
            return Authentication::Ready(Err(mismatch(kind)));
        }
        pending(async move { this.machine_jwt(&token).await })
    }

    /// A verified (or refused) session token, with its user when users are loaded: at once when the user cache
    /// holds the user.
    fn session_answer(&self, answer: Result<SessionAuth, VerifyError>, origin: TokenOrigin) -> Authentication {
        let auth = match answer {
            Ok(auth) => auth,
            Err(e) => return Authentication::Ready(Err(self.alarm(refused(&e)))),
        };
        if self.inner.fetch_user == FetchUser::Never {
            return Authentication::Ready(Ok(Some(Authenticated::session_of(auth, origin, None))));
        }
        if let Some(user) = self.cached_user(auth.user_id()) {
            return Authentication::Ready(Ok(Some(Authenticated::session_of(auth, origin, Some(user)))));
        }
        let this = self.clone();
        pending(async move {
            let user = this.user(auth.user_id()).await?;
            Ok(Some(Authenticated::session_of(auth, origin, Some(user))))
        })
    }

    /// A machine JWT (M2M JWT, OAuth `at+jwt`) against the instance keys.
    async fn machine_jwt(&self, token: &str) -> Answer {
        let kind = TokenType::of(token);
        if !kind.is_machine() || !self.accepts.contains(kind) {
            return Err(mismatch(kind));
        }
        match self.inner.verifier.verify_machine_jwt(token).await {
            Ok(machine) if self.accepts.contains(machine.token_type()) => {
                Ok(Some(Authenticated::machine_of(machine, TokenOrigin::Header)))
            }
            Ok(machine) => Err(mismatch(machine.token_type())),
            Err(e) => Err(self.alarm(refused(&e))),
        }
    }

    /// An opaque machine token: through the negative cache, then the Backend API.
    fn opaque(&self, token: &str, kind: TokenType) -> Authentication {
        if !self.accepts.contains(kind) {
            return Authentication::Ready(Err(mismatch(kind)));
        }
        if let Some(cache) = &self.inner.negative_cache
            && cache.contains(token)
        {
            let f = Failure::Token(Reason::TokenInvalid);
            tracing::info!(target: "clerk::auth", reason = f.reason(), token_type = kind.as_str(), "request refused: machine token refused recently");
            return Authentication::Ready(Err(f));
        }
        let Some(backend) = self.inner.backend.clone() else {
            tracing::warn!(target: "clerk::auth", token_type = kind.as_str(), "cannot verify an opaque machine token without the Backend API (set a secret key)");
            return Authentication::Ready(Err(self.alarm(Failure::NoBackendApi)));
        };
        let this = self.clone();
        let token = token.to_owned();
        pending(async move { this.verify_opaque(&*backend, &token, kind).await })
    }

    async fn verify_opaque(&self, backend: &dyn BackendApi, token: &str, kind: TokenType) -> Answer {
        let unavailable = |code: &'static str, error: &dyn fmt::Display| {
            tracing::warn!(target: "clerk::auth", reason = code, token_type = kind.as_str(), error = %error, "cannot verify a machine token: Backend API unavailable");
            Failure::MachineTokenUnavailable { code }
        };
        match backend.verify_machine_token(token).await {
            Ok(machine) if machine.token_type() == kind => {
                Ok(Some(Authenticated::machine_of(machine, TokenOrigin::Header)))
            }
            Ok(_) | Err(BackendError::UnexpectedResponse) => {
                Err(unavailable("unexpected-error", &"the Backend API answered an unexpected verification object"))
            }
            Err(BackendError::Refused | BackendError::InvalidId) => {
                if let Some(cache) = &self.inner.negative_cache {
                    cache.insert(token);
                }
                let f = Failure::Token(Reason::TokenInvalid);
                tracing::info!(target: "clerk::auth", reason = f.reason(), token_type = kind.as_str(), "request refused");
                Err(f)
            }
            Err(e @ BackendError::SecretKeyInvalid(_)) => Err(self.alarm(unavailable("secret-key-invalid", &e))),
            Err(e) => Err(unavailable("unexpected-error", &e)),
        }
    }

    fn cached_user(&self, user_id: &UserId) -> Option<BackendUser> {
        self.inner.user_cache.as_ref()?.get(user_id)
    }

    /// Loads a user through the Backend API (or the user cache): what [`FetchUser::Always`] does for every request,
    /// available on demand so that a framework adapter loads the user only for the routes that need it.
    ///
    /// # Errors
    /// [`Failure::UserNotFound`] when the user no longer exists; [`Failure::UserUnavailable`] when the Backend API
    /// cannot be reached; [`Failure::NoBackendApi`] when none is configured.
    pub async fn user(&self, user_id: &UserId) -> Result<BackendUser, Failure> {
        if let Some(user) = self.cached_user(user_id) {
            return Ok(user);
        }
        let Some(backend) = &self.inner.backend else {
            return Err(self.alarm(Failure::NoBackendApi));
        };
        match backend.load_user(user_id).await {
            Ok(user) => {
                if let Some(cache) = &self.inner.user_cache {
                    cache.insert(&user);
                }
                Ok(user)
            }
            Err(BackendError::Refused) => {
                tracing::info!(target: "clerk::auth", reason = "user-not-found", "request refused: the token's user no longer exists");
                Err(Failure::UserNotFound)
            }
            Err(BackendError::InvalidId) => Err(Failure::Token(Reason::TokenInvalid)),
            Err(e) => {
                tracing::warn!(target: "clerk::auth", error = %e, "cannot load the user from the Backend API");
                Err(Failure::UserUnavailable)
            }
        }
    }
}
