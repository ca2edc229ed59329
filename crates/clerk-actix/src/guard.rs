//! Per-route requirements built on `SessionAuth::has` → `403`.

use std::fmt;
use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage as _, ResponseError as _};
use clerk_core::{Check, Reverification};

use crate::error::ClerkError;
use crate::{ClerkState, LocalBoxFuture, Outcome};

/// One requirement, owned (so it can live in a middleware).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// The member's role in the active organization (`org:admin` or `admin`).
    Role(String),
    /// A permission in the active organization.
    Permission(String),
    /// A feature (`o:`/`u:` scoped or not).
    Feature(String),
    /// A plan (`o:`/`u:` scoped or not).
    Plan(String),
    /// A recent enough verification.
    Reverification(Reverification),
}

impl Requirement {
    fn check(&self) -> Check<'_> {
        match self {
            Self::Role(r) => Check::Role(r),
            Self::Permission(p) => Check::Permission(p),
            Self::Feature(f) => Check::Feature(f),
            Self::Plan(p) => Check::Plan(p),
            Self::Reverification(r) => Check::Reverification(*r),
        }
    }
}

/// A middleware that lets a request through only when the signed-in session meets the requirement: signed out or
/// refused → `401`, an outage → `503` (the status [`ClerkMiddleware`](crate::ClerkMiddleware) was given), signed in
/// without it → `403` (a failed reverification with the JSON body Clerk's frontends read). Wrap a `web::resource`
/// or `web::scope` behind `ClerkMiddleware`:
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
/// [accepts](crate::ClerkMiddleware::accepting) them) has no session, so it never meets one: `403`, as a session
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
        Self::new(Requirement::Role(role.into()))
    }

    /// Requires an organization permission.
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::new(Requirement::Permission(permission.into()))
    }

    /// Requires a feature.
    pub fn feature(feature: impl Into<String>) -> Self {
        Self::new(Requirement::Feature(feature.into()))
    }

    /// Requires a plan.
    pub fn plan(plan: impl Into<String>) -> Self {
        Self::new(Requirement::Plan(plan.into()))
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
    type Transform = RequireService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireService { service, requirement: self.requirement.clone() }))
    }
}

/// The service [`Require`] wraps around yours.
pub struct RequireService<S> {
    service: S,
    requirement: Requirement,
}

impl<S> fmt::Debug for RequireService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireService").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for RequireService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let verdict = {
            let ext = req.extensions();
            match ext.get::<ClerkState>().map(|s| (&s.outcome, s)) {
                None => Err(ClerkError::middleware_missing()),
                Some((Outcome::SignedOut, _)) => Err(ClerkError::signed_out()),
                Some((Outcome::Failed(f), s)) => Err(ClerkError::from_failure(f, s.config.unavailable)),
                Some((Outcome::SignedIn(a), _)) if a.session().is_some_and(|s| s.has(self.requirement.check())) => {
                    Ok(())
                }
                Some((Outcome::SignedIn(a), _)) => {
                    // A machine token has no session, so it meets no requirement: 403, like a session without it.
                    tracing::info!(target: "clerk::auth", requirement = ?self.requirement, token_type = a.token_type().as_str(), "request forbidden by a route requirement");
                    Err(match self.requirement {
                        Requirement::Reverification(r) => ClerkError::reverification(r),
                        _ => ClerkError::forbidden(),
                    })
                }
            }
        };
        match verdict {
            Ok(()) => {
                let response = self.service.call(req);
                Box::pin(async move { response.await.map(ServiceResponse::map_into_left_body) })
            }
            Err(e) => Box::pin(ready(Ok(req.into_response(e.error_response()).map_into_right_body()))),
        }
    }
}
