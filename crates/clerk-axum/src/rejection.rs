//! [`ClerkRejection`]: a refusal as an axum response, with the failure behind it for handlers that ask.

use axum::response::{IntoResponse, Response};
use clerk_core::{Failure, Refusal};
use http::StatusCode;

use crate::body::RefusalBody as _;

/// Why a request was refused, as an axum response: `401 Unauthorized` (with `WWW-Authenticate: Bearer`, plus
/// `error="invalid_token"` when a token was present), `403 Forbidden` for a failed guard, `503` (configurable) when
/// Clerk could not be reached, `500` when the layer is missing. Bodies never say why; a handler that takes
/// `Result<ClerkAuth, ClerkRejection>` can read the [`failure`](Self::failure) and its
/// [`reason`](Failure::reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkRejection {
    refusal: Refusal,
    failure: Option<Failure>,
}

impl ClerkRejection {
    pub(crate) const fn new(refusal: Refusal, failure: Option<Failure>) -> Self {
        Self { refusal, failure }
    }

    pub(crate) const fn signed_out() -> Self {
        Self::new(Refusal::signed_out(), None)
    }

    pub(crate) fn from_failure(f: &Failure, unavailable: StatusCode) -> Self {
        Self::new(Refusal::failure(f, unavailable), Some(f.clone()))
    }

    pub(crate) fn layer_missing() -> Self {
        tracing::error!(target: "clerk::auth", "a Clerk extractor or guard ran without ClerkLayer in front of it");
        Self::new(Refusal::layer_missing(), None)
    }

    /// The status this rejection answers with.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.refusal.status()
    }

    /// Why the credentials were refused or could not be judged; `None` when there were none (signed out), for a
    /// guard's `403`, or without the layer.
    #[must_use]
    pub const fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The answer, framework-neutral.
    pub const fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl IntoResponse for ClerkRejection {
    fn into_response(self) -> Response {
        axum::body::Body::refusal_response(self.refusal)
    }
}
