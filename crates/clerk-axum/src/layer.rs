//! The tower trio: `ClerkLayer` → `Clerk<S>` → `ResponseFuture`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use clerk_api::plug::Authenticator;
use http::StatusCode;

use crate::ClerkState;
use crate::rejection::ClerkRejection;

/// Whether the layer rejects requests that are not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject with `401`/`503` (the plug's behaviour). The default.
    #[default]
    Required,
    /// Never reject; record the outcome for the extractors (`Option<ClerkAuth>`, [`ClerkAuth`](crate::ClerkAuth)).
    Optional,
}

/// Authenticates every request with Clerk. Cheap to clone.
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
    /// A layer around an authenticator (which decides keys, `fetch_user` and the user cache).
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, mode: Mode::Required, unavailable: StatusCode::SERVICE_UNAVAILABLE }
    }

    /// A required-mode layer configured from the environment: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES` (comma-separated). Users are not fetched
    /// for every request; [`ClerkUser`](crate::ClerkUser) fetches on demand when a secret key is set.
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

    /// The status for outages (keys or user cannot be loaded). Default `503 Service Unavailable`.
    pub const fn unavailable_status(mut self, status: StatusCode) -> Self {
        self.unavailable = status;
        self
    }

    /// The authenticator.
    #[must_use]
    pub const fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }
}

impl<S> tower::Layer<S> for ClerkLayer {
    type Service = Clerk<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Clerk { inner, layer: self.clone() }
    }
}

/// The service [`ClerkLayer`] wraps around yours.
#[derive(Clone)]
pub struct Clerk<S> {
    inner: S,
    layer: ClerkLayer,
}

impl<S> fmt::Debug for Clerk<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clerk").field("layer", &self.layer).finish_non_exhaustive()
    }
}

/// The future of [`Clerk`]'s responses.
pub struct ResponseFuture<E> {
    inner: Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>,
}

impl<E> fmt::Debug for ResponseFuture<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<E> Future for ResponseFuture<E> {
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
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
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // The readied service handles this request; a fresh clone takes its place (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        ResponseFuture {
            inner: Box::pin(async move {
                let outcome = layer.authenticator.authenticate(req.headers()).await;
                let state = match outcome {
                    Ok(Some(a)) => ClerkState::SignedIn(a),
                    Ok(None) => ClerkState::SignedOut,
                    Err(f) => ClerkState::Failed(f),
                };
                if layer.mode == Mode::Required {
                    match &state {
                        ClerkState::SignedIn(_) => {}
                        ClerkState::SignedOut => return Ok(ClerkRejection::signed_out().into_response()),
                        ClerkState::Failed(f) => {
                            return Ok(ClerkRejection::from_failure(f, layer.unavailable).into_response());
                        }
                    }
                }
                req.extensions_mut().insert(state);
                req.extensions_mut().insert(layer.authenticator.clone());
                req.extensions_mut().insert(UnavailableStatus(layer.unavailable));
                inner.call(req).await
            }),
        }
    }
}

pub(crate) fn boxed<E, F>(fut: F) -> ResponseFuture<E>
where
    F: Future<Output = Result<Response, E>> + Send + 'static,
{
    ResponseFuture { inner: Box::pin(fut) }
}

/// The configured outage status, for extractors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnavailableStatus(pub(crate) StatusCode);
