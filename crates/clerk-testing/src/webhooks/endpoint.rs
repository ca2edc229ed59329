//! Webhook endpoints: the registered ones (URL, secret, event filter) and what registering one takes, and the check of
//! an endpoint's URL.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

#[cfg(doc)]
use super::WebhookDelivery;
use super::WebhookError;
use super::now_secs;
use super::signing::{decode_secret, signature};
#[cfg(doc)]
use crate::Emulator;

/// A registered webhook endpoint: where events go and the secret they are signed with.
///
/// `Debug` prints the secret redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub(super) id: String,
    pub(super) url: String,
    pub(super) secret: String,
    pub(super) event_types: Option<Vec<String>>,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("event_types", &self.event_types)
            .finish()
    }
}

impl WebhookEndpoint {
    /// The endpoint id (`ep_…`), for [`Emulator::remove_webhook_endpoint`] and [`WebhookDelivery::endpoint_id`].
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The URL events are POSTed to.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The signing secret, `whsec_` + standard base64: what the app under test gets as its webhook signing secret
    /// (`CLERK_WEBHOOK_SIGNING_SECRET`).
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The event types this endpoint receives, or `None` for all.
    #[must_use]
    pub fn event_types(&self) -> Option<&[String]> {
        self.event_types.as_deref()
    }

    /// The `svix-*` headers (and `content-type`) a delivery of `body` would carry now, with a fresh message id: for
    /// driving a webhook route in-process (e.g. axum's `oneshot`) without a socket.
    #[must_use]
    pub fn signed_headers(&self, body: &[u8]) -> HeaderMap {
        let key = decode_secret(&self.secret).unwrap_or_default();
        let msg_id = format!("msg_{}", crate::ids::random_base62(27));
        let ts = now_secs();
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [("svix-id", msg_id.clone()), ("svix-timestamp", ts.to_string())] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
        if let Ok(v) = HeaderValue::from_str(&signature(&key, &msg_id, ts, body)) {
            h.insert(HeaderName::from_static("svix-signature"), v);
        }
        h
    }
}

/// A webhook endpoint to register: its URL and, optionally, a fixed secret and an event filter.
#[derive(Clone)]
#[must_use]
pub struct WebhookEndpointConfig {
    pub(super) url: String,
    pub(super) secret: Option<String>,
    pub(super) event_types: Option<Vec<String>>,
}

impl fmt::Debug for WebhookEndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpointConfig")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("event_types", &self.event_types)
            .finish()
    }
}

impl WebhookEndpointConfig {
    /// An endpoint at `url` (`http://127.0.0.1:PORT/path`).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), secret: None, event_types: None }
    }

    /// Sign with this secret (`whsec_` + standard base64), for reproducible tests. Default: `whsec_` + base64 of 24
    /// random bytes (from the seeded generator when the emulator has a seed).
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Receive only these event types (e.g. `user.created`). Default: every event.
    pub fn event_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = Some(types.into_iter().map(Into::into).collect());
        self
    }
}

pub(super) fn check_url(url: &str) -> Result<http::Uri, WebhookError> {
    let invalid = |reason| WebhookError::InvalidUrl { url: url.to_owned(), reason };
    let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err(invalid("https is not supported by the emulator's sender; use http on loopback")),
        _ => return Err(invalid("expected an http:// URL")),
    }
    if uri.authority().is_none() {
        return Err(invalid("no host"));
    }
    Ok(uri)
}
