//! [`Refusal`]: the answer to a refused request, as data (status, headers, body) for an adapter to send.

use std::borrow::Cow;

use http::StatusCode;

use crate::auth::{FactorLevel, Reverification};
use crate::engine::Failure;

use super::requirement::Requirement;
use crate::engine::Authenticated;

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// How a refused request is answered: terse to the client (no reason, no token), the same in every framework.
///
/// | case | status | headers | body |
/// |---|---|---|---|
/// | no credentials | `401` | `WWW-Authenticate: Bearer` | `Unauthorized` |
/// | credentials refused | `401` | `WWW-Authenticate: Bearer error="invalid_token"` | `Unauthorized` |
/// | requirement not met | `403` | | `Forbidden` |
/// | reverification needed | `403` | `Content-Type: application/json` | Clerk's `reverification-error` object |
/// | Clerk unavailable | `503` (configurable) | `Retry-After: 5` | `Service Unavailable` |
/// | the app is misconfigured (secret key refused, no Backend API) | `500` | | `Internal Server Error` |
/// | the layer is missing | `500` | | `Internal Server Error` |
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Refusal {
    status: StatusCode,
    www_authenticate: Option<&'static str>,
    retry_after: Option<&'static str>,
    content_type: &'static str,
    body: Cow<'static, str>,
}

impl Refusal {
    const fn text(status: StatusCode, body: &'static str) -> Self {
        Self { status, www_authenticate: None, retry_after: None, content_type: TEXT, body: Cow::Borrowed(body) }
    }

    /// No credentials: `401` with `WWW-Authenticate: Bearer`.
    pub const fn signed_out() -> Self {
        let mut r = Self::text(StatusCode::UNAUTHORIZED, "Unauthorized");
        r.www_authenticate = Some("Bearer");
        r
    }

    /// Credentials present and refused: `401` with `WWW-Authenticate: Bearer error="invalid_token"`.
    pub const fn invalid_token() -> Self {
        let mut r = Self::text(StatusCode::UNAUTHORIZED, "Unauthorized");
        r.www_authenticate = Some(r#"Bearer error="invalid_token""#);
        r
    }

    /// Clerk could not judge the credentials: `status` (default `503`) with `Retry-After: 5`.
    pub const fn unavailable(status: StatusCode) -> Self {
        let mut r = Self::text(status, "Service Unavailable");
        r.retry_after = Some("5");
        r
    }

    /// The answer for a failure: `401` when refused, the outage status when Clerk could not judge, `500` for a
    /// misconfiguration.
    pub fn failure(f: &Failure, unavailable: StatusCode) -> Self {
        if f.is_misconfiguration() {
            Self::misconfigured()
        } else if f.is_unavailable() {
            Self::unavailable(unavailable)
        } else {
            Self::invalid_token()
        }
    }

    /// The app is misconfigured (the secret key refused, no Backend API): `500`, no `Retry-After`.
    pub const fn misconfigured() -> Self {
        Self::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// Signed in without what the route requires: `403`.
    pub const fn forbidden() -> Self {
        Self::text(StatusCode::FORBIDDEN, "Forbidden")
    }

    /// Signed in, but not verified recently enough: `403` with the body Clerk's frontends read to start a
    /// reverification flow.
    pub fn reverification(r: Reverification) -> Self {
        let (level, minutes) = r.requirement();
        let body = serde_json::json!({
            "clerk_error": {
                "type": "forbidden",
                "reason": "reverification-error",
                "metadata": { "reverification": { "level": level_name(level), "afterMinutes": minutes } }
            }
        });
        Self {
            status: StatusCode::FORBIDDEN,
            www_authenticate: None,
            retry_after: None,
            content_type: JSON,
            body: Cow::Owned(body.to_string()),
        }
    }

    /// An extractor or guard ran without the authentication layer in front of it: `500` (a bug in the app, logged
    /// by the adapter).
    pub const fn layer_missing() -> Self {
        Self::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// The answer of a route requirement for a signed-in request that does not meet it (a request authenticated by
    /// a machine token included): the reverification answer when a reverification is what it misses, else `403`.
    pub fn unmet(requirement: &Requirement, auth: &Authenticated) -> Self {
        match requirement.missing_reverification(auth.session()) {
            Some(r) => Self::reverification(r),
            None => Self::forbidden(),
        }
    }

    /// The status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.status
    }

    /// The `WWW-Authenticate` challenge, on `401`s.
    #[must_use]
    pub const fn www_authenticate(&self) -> Option<&'static str> {
        self.www_authenticate
    }

    /// The `Retry-After` value (seconds), on outages.
    #[must_use]
    pub const fn retry_after(&self) -> Option<&'static str> {
        self.retry_after
    }

    /// The body's content type.
    #[must_use]
    pub const fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether this is a `401` for a request that carried credentials (refused), as opposed to none.
    #[must_use]
    pub fn token_present(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED && self.www_authenticate != Some("Bearer")
    }

    /// The body, owned.
    #[must_use]
    pub fn into_body(self) -> Cow<'static, str> {
        self.body
    }

    /// As an `http` response (for tower-based adapters), the body as given by `body`.
    pub fn into_response<B>(self, body: impl FnOnce(Cow<'static, str>) -> B) -> http::Response<B> {
        let mut response = http::Response::new(body(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(self.content_type));
        if let Some(challenge) = self.www_authenticate {
            headers.insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static(seconds));
        }
        response
    }
}

const fn level_name(l: FactorLevel) -> &'static str {
    match l {
        FactorLevel::FirstFactor => "first_factor",
        FactorLevel::SecondFactor => "second_factor",
        FactorLevel::MultiFactor => "multi_factor",
    }
}
