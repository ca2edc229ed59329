//! Errors: Clerk API errors with everything Clerk says, decode errors with the JSON path, and local refusals.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Everything that can go wrong calling the Backend API. Never contains the secret key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Clerk answered with a non-2xx status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No answer: connect failure, timeout, broken connection.
    #[error("the request to the Clerk Backend API failed")]
    Transport(#[source] clerk_core::TransportError),
    /// A 2xx answer whose body does not fit the expected model.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The request was refused before sending (e.g. an empty or `..` id).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client could not be built (a builder's error, here so that `?` works in code that builds and calls).
    #[error(transparent)]
    Build(#[from] clerk_core::BuildError),
}

impl Error {
    /// The HTTP status, when Clerk answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status()),
            Self::Decode(e) => Some(e.status()),
            _ => None,
        }
    }

    /// Whether Clerk answered `404`.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api(e) if e.is_not_found())
    }

    /// Whether Clerk answered `429`.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::Api(e) if e.is_rate_limited())
    }

    /// The Clerk API error, if this is one.
    #[must_use]
    pub const fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// One entry of Clerk's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ClerkError {
    /// A stable machine-readable code, e.g. `resource_not_found`, `form_identifier_exists`.
    pub code: String,
    /// A short message.
    #[serde(default)]
    pub message: String,
    /// A longer, human-readable message.
    #[serde(default)]
    pub long_message: Option<String>,
    /// Extra data, e.g. `{"param_name": "email_address"}`.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ClerkError>,
    #[serde(default)]
    clerk_trace_id: Option<String>,
}

/// The longest body excerpt kept in errors.
pub(crate) const SNIPPET: usize = 512;

pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = body.len().min(SNIPPET);
    let mut s = String::from_utf8_lossy(&body[..cut]).into_owned();
    if body.len() > SNIPPET {
        s.push('…');
    }
    s
}

/// A non-2xx answer from Clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    errors: Vec<ClerkError>,
    trace_id: Option<String>,
    retry_after: Option<Duration>,
    body: String,
}

impl ApiError {
    pub(crate) fn from_response(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Self {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let (errors, body_trace) = parsed.map_or((Vec::new(), None), |b| (b.errors, b.clerk_trace_id));
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let trace_id = body_trace.or_else(|| header("clerk-trace-id")).or_else(|| header("cf-ray"));
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        Self { status, errors, trace_id, retry_after, body: snippet(body) }
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// Clerk's `errors[]`.
    #[must_use]
    pub fn errors(&self) -> &[ClerkError] {
        &self.errors
    }

    /// The first error's code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.code.as_str())
    }

    /// Clerk's trace id: the body's `clerk_trace_id`, else the `Clerk-Trace-Id` or `cf-ray` header.
    #[must_use]
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// The `Retry-After` delay, when Clerk gave one.
    #[must_use]
    pub const fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// A bounded excerpt of the raw body (for bodies that are not Clerk's error shape).
    #[must_use]
    pub fn body_snippet(&self) -> &str {
        &self.body
    }

    /// `404`.
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// `429`.
    #[must_use]
    pub const fn is_rate_limited(&self) -> bool {
        self.status == 429
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clerk answered {}", self.status)?;
        if let Some(e) = self.errors.first() {
            write!(f, ": {}", e.code)?;
            if let Some(long) = &e.long_message {
                write!(f, " ({long})")?;
            }
        }
        if let Some(t) = &self.trace_id {
            write!(f, " [trace {t}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// `Retry-After` as delta-seconds (HTTP dates are not used by Clerk and are ignored).
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A 2xx body that does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode the {status} answer at `{path}`: {message}")]
pub struct DecodeError {
    status: u16,
    path: String,
    message: String,
    body: String,
}

impl DecodeError {
    pub(crate) fn new(status: u16, err: &serde_path_to_error::Error<serde_json::Error>, body: &[u8]) -> Self {
        Self { status, path: err.path().to_string(), message: err.inner().to_string(), body: snippet(body) }
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// The JSON path where decoding failed (`data[3].email_addresses[0].id`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A bounded excerpt of the body.
    #[must_use]
    pub fn body_snippet(&self) -> &str {
        &self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_reads_clerk_shape_and_headers() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        h.insert("cf-ray", "ray-1".parse().unwrap());
        let body =
            br#"{"errors":[{"code":"too_many_requests","message":"slow down","long_message":"Too many","meta":{}}]}"#;
        let e = ApiError::from_response(429, &h, body);
        assert!(e.is_rate_limited());
        assert_eq!(e.code(), Some("too_many_requests"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(e.trace_id(), Some("ray-1"));
        let body = br#"{"errors":[],"clerk_trace_id":"t-body"}"#;
        h.insert("clerk-trace-id", "t-header".parse().unwrap());
        assert_eq!(ApiError::from_response(500, &h, body).trace_id(), Some("t-body"));
        let e = ApiError::from_response(502, &http::HeaderMap::new(), "x".repeat(2000).as_bytes());
        assert!(e.errors().is_empty());
        assert!(e.body_snippet().chars().count() <= SNIPPET + 1);
    }
}
