//! `ClerkRejection`: a refusal as an actix [`ResponseError`], terse to the client, detailed in `tracing`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use clerk_core::{Failure, Refusal};

/// Why a request was refused, as an actix [`ResponseError`]: `401 Unauthorized` (with `WWW-Authenticate: Bearer`,
/// plus `error="invalid_token"` when a token was present), `403 Forbidden` for a failed [`Require`](crate::Require),
/// `503` (configurable, with `Retry-After`) when Clerk could not be reached, `500` when [`Clerk`](crate::Clerk) is
/// missing. Bodies never say why; the reason is in `tracing` (target `clerk::auth`), and a handler that takes
/// `Result<ClerkAuth, ClerkRejection>` can read the [`failure`](Self::failure).
///
/// The statuses, headers and bodies are those of `clerk-axum`'s `ClerkRejection` (both are `clerk_core::Refusal`).
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
        Self::new(Refusal::failure(f, http_status(unavailable)), Some(f.clone()))
    }

    pub(crate) fn middleware_missing() -> Self {
        tracing::error!(target: "clerk::auth", "a Clerk extractor or guard ran without the Clerk middleware in front of it");
        Self::new(Refusal::layer_missing(), None)
    }

    /// The status this rejection answers with (also [`ResponseError::status_code`]).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        actix_status(self.refusal.status())
    }

    /// Whether this is a `401` for a request that carried a token (expired, forged, unreadable…), as opposed to
    /// one that carried none.
    #[must_use]
    pub fn token_present(&self) -> bool {
        self.refusal.token_present()
    }

    /// Why the credentials were refused or could not be judged; `None` when there were none (signed out), for a
    /// guard's `403`, or without the middleware.
    #[must_use]
    pub const fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The answer, framework-neutral.
    pub const fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

/// actix-web 4 speaks `http` 0.2; the engine speaks `http` 1. A status is a number in both.
pub(crate) fn http_status(status: StatusCode) -> http::StatusCode {
    http::StatusCode::from_u16(status.as_u16()).unwrap_or(http::StatusCode::SERVICE_UNAVAILABLE)
}

fn actix_status(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.refusal.status().as_u16() {
            401 => "Unauthorized",
            403 if self.refusal.content_type() == "application/json" => "Forbidden: reverification required",
            403 => "Forbidden",
            500 => "Internal Server Error: the Clerk middleware is missing",
            _ => "Service Unavailable: Clerk could not be reached",
        };
        match &self.failure {
            Some(failure) => write!(f, "{what}: {failure}"),
            None => f.write_str(what),
        }
    }
}

impl std::error::Error for ClerkRejection {}

impl ResponseError for ClerkRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let r = &self.refusal;
        let mut resp = HttpResponse::build(self.status());
        if let Some(challenge) = r.www_authenticate() {
            resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge)));
        }
        if let Some(seconds) = r.retry_after() {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from_static(seconds)));
        }
        resp.content_type(r.content_type()).body(r.body().to_owned())
    }
}
