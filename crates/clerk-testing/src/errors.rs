//! Clerk's error shape: `{"errors": [{code, message, long_message, meta}], "clerk_trace_id": …}`.

use serde_json::{Value, json};

/// An error answer of the emulated Backend API (boxed: handlers pass it around in `Result`s).
#[derive(Debug, Clone)]
pub(crate) struct ApiError(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    status: u16,
    code: &'static str,
    message: String,
    long_message: String,
    meta: Option<Value>,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>, long: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            code,
            message: message.into(),
            long_message: long.into(),
            meta: None,
            retry_after: None,
        }))
    }

    pub(crate) fn status(&self) -> u16 {
        self.0.status
    }

    pub(crate) fn with_meta(mut self, meta: Value) -> Self {
        self.0.meta = Some(meta);
        self
    }

    pub(crate) fn long_message(&self) -> &str {
        &self.0.long_message
    }

    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.0.retry_after
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(404, "resource_not_found", "not found", format!("No {what} was found with this id"))
    }

    pub(crate) fn unknown_route() -> Self {
        Self::new(404, "resource_not_found", "not found", "The requested resource was not found")
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            401,
            "authentication_invalid",
            "Invalid authentication",
            "Unable to authenticate the request, you need to supply an active API key",
        )
    }

    pub(crate) fn key_invalid() -> Self {
        Self::new(401, "clerk_key_invalid", "Secret Key is invalid", "The provided Secret Key is invalid.")
    }

    pub(crate) fn param_unknown(name: &str) -> Self {
        Self::new(422, "form_param_unknown", "is unknown", format!("{name} is not a valid parameter for this request."))
            .with_meta(json!({ "param_name": name }))
    }

    pub(crate) fn param_missing(name: &str) -> Self {
        Self::new(422, "form_param_missing", "is missing", format!("{name} must be included."))
            .with_meta(json!({ "param_name": name }))
    }

    pub(crate) fn param_invalid(name: &str, why: &str) -> Self {
        Self::new(422, "form_param_format_invalid", "is invalid", format!("{name} is invalid: {why}"))
            .with_meta(json!({ "param_name": name }))
    }

    pub(crate) fn conflict(code: &'static str, name: &str, long: impl Into<String>) -> Self {
        Self::new(422, code, "already exists", long).with_meta(json!({ "param_name": name }))
    }

    pub(crate) fn unprocessable(code: &'static str, long: impl Into<String>) -> Self {
        Self::new(422, code, "is invalid", long)
    }

    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(429, "too_many_requests", "Too many requests", "Too many requests, retry later.");
        e.0.retry_after = Some(retry_after);
        e
    }

    pub(crate) fn status_only(status: u16) -> Self {
        let code = if status >= 500 { "internal_clerk_error" } else { "request_failed" };
        Self::new(status, code, "injected fault", format!("The emulator was told to answer {status}."))
    }

    pub(crate) fn not_implemented(op: &str) -> Self {
        Self::new(501, "not_implemented", "not implemented", format!("The emulator does not implement {op} yet."))
    }

    pub(crate) fn body(&self, trace_id: &str) -> Value {
        let i = &self.0;
        let mut err = json!({ "code": i.code, "message": i.message, "long_message": i.long_message });
        if let Some(meta) = &i.meta {
            err["meta"] = meta.clone();
        }
        json!({ "errors": [err], "clerk_trace_id": trace_id })
    }
}
