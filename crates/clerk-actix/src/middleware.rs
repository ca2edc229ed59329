//! The actix pair, named as actix names its own (`Logger` → `LoggerMiddleware<S>`): [`Clerk`] (the `Transform`)
//! → [`ClerkMiddleware<S>`] (the service), and its response future.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage as _, ResponseError as _};
use clerk_core::{Authentication, Authenticator, Mode, Outcome, TokenTypes};

use crate::rejection::{ClerkRejection, http_status};
use crate::{ClerkState, LocalBoxFuture, headers};

/// Authenticates every request with Clerk: `App::new().wrap(Clerk::new(authenticator))`, or on a
/// `web::scope`/`web::resource`. Cheap to clone (an `HttpServer` factory clones it once per worker).
#[derive(Clone)]
#[must_use]
pub struct Clerk {
    pub(crate) authenticator: Authenticator,
    mode: Mode,
    pub(crate) unavailable: StatusCode,
}

impl fmt::Debug for Clerk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clerk")
            .field("authenticator", &self.authenticator)
            .field("mode", &self.mode)
            .field("unavailable", &self.unavailable)
            .finish()
    }
}

impl Clerk {
    /// A required-mode middleware around an authenticator (which decides keys, `fetch_user`, the user cache and the
    /// accepted token types).
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, mode: Mode::Required, unavailable: StatusCode::SERVICE_UNAVAILABLE }
    }

    /// A required-mode middleware configured from the environment: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES` (comma-separated). Users are not loaded
    /// for every request; `ClerkUser` loads them on demand when a secret key is set (feature `api`).
    ///
    /// # Errors
    /// When a variable is invalid or no key source is configured.
    pub fn from_env() -> Result<Self, clerk_core::BuildError> {
        #[cfg(feature = "api")]
        let authenticator = clerk_api::authenticator_from_env()?;
        #[cfg(not(feature = "api"))]
        let authenticator = Authenticator::from_env()?;
        Ok(Self::new(authenticator))
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

    /// Accepts these token types instead of the authenticator's (by default [`TokenTypes::SESSION`]): a copy of the
    /// authenticator sharing its verifier, Backend API and caches ([`Authenticator::accepting`]). Wrap it on the
    /// routes that take machine tokens (API keys, M2M tokens, OAuth access tokens), and read them with
    /// [`ClerkMachine`](crate::ClerkMachine):
    ///
    /// ```
    /// use actix_web::{App, web};
    /// use clerk_actix::{Clerk, ClerkMachine, TokenTypes};
    ///
    /// async fn whoami(machine: ClerkMachine) -> String {
    ///     format!("{} {}", machine.token_type(), machine.subject())
    /// }
    ///
    /// fn routes(cfg: &mut web::ServiceConfig, clerk: &Clerk) {
    ///     cfg.service(
    ///         web::resource("/api/whoami")
    ///             .wrap(clerk.clone().accepting(TokenTypes::MACHINE))
    ///             .route(web::get().to(whoami)),
    ///     );
    /// }
    /// ```
    ///
    /// A token of a kind not accepted is refused (`401`, reason `token-type-mismatch`) before any network call or
    /// RSA work. Machine tokens are read from the `Authorization` header only; when session tokens are not
    /// accepted, cookies are not read at all. Opaque tokens (`ak_…`, `mt_…`, `oat_…`) are verified by the Backend
    /// API on every request (never cached), so the authenticator needs the Backend API.
    pub fn accepting(mut self, types: TokenTypes) -> Self {
        self.authenticator = self.authenticator.accepting(types);
        self
    }

    /// Shorthand for `.accepting(TokenTypes::MACHINE)`: API keys, M2M tokens and OAuth access tokens, no session
    /// tokens. Pair it with the [`ClerkMachine`](crate::ClerkMachine) extractor.
    pub fn machine(self) -> Self {
        self.accepting(TokenTypes::MACHINE)
    }

    /// The start-up check: loads the instance's keys now and, when they cannot be loaded, answers an error naming
    /// the setting to fix (a wrong `CLERK_SECRET_KEY`, an unreachable `CLERK_API_URL`, …), so that a misconfigured
    /// app stops at start-up instead of answering every signed-in request with an error.
    ///
    /// ```no_run
    /// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
    /// let clerk = clerk_actix::Clerk::from_env()?;
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

    /// The token types this middleware accepts.
    #[must_use]
    pub const fn accepted_types(&self) -> TokenTypes {
        self.authenticator.accepted_types()
    }

    /// The refusal of a request under this middleware's mode; `None`: the request goes on.
    fn refusal(&self, outcome: &Outcome) -> Option<ClerkRejection> {
        let refusal = outcome.refusal(self.mode, http_status(self.unavailable))?;
        Some(ClerkRejection::new(refusal, outcome.failure().cloned()))
    }
}

