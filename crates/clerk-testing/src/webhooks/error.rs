//! What can go wrong registering webhook endpoints, sending webhooks or waiting for them.

#[cfg(doc)]
use super::{RawWebhook, WebhookDeliveryState};

/// What can go wrong registering webhook endpoints, sending webhooks or waiting for them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The endpoint URL is not an absolute `http://host[:port]/path` URL (https is not supported by the emulator's
    /// sender: receivers in tests listen on loopback).
    #[error("invalid webhook endpoint URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The signing secret is not `whsec_` followed by non-empty standard base64.
    #[error("invalid webhook signing secret: expected `whsec_` followed by non-empty standard base64")]
    InvalidSecret,
    /// No endpoint has this id.
    #[error("no webhook endpoint {0:?}")]
    UnknownEndpoint(String),
    /// The endpoint's queue is full; the message was recorded as [`WebhookDeliveryState::Dropped`].
    #[error("the queue of webhook endpoint {0:?} is full")]
    QueueFull(String),
    /// A header name or value given to [`RawWebhook`] is not valid in HTTP.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// The wait ended before the webhooks it waited for settled.
    #[error("timed out waiting for webhooks ({pending} still pending)")]
    Timeout {
        /// How many deliveries were still pending (queued or being retried) when the wait ended.
        pending: usize,
    },
}
