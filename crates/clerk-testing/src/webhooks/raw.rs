//! Hand-made webhook requests, for testing how a receiver rejects stale, unsigned or wrongly signed deliveries.

use std::fmt;

use bytes::Bytes;

#[cfg(doc)]
use crate::Emulator;

/// A hand-made webhook request for [`Emulator::send_raw_webhook`]: by default signed correctly for the endpoint, with
/// a fresh message id and the current timestamp; each part can be overridden to test a receiver's rejections (a
/// stale timestamp, a wrong secret, a missing or tampered header).
#[derive(Clone)]
#[must_use]
pub struct RawWebhook {
    pub(super) body: Bytes,
    pub(super) msg_id: Option<String>,
    pub(super) timestamp: Option<i64>,
    pub(super) secret: Option<String>,
    pub(super) signature: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) omit: Vec<String>,
}

impl fmt::Debug for RawWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawWebhook")
            .field("body_len", &self.body.len())
            .field("msg_id", &self.msg_id)
            .field("timestamp", &self.timestamp)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("signature", &self.signature)
            .field("headers", &self.headers)
            .field("omit", &self.omit)
            .finish()
    }
}

impl RawWebhook {
    /// A request with exactly this body.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            msg_id: None,
            timestamp: None,
            secret: None,
            signature: None,
            headers: Vec::new(),
            omit: Vec::new(),
        }
    }

    /// The `svix-id`. Default: a fresh `msg_…`.
    pub fn msg_id(mut self, id: impl Into<String>) -> Self {
        self.msg_id = Some(id.into());
        self
    }

    /// The `svix-timestamp` in seconds (signed as given). Default: now. `now - 600` makes a stale delivery.
    pub const fn timestamp(mut self, secs: i64) -> Self {
        self.timestamp = Some(secs);
        self
    }

    /// Sign with this secret (`whsec_…`) instead of the endpoint's, e.g. another instance's.
    pub fn signed_with(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Send this `svix-signature` value verbatim instead of computing it.
    pub fn signature(mut self, value: impl Into<String>) -> Self {
        self.signature = Some(value.into());
        self
    }

    /// Adds a header, replacing one of the same name (including the `svix-*` ones and `content-type`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Leaves a header out (e.g. `svix-signature`).
    pub fn without_header(mut self, name: impl Into<String>) -> Self {
        self.omit.push(name.into());
        self
    }
}
