//! Why a webhook was refused.

use std::fmt;

/// Why a webhook was refused, or why a verified body could not be read.
///
/// Messages never include the secret, a signature or any part of the body, so an error can be logged as it is.
/// [`WebhookError::reason`] gives a stable code for logs and metrics.
///
/// Every variant except [`WebhookError::InvalidSecret`] (a configuration error, raised at construction) and
/// [`WebhookError::InvalidPayload`] (a verified body that is not the expected JSON) means the request did not prove it
/// comes from Clerk: answer `400` (or `413` for [`WebhookError::BodyTooLarge`]) and do not process it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signing secret is empty, is not `whsec_` followed by padded standard base64 (or that base64 alone), or
    /// decodes to no bytes.
    #[error("invalid webhook signing secret: expected `whsec_` followed by base64")]
    InvalidSecret,
    /// A required header is missing or empty; holds the header's name (`svix-id`, `svix-timestamp`,
    /// `svix-signature`, or their `webhook-*` aliases).
    #[error("missing webhook header `{0}`")]
    MissingHeader(&'static str),
    /// A header's value is not visible ASCII or is longer than this crate accepts; holds the header's name.
    #[error("invalid webhook header `{0}`")]
    InvalidHeader(&'static str),
    /// The timestamp header is not an integer number of seconds (ASCII digits only: no sign, space or fraction).
    #[error("invalid webhook timestamp: expected integer seconds since the Unix epoch")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows (a replay, or a very late retry).
    #[error("webhook timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    #[error("webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` entry of the signature header matches the body, id and timestamp under the secret.
    #[error("no matching webhook signature")]
    NoMatchingSignature,
    /// The body is larger than the configured limit ([`crate::Webhook::max_body_bytes`]); HTTP `413`.
    #[error("webhook body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The verified body is not the expected JSON.
    #[error("invalid webhook payload: {0}")]
    InvalidPayload(PayloadError),
}

impl WebhookError {
    /// A stable code for logs and metrics: `invalid-secret`, `missing-header`, `invalid-header`,
    /// `invalid-timestamp`, `timestamp-too-old`, `timestamp-too-new`, `no-matching-signature`, `body-too-large` or
    /// `invalid-payload`.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidSecret => "invalid-secret",
            Self::MissingHeader(_) => "missing-header",
            Self::InvalidHeader(_) => "invalid-header",
            Self::InvalidTimestamp => "invalid-timestamp",
            Self::TimestampTooOld => "timestamp-too-old",
            Self::TimestampTooNew => "timestamp-too-new",
            Self::NoMatchingSignature => "no-matching-signature",
            Self::BodyTooLarge { .. } => "body-too-large",
            Self::InvalidPayload(_) => "invalid-payload",
        }
    }
}

/// Why a verified body is not the expected JSON. It says where (line and column, or a path) and what kind of
/// problem, never any value from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    detail: String,
}

impl PayloadError {
    /// A problem described by this crate (no body content).
    pub(crate) fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into() }
    }

    /// A `serde_json` error, without its text (which can quote the body).
    pub(crate) fn from_json(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let at = format!("line {}, column {}", e.line(), e.column());
        let detail = match e.classify() {
            Category::Io => "cannot be read".to_owned(),
            Category::Syntax => format!("is not valid JSON (at {at})"),
            Category::Eof => "is truncated JSON".to_owned(),
            Category::Data => match missing_field(&e.to_string()) {
                Some(field) => format!("lacks the field `{field}` (at {at})"),
                None => format!("does not have the expected shape (at {at})"),
            },
        };
        Self { detail }
    }

    /// What is wrong, for logs: never quotes the body.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the body {}", self.detail)
    }
}

/// The field name of serde's "missing field `x`" message: a name from the Rust type, not from the body.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    let end = rest.find('`')?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_errors_never_quote_the_body() {
        let e = serde_json::from_str::<u32>("\"secret-value\"").unwrap_err();
        let p = PayloadError::from_json(&e);
        assert!(!p.to_string().contains("secret-value"), "{p}");
        assert_eq!(p.detail(), "does not have the expected shape (at line 1, column 14)");

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Need {
            id: String,
        }
        let e = serde_json::from_str::<Need>("{}").unwrap_err();
        assert_eq!(PayloadError::from_json(&e).detail(), "lacks the field `id` (at line 1, column 2)");
        let e = serde_json::from_str::<Need>("{\"id\": ").unwrap_err();
        assert_eq!(PayloadError::from_json(&e).detail(), "is truncated JSON");
        let e = serde_json::from_str::<Need>("{x}").unwrap_err();
        assert!(PayloadError::from_json(&e).detail().starts_with("is not valid JSON"));
    }

    #[test]
    fn reasons_are_stable() {
        let all = [
            (WebhookError::InvalidSecret, "invalid-secret"),
            (WebhookError::MissingHeader("svix-id"), "missing-header"),
            (WebhookError::InvalidHeader("svix-id"), "invalid-header"),
            (WebhookError::InvalidTimestamp, "invalid-timestamp"),
            (WebhookError::TimestampTooOld, "timestamp-too-old"),
            (WebhookError::TimestampTooNew, "timestamp-too-new"),
            (WebhookError::NoMatchingSignature, "no-matching-signature"),
            (WebhookError::BodyTooLarge { limit: 1 }, "body-too-large"),
            (WebhookError::InvalidPayload(PayloadError::new("x")), "invalid-payload"),
        ];
        for (e, reason) in all {
            assert_eq!(e.reason(), reason);
        }
        assert_eq!(WebhookError::MissingHeader("svix-id").to_string(), "missing webhook header `svix-id`");
    }
}
