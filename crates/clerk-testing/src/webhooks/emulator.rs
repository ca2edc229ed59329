//! The webhook methods of the emulator and its builder: registering endpoints, reading the delivery log, waiting for
//! deliveries and sending events or hand-made requests.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use serde_json::Value;

use super::changes::Shadow;
use super::endpoint::check_url;
use super::origin::current_origin;
use super::sender::svix_headers;
use super::signing::{decode_secret, signature};
use super::{
    RawWebhook, WebhookAttempt, WebhookDelivery, WebhookDeliveryConfig, WebhookDeliveryState, WebhookEndpoint,
    WebhookEndpointConfig, WebhookError, lock, now_ms, now_secs,
};
use crate::{Emulator, EmulatorBuilder};

impl EmulatorBuilder {
    /// Registers a webhook endpoint at start, with a generated secret (reproducible with [`seed`](Self::seed));
    /// read it back with [`Emulator::webhook_endpoints`]. Default: no endpoint. An invalid URL fails
    /// [`start`](Self::start) with [`EmulatorError::Invalid`](crate::EmulatorError::Invalid).
    pub fn webhook_endpoint(self, url: impl Into<String>) -> Self {
        self.webhook_endpoint_with(WebhookEndpointConfig::new(url))
    }

    /// Registers a configured webhook endpoint at start (a fixed secret, an event filter).
    pub fn webhook_endpoint_with(mut self, config: WebhookEndpointConfig) -> Self {
        self.webhooks.endpoints.push(config);
        self
    }

    /// How webhooks are delivered (attempts, backoff, timeout, queue size). Default:
    /// [`WebhookDeliveryConfig::default`].
    pub fn webhook_delivery(mut self, config: WebhookDeliveryConfig) -> Self {
        self.webhooks.delivery = Some(config);
        self
    }
}

impl Emulator {
    /// Registers a webhook endpoint: from now on every change to users, sessions, organizations and memberships is
    /// POSTed there, signed with the returned endpoint's [`secret`](WebhookEndpoint::secret).
    ///
    /// # Errors
    /// [`WebhookError::InvalidUrl`] unless `url` is `http://host[:port]/path`.
    pub fn add_webhook_endpoint(&self, url: impl Into<String>) -> Result<WebhookEndpoint, WebhookError> {
        self.add_webhook_endpoint_with(WebhookEndpointConfig::new(url))
    }

