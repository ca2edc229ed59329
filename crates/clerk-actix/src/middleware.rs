//! The actix pair: `ClerkMiddleware` (the `Transform` factory) → `ClerkMiddlewareService<S>`.

use std::fmt;
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage as _, ResponseError as _};
use clerk_api::plug::Authenticator;
use clerk_core::TokenTypes;

use crate::error::ClerkError;
use crate::{ClerkState, LocalBoxFuture, Outcome, headers};

/// Whether [`ClerkMiddleware`] rejects requests that are not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reject with `401`/`503` (the plug's behaviour). The default.
    #[default]
    Required,
    /// Never reject; record the outcome in the request's extensions for the extractors
    /// ([`OptionalClerkAuth`](crate::OptionalClerkAuth), [`ClerkAuth`](crate::ClerkAuth), …) and guards.
    Optional,
}

/// Authenticates every request with Clerk: `App::new().wrap(ClerkMiddleware::new(authenticator))`, or on a
/// `web::scope`/`web::resource`. Cheap to clone (an `HttpServer` factory clones it once per worker).
#[derive(Clone)]
#[must_use]
pub struct ClerkMiddleware {
    pub(crate) authenticator: Authenticator,
    mode: Mode,
    pub(crate) unavailable: StatusCode,
}

impl fmt::Debug for ClerkMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkMiddleware")
            .field("authenticator", &self.authenticator)
            .field("mode", &self.mode)
            .field("unavailable", &self.unavailable)
            .finish()
    }
}

impl ClerkMiddleware {
    /// A required-mode middleware around an authenticator (which decides keys, `fetch_user` and the user cache).
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, mode: Mode::Required, unavailable: StatusCode::SERVICE_UNAVAILABLE }
    }

    /// A required-mode middleware configured from the environment: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
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

    /// Accepts these token types instead of the authenticator's (by default [`TokenTypes::SESSION`]): a copy of the
    /// authenticator sharing its verifier, client and caches ([`Authenticator::accepting`]). Wrap it on the routes
    /// that take machine tokens (API keys, M2M tokens, OAuth access tokens), and read them with
    /// [`ClerkMachine`](crate::ClerkMachine):
    ///
    /// ```
    /// use actix_web::{App, web};
    /// use clerk_actix::{ClerkMachine, ClerkMiddleware, TokenTypes};
    ///
    /// async fn whoami(machine: ClerkMachine) -> String {
    ///     format!("{} {}", machine.token_type(), machine.subject())
    /// }
    ///
    /// fn routes(cfg: &mut web::ServiceConfig, clerk: &ClerkMiddleware) {
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
    /// API on every request (never cached), so the authenticator needs a client.
    pub fn accepting(mut self, types: TokenTypes) -> Self {
        self.authenticator = self.authenticator.accepting(types);
        self
    }

    /// Shorthand for `.accepting(TokenTypes::MACHINE)`: API keys, M2M tokens and OAuth access tokens, no session
    /// tokens. Pair it with the [`ClerkMachine`](crate::ClerkMachine) extractor.
    pub fn machine(self) -> Self {
        self.accepting(TokenTypes::MACHINE)
    }

    /// The authenticator.
    #[must_use]
    pub const fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClerkMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ClerkMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClerkMiddlewareService { service: Rc::new(service), config: Rc::new(self.clone()) }))
    }
}

/// The service [`ClerkMiddleware`] wraps around yours.
pub struct ClerkMiddlewareService<S> {
    service: Rc<S>,
    config: Rc<ClerkMiddleware>,
}

impl<S> fmt::Debug for ClerkMiddlewareService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClerkMiddlewareService").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for ClerkMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Per request: two reference counts, one box, one extension inserted; the headers are read in place.
        let service = Rc::clone(&self.service);
        let config = Rc::clone(&self.config);
        Box::pin(async move {
            let outcome = config.authenticator.authenticate(&headers::Credentials(req.headers())).await;
            let outcome = match outcome {
                Ok(Some(a)) => Outcome::SignedIn(a),
                Ok(None) => Outcome::SignedOut,
                Err(f) => Outcome::Failed(f),
            };
            if config.mode == Mode::Required {
                let refusal = match &outcome {
                    Outcome::SignedIn(_) => None,
                    Outcome::SignedOut => Some(ClerkError::signed_out()),
                    Outcome::Failed(f) => Some(ClerkError::from_failure(f, config.unavailable)),
                };
                if let Some(e) = refusal {
                    return Ok(req.into_response(e.error_response()).map_into_right_body());
                }
            }
            req.extensions_mut().insert(ClerkState { outcome, config });
            service.call(req).await.map(ServiceResponse::map_into_left_body)
        })
    }
}
