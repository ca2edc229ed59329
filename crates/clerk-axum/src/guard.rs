//! Per-route requirements built on `SessionAuth::has` → `403`.

use std::fmt;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use clerk_core::{Check, Reverification};

use crate::ClerkState;
use crate::layer::{ClerkContext, ResponseFuture};
use crate::rejection::ClerkRejection;

/// One requirement, owned (so it can live in a layer).
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

/// A layer that lets a request through only when the signed-in session meets the requirement: signed out or
/// refused → `401`, outage → `503`, signed in without it → `403`. Use with `route_layer`, behind
/// [`ClerkLayer`](crate::ClerkLayer).
///
/// Requirements are about sessions (organization role and permissions, features, plans, reverification). A request
/// authenticated by a machine token (on a layer that [accepts](crate::ClerkLayer::accepting) them) is signed in but
/// has none of these: `403 Forbidden`, not `401` (the token is valid; it just cannot do this). Check a machine's
/// scopes in the handler ([`ClerkMachine`](crate::ClerkMachine) derefs to `MachineAuth::has_scope`).
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

impl<S> tower::Service<Request> for Require<S>
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

    fn call(&mut self, req: Request) -> Self::Future {
        let verdict = match req.extensions().get::<ClerkContext>() {
            None => Err(ClerkRejection::layer_missing()),
            Some(ctx) => match &ctx.state {
                ClerkState::SignedOut => Err(ClerkRejection::signed_out()),
                ClerkState::Failed(f) => Err(ClerkRejection::from_failure(f, ctx.unavailable())),
                ClerkState::SignedIn(a) if a.session().is_some_and(|s| s.has(self.requirement.check())) => Ok(()),
                ClerkState::SignedIn(a) => {
                    tracing::info!(target: "clerk::auth", requirement = ?self.requirement, token_type = a.token_type().as_str(), "request forbidden by a route requirement");
                    Err(match &self.requirement {
                        Requirement::Reverification(r) => ClerkRejection::reverification(*r),
                        _ => ClerkRejection::forbidden(),
                    })
                }
            },
        };
        match verdict {
            Ok(()) => {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::inner(inner.call(req))
            }
            Err(rejection) => ResponseFuture::ready(rejection.into_response()),
        }
    }
}
