//! Per-route requirements (`clerk_core::Requirement`) as an actix middleware → `403`: [`Require`] (the
//! `Transform`) → [`RequireMiddleware<S>`].

use std::fmt;
use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage as _, ResponseError as _};
use clerk_core::{Outcome, Refusal, Requirement, Reverification};

use crate::ClerkState;
use crate::middleware::ResponseFuture;
use crate::rejection::ClerkRejection;

/// A middleware that lets a request through only when the signed-in session meets the requirement: signed out or
/// refused → `401`, an outage → `503` (the status [`Clerk`](crate::Clerk) was given), signed in without it → `403`
/// (a missing reverification with the JSON body Clerk's frontends read). Requirements combine with
/// [`Requirement::all`] and [`Requirement::any`]. Wrap a `web::resource` or `web::scope` behind `Clerk`:
///
/// ```
/// use actix_web::{App, web};
/// use clerk_actix::Require;
///
/// let admin = web::resource("/admin").wrap(Require::role("org:admin")).route(web::get().to(|| async { "admin" }));
/// # let _ = App::new().service(admin);
/// ```
///
/// Requirements are about sessions. A request authenticated by a machine token (on a route whose middleware
/// [accepts](crate::Clerk::accepting) them) has no session, so it never meets one: `403`, as a session
/// without the requirement (for [`Require::reverification`], the same reverification body). Check a machine's
/// scopes in the handler instead ([`ClerkMachine`](crate::ClerkMachine), `MachineAuth::has_scope`).
#[derive(Debug, Clone)]
#[must_use]
pub struct Require {
    requirement: Requirement,
}

impl Require {
    /// Requires `requirement`.
    pub const fn new(requirement: Requirement) -> Self {
        Self { requirement }
    }

    /// Requires an organization role.
    pub fn role(role: impl Into<String>) -> Self {
        Self::new(Requirement::role(role))
    }

    /// Requires an organization permission.
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::new(Requirement::permission(permission))
    }

    /// Requires a feature.
    pub fn feature(feature: impl Into<String>) -> Self {
        Self::new(Requirement::feature(feature))
    }

    /// Requires a plan.
    pub fn plan(plan: impl Into<String>) -> Self {
        Self::new(Requirement::plan(plan))
    }

    /// Requires a recent verification.
    pub const fn reverification(r: Reverification) -> Self {
        Self::new(Requirement::Reverification(r))
    }

    /// The requirement.
    #[must_use]
    pub const fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

impl<S, B> Transform<S, ServiceRequest> for Require
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RequireMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireMiddleware { service, requirement: self.requirement.clone() }))
    }
}

/// The service [`Require`] wraps around yours.
pub struct RequireMiddleware<S> {
    service: S,
    requirement: Requirement,
}

impl<S> fmt::Debug for RequireMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireMiddleware").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

/// The refusal for a request under `requirement`, `None` when it goes on.
fn verdict(requirement: &Requirement, state: Option<&ClerkState>) -> Option<ClerkRejection> {
    let Some(state) = state else { return Some(ClerkRejection::middleware_missing()) };
    match &state.outcome {
        Outcome::SignedOut => Some(ClerkRejection::signed_out()),
        Outcome::Failed(f) => Some(ClerkRejection::from_failure(f, state.config.unavailable)),
        Outcome::SignedIn(a) if requirement.is_met(a) => None,
        Outcome::SignedIn(a) => {
            // A machine token has no session, so it meets no requirement: 403, like a session without it.
            tracing::info!(target: "clerk::auth", requirement = ?requirement, token_type = a.token_type().as_str(), "request forbidden by a route requirement");
            Some(ClerkRejection::new(Refusal::unmet(requirement, a), None))
        }
    }
}

impl<S, B> Service<ServiceRequest> for RequireMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let refused = verdict(&self.requirement, req.extensions().get::<ClerkState>());
        match refused {
            None => ResponseFuture::inner(self.service.call(req)),
            Some(e) => ResponseFuture::ready(req.into_response(e.error_response()).map_into_right_body()),
        }
    }
}
