//! Per-route requirements (`clerk_core::Requirement`) as a tower layer → `403`.

use std::fmt;
use std::task::{Context, Poll};

use clerk_core::{Outcome, Refusal, Requirement, Reverification};
use http::{Request, Response};

use crate::body::RefusalBody;
use crate::future::ResponseFuture;
use crate::layer::ClerkContext;

/// A layer that lets a request through only when the signed-in session meets the requirement: signed out or
/// refused → `401`, outage → `503`, signed in without it → `403` (a missing reverification with the JSON body Clerk's
/// frontends read). Use with `route_layer`, behind [`ClerkLayer`](crate::ClerkLayer).
///
/// Requirements are about sessions (organization role and permissions, features, plans, reverification), and
/// combine with [`Requirement::all`] and [`Requirement::any`]. A request authenticated by a machine token (on a
/// layer that [accepts](crate::ClerkLayer::accepting) them) is signed in but has none of these: `403 Forbidden`, not
/// `401` (the token is valid; it just cannot do this). Check a machine's scopes in the handler
/// ([`ClerkMachine`](crate::ClerkMachine) derefs to `MachineAuth::has_scope`).
#[derive(Debug, Clone)]
#[must_use]
pub struct RequireLayer {
    requirement: Requirement,
}

impl RequireLayer {
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

impl<S> tower::Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require { inner, requirement: self.requirement.clone() }
    }
}

/// The service of [`RequireLayer`].
#[derive(Clone)]
pub struct Require<S> {
    inner: S,
    requirement: Requirement,
}

impl<S> fmt::Debug for Require<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Require").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

/// The refusal for a request under `requirement`, `None` when it goes on.
fn verdict(requirement: &Requirement, ctx: Option<&ClerkContext>) -> Option<Refusal> {
    let Some(ctx) = ctx else {
        tracing::error!(target: "clerk::auth", "RequireLayer ran without ClerkLayer in front of it");
        return Some(Refusal::layer_missing());
    };
    match &ctx.outcome {
        Outcome::SignedOut => Some(Refusal::signed_out()),
        Outcome::Failed(f) => Some(Refusal::failure(f, ctx.unavailable())),
        Outcome::SignedIn(a) if requirement.is_met(a) => None,
        Outcome::SignedIn(a) => {
            tracing::info!(target: "clerk::auth", requirement = ?requirement, token_type = a.token_type().as_str(), "request forbidden by a route requirement");
            Some(Refusal::unmet(requirement, a))
        }
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for Require<S>
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

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match verdict(&self.requirement, req.extensions().get::<ClerkContext>()) {
            None => ResponseFuture::inner(self.inner.call(req)),
            Some(refusal) => ResponseFuture::refused(ResBody::refusal_response(refusal)),
        }
    }
}