impl<S, B> Transform<S, ServiceRequest> for Clerk
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ClerkMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClerkMiddleware { service: Rc::new(service), config: Rc::new(self.clone()) }))
    }
}

/// The service [`Clerk`] wraps around yours.
pub struct ClerkMiddleware<S> {
    service: Rc<S>,
    config: Rc<Clerk>,
}

impl<S> fmt::Debug for ClerkMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkMiddleware").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for ClerkMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let authentication = self.config.authenticator.authenticate(&headers::Credentials(req.headers()));
        match authentication {
            // Most requests: decided here (a token verified before); the inner service's future is this one's.
            Authentication::Ready(answer) => match decide(req, answer.into(), &self.config) {
                Ok(req) => ResponseFuture::inner(self.service.call(req)),
                Err(refused) => ResponseFuture::ready(refused),
            },
            Authentication::Pending(pending) => {
                let (service, config) = (Rc::clone(&self.service), Rc::clone(&self.config));
                ResponseFuture::boxed(Box::pin(async move {
                    match decide(req, pending.await.into(), &config) {
                        Ok(req) => service.call(req).await.map(ServiceResponse::map_into_left_body),
                        Err(refused) => Ok(refused),
                    }
                }))
            }
        }
    }
}

/// The request with the outcome recorded for the extractors and guards, or its refusal.
// Either side is moved once, straight into the caller's future: boxing the refusal would cost an allocation.
#[allow(clippy::result_large_err)]
fn decide<B>(
    req: ServiceRequest,
    outcome: Outcome,
    config: &Rc<Clerk>,
) -> Result<ServiceRequest, ServiceResponse<EitherBody<B>>> {
    if let Some(rejection) = config.refusal(&outcome) {
        return Err(req.into_response(rejection.error_response()).map_into_right_body());
    }
    req.extensions_mut().insert(ClerkState { outcome, config: Rc::clone(config) });
    Ok(req)
}

pin_project_lite::pin_project! {
    /// The future of [`ClerkMiddleware`]'s and [`RequireMiddleware`](crate::RequireMiddleware)'s responses: the
    /// inner service's own future when the request was decided at once (most requests), a ready refusal, or a boxed
    /// future (keys or a user to load first).
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] future: F },
        Ready { response: Option<ServiceResponse<EitherBody<B>>> },
        Boxed { future: LocalBoxFuture<Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) const fn inner(future: F) -> Self {
        Self { state: State::Inner { future } }
    }

    pub(crate) const fn ready(response: ServiceResponse<EitherBody<B>>) -> Self {
        Self { state: State::Ready { response: Some(response) } }
    }

    pub(crate) const fn boxed(
        future: LocalBoxFuture<Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>,
    ) -> Self {
        Self { state: State::Boxed { future } }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx).map_ok(ServiceResponse::map_into_left_body),
            StateProj::Ready { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Ready(Err(actix_web::error::ErrorInternalServerError("polled after completion"))),
            },
            StateProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}
