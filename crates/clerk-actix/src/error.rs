//! `ClerkError`: terse to the client, detailed in `tracing`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use clerk_api::plug::Failure;
use clerk_core::{FactorLevel, Reverification};

const TEXT: &str = "text/plain; charset=utf-8";

/// Why a request was refused, as an actix [`ResponseError`]: `401 Unauthorized` (with `WWW-Authenticate: Bearer`,
/// plus `error="invalid_token"` when a token was present), `403 Forbidden` for a failed [`Require`](crate::Require),
/// `503` (configurable, with `Retry-After`) when Clerk could not be reached, `500` when
/// [`ClerkMiddleware`](crate::ClerkMiddleware) is missing. Bodies never say why; the reason is in `tracing`
/// (target `clerk::auth`).
///
/// The statuses, headers and bodies are those of `clerk-axum`'s `ClerkRejection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkError {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Unauthorized { token_present: bool },
    Forbidden,
    Reverification(Reverification),
    Unavailable(StatusCode),
    MiddlewareMissing,
}

impl ClerkError {
    pub(crate) const fn signed_out() -> Self {
        Self { kind: Kind::Unauthorized { token_present: false } }
    }

    /// A `401` for a request whose token was present but refused.
    pub(crate) const fn invalid_token() -> Self {
        Self { kind: Kind::Unauthorized { token_present: true } }
    }

    pub(crate) const fn from_failure(f: &Failure, unavailable: StatusCode) -> Self {
        match f {
            Failure::Unauthorized { token_present, .. } => {
                Self { kind: Kind::Unauthorized { token_present: *token_present } }
            }
            _ => Self { kind: Kind::Unavailable(unavailable) },
        }
    }

    pub(crate) const fn forbidden() -> Self {
        Self { kind: Kind::Forbidden }
    }

    pub(crate) const fn reverification(r: Reverification) -> Self {
        Self { kind: Kind::Reverification(r) }
    }

    pub(crate) fn middleware_missing() -> Self {
        tracing::error!(target: "clerk::auth", "a Clerk extractor or guard ran without ClerkMiddleware in front of it");
        Self { kind: Kind::MiddlewareMissing }
    }

    /// The status this error answers with (also [`ResponseError::status_code`]).
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Kind::Forbidden | Kind::Reverification(_) => StatusCode::FORBIDDEN,
            Kind::Unavailable(s) => s,
            Kind::MiddlewareMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this is a `401` for a request that carried a token (expired, forged, unreadable…), as opposed to
    /// one that carried none.
    #[must_use]
    pub const fn token_present(&self) -> bool {
        matches!(self.kind, Kind::Unauthorized { token_present: true })
    }
}

impl fmt::Display for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Unauthorized { .. } => "Unauthorized",
            Kind::Forbidden => "Forbidden",
            Kind::Reverification(_) => "Forbidden: reverification required",
            Kind::Unavailable(_) => "Service Unavailable: Clerk could not be reached",
            Kind::MiddlewareMissing => "Internal Server Error: ClerkMiddleware is missing",
        })
    }
}

impl std::error::Error for ClerkError {}

const fn level_name(l: FactorLevel) -> &'static str {
    match l {
        FactorLevel::FirstFactor => "first_factor",
        FactorLevel::SecondFactor => "second_factor",
        FactorLevel::MultiFactor => "multi_factor",
    }
}

impl ResponseError for ClerkError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status());
        match self.kind {
            Kind::Unauthorized { token_present } => {
                let challenge = if token_present { r#"Bearer error="invalid_token""# } else { "Bearer" };
                resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge)))
                    .content_type(TEXT)
                    .body("Unauthorized")
            }
            Kind::Forbidden => resp.content_type(TEXT).body("Forbidden"),
            Kind::Reverification(r) => {
                // The shape Clerk's frontends read to start a reverification flow.
                let (level, minutes) = r.requirement();
                let body = serde_json::json!({
                    "clerk_error": {
                        "type": "forbidden",
                        "reason": "reverification-error",
                        "metadata": { "reverification": { "level": level_name(level), "afterMinutes": minutes } }
                    }
                });
                resp.content_type("application/json").body(body.to_string())
            }
            Kind::Unavailable(_) => resp
                .insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")))
                .content_type(TEXT)
                .body("Service Unavailable"),
            Kind::MiddlewareMissing => resp.content_type(TEXT).body("Internal Server Error"),
        }
    }
}
