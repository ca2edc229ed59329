//! How webhooks are set up: the delivery settings (attempts, backoff, timeout, queue size) and what the emulator's
//! builder collects.

use std::time::Duration;

#[cfg(doc)]
use super::WebhookDeliveryState;
use super::WebhookEndpointConfig;

/// How the emulator delivers webhooks: attempts, backoff, timeout and queue size.
///
/// Every non-2xx answer, connection error or timeout is retried, with the same `svix-id` and a fresh timestamp and
/// signature, until `max_attempts` attempts have been made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct WebhookDeliveryConfig {
    pub(super) max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    pub(super) attempt_timeout: Duration,
    pub(super) queue_capacity: usize,
}

impl Default for WebhookDeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(5),
            queue_capacity: 1024,
        }
    }
}

impl WebhookDeliveryConfig {
    /// The defaults: 4 attempts, 50 ms backoff doubling up to 1 s, 5 s per attempt, 1024 queued messages per
    /// endpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts per message, the first included (at least 1). Default 4.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The wait before the first retry; each later wait doubles, up to [`max_backoff`](Self::max_backoff).
    /// Default 50 ms.
    pub const fn backoff(mut self, initial: Duration) -> Self {
        self.initial_backoff = initial;
        self
    }

    /// The longest wait between two attempts. Default 1 s.
    pub const fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// How long one attempt may take (connect, send, answer). Default 5 s.
    pub const fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Messages queued per endpoint (at least 1); a message that finds the queue full is recorded as
    /// [`WebhookDeliveryState::Dropped`], never silently lost. Default 1024.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// The wait after attempt `n` (1-based).
    pub(super) fn backoff_after(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// What the builder collects.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(super) endpoints: Vec<WebhookEndpointConfig>,
    pub(super) delivery: Option<WebhookDeliveryConfig>,
}
