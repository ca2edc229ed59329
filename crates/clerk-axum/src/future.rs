//! [`ResponseFuture`]: the future of [`Clerk`](crate::Clerk) and [`Require`](crate::Require).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use clerk_core::{Outcome, PendingAuthentication};
use http::{Request, Response};

use crate::body::RefusalBody;
use crate::layer::{ClerkContext, Shared};

pin_project_lite::pin_project! {
    /// The future of [`Clerk`](crate::Clerk)'s and [`Require`](crate::Require)'s responses: the inner service's own
    /// future when the request was decided at once (a session token the verified-token cache holds: most requests),
    /// a ready response for a refusal, else the authentication to wait for (keys or a user to load), then the inner
    /// service's future.
    pub struct ResponseFuture<F, S, ReqBody, ResBody> {
        #[pin]
        state: State<F, S, ReqBody, ResBody>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, S, ReqBody, ResBody> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response<ResBody>> },
        Authenticating { authentication: PendingAuthentication, call: Option<Call<S, ReqBody>> },
    }
}

/// What calling the inner service takes once the authentication is known.
struct Call<S, ReqBody> {
    service: S,
    request: Request<ReqBody>,
    shared: Arc<Shared>,
}

impl<F, S, ReqBody, ResBody> ResponseFuture<F, S, ReqBody, ResBody> {
    pub(crate) const fn inner(future: F) -> Self {
        Self { state: State::Inner { future } }
    }

    pub(crate) const fn refused(response: Response<ResBody>) -> Self {
        Self { state: State::Refused { response: Some(response) } }
    }

    pub(crate) const fn authenticating(
        authentication: PendingAuthentication,
        service: S,
        request: Request<ReqBody>,
        shared: Arc<Shared>,
    ) -> Self {
        Self { state: State::Authenticating { authentication, call: Some(Call { service, request, shared }) } }
    }
}

impl<F, S, ReqBody, ResBody> fmt::Debug for ResponseFuture<F, S, ReqBody, ResBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, S, ReqBody, ResBody, E> Future for ResponseFuture<F, S, ReqBody, ResBody>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>, Error = E, Future = F>,
    ResBody: RefusalBody,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Inner { future } => return future.poll(cx),
                StateProj::Refused { response } => {
                    return Poll::Ready(Ok(response.take().unwrap_or_else(crate::layer::polled_after_completion)));
                }
                StateProj::Authenticating { authentication, call } => {
                    let answer = ready!(Pin::new(authentication).poll(cx));
                    let Some(Call { mut service, mut request, shared }) = call.take() else {
                        return Poll::Ready(Ok(crate::layer::polled_after_completion()));
                    };
                    let outcome = Outcome::from(answer);
                    match shared.refusal(&outcome) {
                        Some(response) => State::Refused { response: Some(response) },
                        None => {
                            request.extensions_mut().insert(ClerkContext { outcome, shared });
                            State::Inner { future: service.call(request) }
                        }
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}
