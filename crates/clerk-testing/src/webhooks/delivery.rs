//! The delivery log: a record per message and endpoint with every attempt at it, shared with the sender tasks and read
//! back by tests.

use std::fmt;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use tokio::sync::watch;

use super::{WebhookDeliveryConfig, lock};
#[cfg(doc)]
use crate::Emulator;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookDeliveryState {
    /// Queued, being sent, or waiting to be retried.
    Pending,
    /// An attempt got a 2xx answer.
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Not (or no longer) sent: the endpoint's queue was full, or the endpoint was removed first.
    Dropped,
}

/// One attempt at delivering a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookAttempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// The `svix-timestamp` sent (seconds since the epoch).
    pub timestamp: i64,
    /// The `svix-signature` sent, if any.
    pub signature: Option<String>,
    /// The status answered, if any (`None` on a connection error or timeout).
    pub status: Option<u16>,
    /// The connection error or timeout, if any.
    pub error: Option<String>,
}

/// A message for one endpoint and every attempt at delivering it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The endpoint's id.
    pub endpoint_id: String,
    /// The message id (`msg_…`), sent as `svix-id` on every attempt; one event sent to several endpoints has the
    /// same message id at each.
    pub msg_id: String,
    /// The event type (`user.created`, …).
    pub event_type: String,
    /// The request body, exactly as sent.
    pub body: String,
    /// Every attempt so far, in order.
    pub attempts: Vec<WebhookAttempt>,
    /// The status of the last answer, if any.
    pub last_status: Option<u16>,
    /// Why the last attempt failed or the message was dropped, if it did.
    pub last_error: Option<String>,
    /// Whether an attempt got a 2xx answer.
    pub delivered: bool,
    /// Where it stands.
    pub state: WebhookDeliveryState,
}

impl WebhookDelivery {
    /// The body parsed as JSON (`Null` when it is not JSON).
    #[must_use]
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// Whether it is settled (delivered, failed or dropped), i.e. no longer pending.
    #[must_use]
    pub fn is_settled(&self) -> bool {
        self.state != WebhookDeliveryState::Pending
    }
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) delivery: WebhookDelivery,
    /// Returned by [`Emulator::wait_for_webhook`] already.
    pub(super) taken: bool,
}

pub(super) struct Deliveries {
    pub(super) config: WebhookDeliveryConfig,
    pub(super) client: Client<HttpConnector, Full<Bytes>>,
    pub(super) log: Mutex<Vec<Entry>>,
    pub(super) changed: watch::Sender<u64>,
}

impl fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliveries").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Deliveries {
    pub(super) fn push(&self, delivery: WebhookDelivery) -> usize {
        let mut log = lock(&self.log);
        log.push(Entry { delivery, taken: false });
        let index = log.len() - 1;
        drop(log);
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        index
    }

    pub(super) fn update(&self, index: usize, f: impl FnOnce(&mut WebhookDelivery)) {
        if let Some(e) = lock(&self.log).get_mut(index) {
            f(&mut e.delivery);
        }
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(super) fn record(&self, index: usize, attempt: WebhookAttempt, state: WebhookDeliveryState) {
        self.update(index, |d| {
            d.last_status = attempt.status.or(d.last_status);
            d.last_error.clone_from(&attempt.error);
            if attempt.status.is_some() && attempt.error.is_none() && state != WebhookDeliveryState::Delivered {
                d.last_error = attempt.status.map(|s| format!("answered {s}"));
            }
            d.delivered = state == WebhookDeliveryState::Delivered;
            d.attempts.push(attempt);
            d.state = state;
        });
    }

    pub(super) fn pending(&self) -> usize {
        lock(&self.log).iter().filter(|e| !e.delivery.is_settled()).count()
    }
}
