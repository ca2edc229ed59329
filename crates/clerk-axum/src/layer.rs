//! The tower trio: `ClerkLayer` → `Clerk<S>` → `ResponseFuture`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use clerk_api::plug::Authenticator;
use clerk_core::TokenTypes;
use http::StatusCode;

use crate::ClerkState;
use crate::rejection::ClerkRejection;

/// Whether the layer rejects requests that are not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject with `401`/`503` (the plug's behaviour). The default.
    #[default]
    Required,
    /// Never reject; record the outcome for the extractors (`Option<ClerkAuth>`, [`ClerkAuth`](crate::ClerkAuth),
    /// [`ClerkMachine`](crate::ClerkMachine)).
    Optional,
}

/// Authenticates every request with Clerk. Cheap to clone.
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
    /// A layer around an authenticator (which decides keys, `fetch_user`, the user cache and the accepted token
    /// types).
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, mode: Mode::Required, unavailable: StatusCode::SERVICE_UNAVAILABLE }
    }

    /// A required-mode layer configured from the environment: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES` (comma-separated). Users are not fetched
    /// for every request; [`ClerkUser`](crate::ClerkUser) fetches on demand when a secret key is set. Session tokens
    /// only; opaque machine tokens (for [`accepting`](Self::accepting)) need `CLERK_SECRET_KEY`.
    ///
    /// # Errors
    /// When a variable is invalid or no key source is configured.
    pub fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let verifier = clerk_core::Verifier::from_env()?.build()?;
        let mut builder = Authenticator::builder().verifier(verifier);
        if std::env::var("CLERK_SECRET_KEY").is_ok_and(|v| !v.trim().is_empty()) {
            builder = builder.client(clerk_api::Client::from_env()?.build()?);
        }
        Ok(Self::new(builder.build()?))
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
    /// `tracing` event) before any network call or RSA work. The copy shares the authenticator's verifier, client and
    /// caches ([`Authenticator::accepting`]).
    ///
    /// Machine tokens are read from the `Authorization` header only; when session tokens are not accepted, cookies
    /// are not read at all. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are verified by the Backend API on every
    /// request (never cached while valid), so the authenticator needs a Backend API client; JWT forms are verified
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

/// What the layer records in each request's extensions, for the extractors and guards: one value, so a request
/// costs one extension insert.
#[derive(Debug, Clone)]
pub(crate) struct ClerkContext {
    pub(crate) state: ClerkState,
    pub(crate) shared: Arc<Shared>,
}

impl ClerkContext {
    /// The configured outage status.
    pub(crate) fn unavailable(&self) -> StatusCode {
        self.shared.unavailable
    }
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

pin_project_lite::pin_project! {
    /// The future of [`Clerk`]'s (and [`RequireLayer`](crate::RequireLayer)'s) responses: the inner service's own
    /// future when the request was decided at once (a session token the verified-token cache holds: most requests),
    /// a ready response for a refusal decided at once, else a boxed future (keys or a user to load first).
    pub struct ResponseFuture<F, E> {
        #[pin]
        kind: Kind<F, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, E> {
        Inner { #[pin] future: F },
        Ready { #[pin] future: std::future::Ready<Result<Response, E>> },
        Boxed { future: Pin<Box<dyn Future<Output = Result<Response, E>> + Send>> },
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(crate) fn inner(future: F) -> Self {
        Self { kind: Kind::Inner { future } }
    }

    pub(crate) fn ready(response: Response) -> Self {
        Self { kind: Kind::Ready { future: std::future::ready(Ok(response)) } }
    }

    pub(crate) fn boxed(future: impl Future<Output = Result<Response, E>> + Send + 'static) -> Self {
        Self { kind: Kind::Boxed { future: Box::pin(future) } }
    }
}

impl<F, E> fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Ready { future } => future.poll(cx),
            KindProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S> tower::Service<Request> for Clerk<S>
where
    S: tower::Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // Most requests: a token verified before, decided here; the inner service's future is this one's. The
        // readied service is called right here, so it needs no clone (a refusal leaves it ready for the next call).
        if let Some(done) = self.shared.authenticator.authenticate_cached(req.headers()) {
            let state = match done {
                Ok(a) => ClerkState::SignedIn(a),
                Err(f) => ClerkState::Failed(f),
            };
            if let Some(refusal) = refusal(&self.shared, &state) {
                return ResponseFuture::ready(refusal);
            }
            req.extensions_mut().insert(ClerkContext { state, shared: Arc::clone(&self.shared) });
            return ResponseFuture::inner(self.inner.call(req));
        }
        // The readied service handles this request from the future; a fresh clone takes its place (tower's usual
        // pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // The future needs the authenticator, the mode and the outage status: one reference count, which then moves
        // into the request's extensions (no further clone).
        let shared = Arc::clone(&self.shared);
        ResponseFuture::boxed(async move {
            let state = match shared.authenticator.authenticate(req.headers()).await {
                Ok(Some(a)) => ClerkState::SignedIn(a),
                Ok(None) => ClerkState::SignedOut,
                Err(f) => ClerkState::Failed(f),
            };
            if let Some(refusal) = refusal(&shared, &state) {
                return Ok(refusal);
            }
            req.extensions_mut().insert(ClerkContext { state, shared });
            inner.call(req).await
        })
    }
}

/// The response of a request the layer refuses (required mode, not signed in); `None`: the request goes on.
fn refusal(shared: &Shared, state: &ClerkState) -> Option<Response> {
    if shared.mode == Mode::Optional {
        return None;
    }
    match state {
        ClerkState::SignedIn(_) => None,
        ClerkState::SignedOut => Some(ClerkRejection::signed_out().into_response()),
        ClerkState::Failed(f) => Some(ClerkRejection::from_failure(f, shared.unavailable).into_response()),
    }
}