    /// Registers a webhook endpoint signing with a fixed secret (`whsec_` + standard base64), for reproducible tests.
    ///
    /// # Errors
    /// [`WebhookError::InvalidUrl`], or [`WebhookError::InvalidSecret`].
    pub fn add_webhook_endpoint_with_secret(
        &self,
        url: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<WebhookEndpoint, WebhookError> {
        self.add_webhook_endpoint_with(WebhookEndpointConfig::new(url).secret(secret))
    }

    /// Registers a configured webhook endpoint. It receives the events of changes made after this call only.
    ///
    /// # Errors
    /// [`WebhookError::InvalidUrl`], or [`WebhookError::InvalidSecret`].
    pub fn add_webhook_endpoint_with(&self, config: WebhookEndpointConfig) -> Result<WebhookEndpoint, WebhookError> {
        let hub = &self.shared.webhooks;
        // Under the store lock, so no change slips between the shadow and the registration.
        let store = self.shared.lock_store();
        if !hub.active.load(Ordering::Acquire) {
            *lock(&hub.shadow) = Shadow::of(&store);
        }
        let r = hub.register(config);
        drop(store);
        r
    }

    /// Removes a webhook endpoint; messages still queued or being retried for it are recorded as
    /// [`WebhookDeliveryState::Dropped`]. Returns whether it existed.
    pub fn remove_webhook_endpoint(&self, id: &str) -> bool {
        let hub = &self.shared.webhooks;
        let store = self.shared.lock_store();
        let removed = {
            let mut endpoints = lock(&hub.endpoints);
            let removed = endpoints.iter().position(|e| e.info.id == id).map(|i| endpoints.remove(i));
            if endpoints.is_empty() {
                hub.active.store(false, Ordering::Release);
                *lock(&hub.shadow) = Shadow::default();
            }
            removed
        };
        drop(store);
        let Some(ep) = removed else { return false };
        ep.task.abort();
        let mut log = lock(&hub.deliveries.log);
        for e in log.iter_mut().filter(|e| e.delivery.endpoint_id == id && !e.delivery.is_settled()) {
            e.delivery.state = WebhookDeliveryState::Dropped;
            e.delivery.last_error = Some("endpoint removed".to_owned());
        }
        drop(log);
        hub.deliveries.changed.send_modify(|v| *v = v.wrapping_add(1));
        true
    }

    /// The registered webhook endpoints, in registration order.
    #[must_use]
    pub fn webhook_endpoints(&self) -> Vec<WebhookEndpoint> {
        lock(&self.shared.webhooks.endpoints).iter().map(|e| e.info.clone()).collect()
    }

    /// Every webhook message so far (one per endpoint it went to) with its attempts, in the order they were queued.
    #[must_use]
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.shared.webhooks.deliveries.log).iter().map(|e| e.delivery.clone()).collect()
    }

    /// Waits for the next settled (delivered, failed or dropped) delivery of `event_type` that no earlier call
    /// returned, oldest first, and returns it: each call consumes one, as a queue would. Check
    /// [`delivered`](WebhookDelivery::delivered) on the result.
    ///
    /// # Errors
    /// [`WebhookError::Timeout`] when none settles within `timeout`.
    pub async fn wait_for_webhook(&self, event_type: &str, timeout: Duration) -> Result<WebhookDelivery, WebhookError> {
        let deliveries = &self.shared.webhooks.deliveries;
        let mut changed = deliveries.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let mut log = lock(&deliveries.log);
                if let Some(e) =
                    log.iter_mut().find(|e| !e.taken && e.delivery.is_settled() && e.delivery.event_type == event_type)
                {
                    e.taken = true;
                    return Ok(e.delivery.clone());
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                _ => return Err(WebhookError::Timeout { pending: deliveries.pending() }),
            }
        }
    }

    /// Waits until every webhook queued so far is settled: delivered, failed after its last attempt, or dropped.
    ///
    /// # Errors
    /// [`WebhookError::Timeout`] (with how many are still pending) when that takes longer than `timeout`.
    pub async fn flush_webhooks(&self, timeout: Duration) -> Result<(), WebhookError> {
        let deliveries = &self.shared.webhooks.deliveries;
        let mut changed = deliveries.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if deliveries.pending() == 0 {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                _ => return Err(WebhookError::Timeout { pending: deliveries.pending() }),
            }
        }
    }

    /// Queues an arbitrary event for one endpoint (whatever its filter), wrapped and signed exactly as the
    /// emulator's own events (`{data, object: "event", type, timestamp, instance_id, event_attributes}`) and retried
    /// the same way. Returns the message id.
    ///
    /// # Errors
    /// [`WebhookError::UnknownEndpoint`], or [`WebhookError::QueueFull`] (the message is then recorded as dropped).
    pub fn send_webhook(&self, endpoint_id: &str, event_type: &str, data: Value) -> Result<String, WebhookError> {
        let hub = &self.shared.webhooks;
        hub.endpoint(endpoint_id)?;
        let body = hub.envelope(event_type, data, &current_origin(), now_ms());
        hub.publish(event_type, &body, Some(endpoint_id))
    }

    /// Sends one hand-made request to an endpoint right away (not queued, not retried), records it with the other
    /// deliveries and returns its record. See [`RawWebhook`] for what can be changed. The event type recorded is
    /// the body's `type` when it is JSON; a body that is not UTF-8 is recorded lossily.
    ///
    /// # Errors
    /// [`WebhookError::UnknownEndpoint`], [`WebhookError::InvalidSecret`] (a bad
    /// [`signed_with`](RawWebhook::signed_with)), or [`WebhookError::InvalidHeader`].
    pub async fn send_raw_webhook(&self, endpoint_id: &str, raw: RawWebhook) -> Result<WebhookDelivery, WebhookError> {
        let hub = &self.shared.webhooks;
        let endpoint = hub.endpoint(endpoint_id)?;
        let uri = check_url(&endpoint.url)?;
        let msg_id = raw.msg_id.unwrap_or_else(|| hub.next_msg_id());
        let ts = raw.timestamp.unwrap_or_else(now_secs);
        let sig = match raw.signature {
            Some(s) => s,
            None => {
                signature(&decode_secret(raw.secret.as_deref().unwrap_or(&endpoint.secret))?, &msg_id, ts, &raw.body)
            }
        };
        let mut headers = svix_headers(&msg_id, ts, &sig);
        for (name, value) in &raw.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| WebhookError::InvalidHeader(name.clone()))?;
            let v = HeaderValue::from_str(value).map_err(|_| WebhookError::InvalidHeader(name.clone()))?;
            headers.insert(n, v);
        }
        for name in &raw.omit {
            headers.remove(name.as_str());
        }
        let sent_sig = headers.get("svix-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let event_type = serde_json::from_slice::<Value>(&raw.body)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let index = hub.deliveries.push(WebhookDelivery {
            endpoint_id: endpoint.id,
            msg_id,
            event_type,
            body: String::from_utf8_lossy(&raw.body).into_owned(),
            attempts: Vec::new(),
            last_status: None,
            last_error: None,
            delivered: false,
            state: WebhookDeliveryState::Pending,
        });
        let result = hub.deliveries.post(&uri, headers, raw.body).await;
        let state = if matches!(result, Ok(s) if (200..300).contains(&s)) {
            WebhookDeliveryState::Delivered
        } else {
            WebhookDeliveryState::Failed
        };
        let (status, error) = match result {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        let attempt = WebhookAttempt { number: 1, timestamp: ts, signature: sent_sig, status, error };
        hub.deliveries.record(index, attempt, state);
        Ok(lock(&hub.deliveries.log)[index].delivery.clone())
    }
}
