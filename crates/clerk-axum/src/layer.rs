//! The tower trio: `ClerkLayer` → `Clerk<S>` → [`ResponseFuture`], generic over `http::Request<B>`.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use clerk_core::{Authentication, Authenticator, Mode, Outcome, Refusal, TokenTypes};
use http::{Request, Response, StatusCode};

use crate::body::RefusalBody;
use crate::future::ResponseFuture;

/// Authenticates every request with Clerk. Cheap to clone.
///
/// A tower layer over any `http` service: an axum `Router` (`Router::layer`, `route_layer`), a tonic gRPC server
/// (`Server::builder().layer(…)`), or a bare hyper service; the response body only has to be a [`RefusalBody`].
///
/// By default it accepts session tokens only; [`accepting`](Self::accepting) (or [`machine`](Self::machine)) makes a
/// copy for routes that take machine tokens (API keys, M2M tokens, OAuth access tokens), sharing the keys and caches.
#[derive(Clone)]
#[must_use]
pub struct ClerkLayer {
    authenticator: Authenticator,
    mode: Mode,
    unavailable: StatusCode,
}

impl fmt::Debug for ClerkLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkLayer")
            .field("authenticator", &self.authenticator)
            .field("mode", &self.mode)
            .field("unavailable", &self.unavailable)
            .finish()
    }
}

impl ClerkLayer {
    /// A required-mode layer around an authenticator (which decides keys, `fetch_user`, the user cache and the
    /// accepted token types).
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, mode: Mode::Required, unavailable: StatusCode::SERVICE_UNAVAILABLE }
    }

    /// A required-mode layer configured from the environment: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES` (comma-separated). Users are not loaded
    /// for every request; `ClerkUser` loads them on demand when a secret key is set (feature
    /// `api`). Session tokens only; opaque machine tokens (for [`accepting`](Self::accepting)) need
    /// `CLERK_SECRET_KEY` and the `api` feature.
    ///
    /// # Errors
    /// When a variable is invalid or no key source is configured.
    pub fn from_env() -> Result<Self, clerk_core::BuildError> {
        Ok(Self::new(crate::env::authenticator()?))
    }

    /// Required or optional. Default [`Mode::Required`].
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Shorthand for `.mode(Mode::Optional)`.
    pub const fn optional(self) -> Self {
        self.mode(Mode::Optional)
    }

    /// The token types this layer accepts, instead of the authenticator's (by default
    /// [`TokenTypes::SESSION`]). A token of another kind is refused (`401`, reason `token-type-mismatch` in the
    /// `tracing` event) before any network call or RSA work. The copy shares the authenticator's verifier, Backend
    /// API and caches ([`Authenticator::accepting`]).
    ///
    /// Machine tokens are read from the `Authorization` header only; when session tokens are not accepted, cookies
    /// are not read at all. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are verified by the Backend API on every
    /// request (never cached while valid), so the authenticator needs the Backend API; JWT forms are verified
    /// locally.
    ///
    /// ```
    /// # fn f(clerk: clerk_axum::ClerkLayer) {
    /// use clerk_axum::{TokenType, TokenTypes};
    ///
    /// let api = clerk.clone().accepting(TokenTypes::only(TokenType::ApiKey).with(TokenType::M2mToken));
    /// let anything = clerk.accepting(TokenTypes::ALL);
    /// # let _ = (api, anything); }
    /// ```
    pub fn accepting(mut self, types: TokenTypes) -> Self {
        self.authenticator = self.authenticator.accepting(types);
        self
    }

    /// Shorthand for `.accepting(TokenTypes::MACHINE)`: API keys, M2M tokens and OAuth access tokens, no session
    /// tokens. Pair it with the [`ClerkMachine`](crate::ClerkMachine) extractor.
    pub fn machine(self) -> Self {
        self.accepting(TokenTypes::MACHINE)
    }

    /// The status for outages (keys or user cannot be loaded, the Backend API cannot verify an opaque machine
    /// token). Default `503 Service Unavailable`.
    pub const fn unavailable_status(mut self, status: StatusCode) -> Self {
        self.unavailable = status;
        self
    }

    /// The start-up check: loads the instance's keys now and, when they cannot be loaded, answers an error naming
    /// the setting to fix (a wrong `CLERK_SECRET_KEY`, an unreachable `CLERK_API_URL`, …), so that a misconfigured
    /// app stops at start-up instead of answering every signed-in request with an error.
    ///
    /// ```no_run
    /// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
    /// let clerk = clerk_axum::ClerkLayer::from_env()?;
    /// clerk.check().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`CheckError`](clerk_core::CheckError).
    pub async fn check(&self) -> Result<(), clerk_core::CheckError> {
        self.authenticator.check().await
    }

    /// The authenticator.
    #[must_use]
    pub const fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The token types this layer accepts.
    #[must_use]
    pub const fn accepted_types(&self) -> TokenTypes {
        self.authenticator.accepted_types()
    }
}

impl<S> tower::Layer<S> for ClerkLayer {
    type Service = Clerk<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let shared =
            Shared { authenticator: self.authenticator.clone(), mode: self.mode, unavailable: self.unavailable };
        Clerk { inner, shared: Arc::new(shared) }
    }
}

/// What a [`Clerk`] service and its requests share: one reference count per request.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) authenticator: Authenticator,
    mode: Mode,
    pub(crate) unavailable: StatusCode,
}

impl Shared {
    /// The response of a request the layer refuses (required mode, not signed in); `None`: the request goes on.
    pub(crate) fn refusal<B: RefusalBody>(&self, outcome: &Outcome) -> Option<Response<B>> {
        outcome.refusal(self.mode, self.unavailable).map(B::refusal_response)
    }
}

/// What the layer records in each request's extensions, for the extractors and guards: one value, so a request
/// costs one extension insert.
#[derive(Debug, Clone)]
pub(crate) struct ClerkContext {
    pub(crate) outcome: Outcome,
    pub(crate) shared: Arc<Shared>,
}

impl ClerkContext {
    /// The configured outage status.
    pub(crate) fn unavailable(&self) -> StatusCode {
        self.shared.unavailable
    }
}

/// The answer of a future polled again after it completed (a bug in the caller): a `500`, not a panic.
pub(crate) fn polled_after_completion<B: RefusalBody>() -> Response<B> {
    B::refusal_response(Refusal::layer_missing())
}

/// The service [`ClerkLayer`] wraps around yours.
#[derive(Clone)]
pub struct Clerk<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> fmt::Debug for Clerk<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clerk")
            .field("authenticator", &self.shared.authenticator)
            .field("mode", &self.shared.mode)
            .field("unavailable", &self.shared.unavailable)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for Clerk<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: RefusalBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        match self.shared.authenticator.authenticate(req.headers()) {
            // Most requests: decided here (a token verified before); the inner service's future is this one's. The
            // readied service is called right here, so it needs no clone (a refusal leaves it ready for the next
            // call).
            Authentication::Ready(answer) => {
                let outcome = Outcome::from(answer);
                if let Some(refusal) = self.shared.refusal(&outcome) {
                    return ResponseFuture::refused(refusal);
                }
                req.extensions_mut().insert(ClerkContext { outcome, shared: Arc::clone(&self.shared) });
                ResponseFuture::inner(self.inner.call(req))
            }
            // The readied service handles this request once authenticated; a fresh clone takes its place (tower's
            // usual pattern).
            Authentication::Pending(authentication) => {
                let clone = self.inner.clone();
                let service = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::authenticating(authentication, service, req, Arc::clone(&self.shared))
            }
        }
    }
}
