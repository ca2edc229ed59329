//! Rejections: terse to the client, detailed in `tracing`.

use axum::response::{IntoResponse, Response};
use clerk_api::plug::Failure;
use clerk_core::Reverification;
use http::{HeaderValue, StatusCode, header};

/// Why a request was refused, as an axum response: `401 Unauthorized` (with `WWW-Authenticate: Bearer`, plus
/// `error="invalid_token"` when a token was present), `403 Forbidden` for a failed guard, `503` (configurable) when
/// Clerk could not be reached, `500` when the layer is missing. Bodies never say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkRejection {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Unauthorized { token_present: bool },
    Forbidden,
    Reverification(Reverification),
    Unavailable(StatusCode),
    LayerMissing,
}

impl ClerkRejection {
    pub(crate) const fn signed_out() -> Self {
        Self { kind: Kind::Unauthorized { token_present: false } }
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

    pub(crate) const fn layer_missing() -> Self {
        Self { kind: Kind::LayerMissing }
    }

    /// The status this rejection answers with.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Kind::Forbidden | Kind::Reverification(_) => StatusCode::FORBIDDEN,
            Kind::Unavailable(s) => s,
            Kind::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn level_name(l: clerk_core::FactorLevel) -> &'static str {
    match l {
        clerk_core::FactorLevel::FirstFactor => "first_factor",
        clerk_core::FactorLevel::SecondFactor => "second_factor",
        clerk_core::FactorLevel::MultiFactor => "multi_factor",
    }
}

impl IntoResponse for ClerkRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        match self.kind {
            Kind::Unauthorized { token_present } => {
                let challenge = if token_present { r#"Bearer error="invalid_token""# } else { "Bearer" };
                (status, [(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge))], "Unauthorized")
                    .into_response()
            }
            Kind::Forbidden => (status, "Forbidden").into_response(),
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
                (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_string())
                    .into_response()
            }
            Kind::Unavailable(_) => {
                (status, [(header::RETRY_AFTER, HeaderValue::from_static("5"))], "Service Unavailable").into_response()
            }
            Kind::LayerMissing => {
                tracing::error!(target: "clerk::auth", "a Clerk extractor or guard ran without ClerkLayer in front of it");
                (status, "Internal Server Error").into_response()
            }
        }
    }
}
