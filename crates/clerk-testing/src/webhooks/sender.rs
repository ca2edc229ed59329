//! Sending: one HTTP request with the Svix headers, and each endpoint's sender task, which takes its queue in order
//! and retries a message until it is delivered or out of attempts.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt as _, Full, Limited};
use tokio::sync::mpsc;

use super::delivery::Deliveries;
use super::now_secs;
use super::signing::signature;
use super::{WebhookAttempt, WebhookDeliveryState};

const USER_AGENT: &str = "Svix-Webhooks/1.0 (clerk-testing emulator)";
const MAX_RESPONSE_BODY: usize = 64 * 1024;

impl Deliveries {
    /// Sends one request; `Ok(status)` or `Err(why)`.
    pub(super) async fn post(&self, uri: &http::Uri, headers: HeaderMap, body: Bytes) -> Result<u16, String> {
        let mut req = http::Request::new(Full::new(body));
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = uri.clone();
        *req.headers_mut() = headers;
        let attempt = async {
            let resp = self.client.request(req).await.map_err(|e| error_chain(&e))?;
            let status = resp.status().as_u16();
            // Read (and discard) the answer so the connection can be reused.
            let _ = Limited::new(resp.into_body(), MAX_RESPONSE_BODY).collect().await;
            Ok(status)
        };
        match tokio::time::timeout(self.config.attempt_timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {:?}", self.config.attempt_timeout)),
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

pub(super) fn svix_headers(msg_id: &str, timestamp: i64, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(http::header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    for (name, value) in
        [("svix-id", msg_id), ("svix-timestamp", &timestamp.to_string()), ("svix-signature", signature)]
    {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    }
    h
}

/// A message queued for one endpoint.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) index: usize,
    pub(super) msg_id: String,
    pub(super) body: Bytes,
}

/// What a sender task needs to know about its endpoint.
pub(super) struct Target {
    pub(super) uri: http::Uri,
    pub(super) key: Vec<u8>,
}

/// One endpoint's sender: takes its queue in order, one message at a time, retrying each until it is delivered or
/// out of attempts.
pub(super) async fn sender(deliveries: Arc<Deliveries>, target: Target, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let max = deliveries.config.max_attempts;
        for n in 1..=max {
            let ts = now_secs();
            let sig = signature(&target.key, &job.msg_id, ts, &job.body);
            let result = deliveries.post(&target.uri, svix_headers(&job.msg_id, ts, &sig), job.body.clone()).await;
            let ok = matches!(result, Ok(s) if (200..300).contains(&s));
            let state = if ok {
                WebhookDeliveryState::Delivered
            } else if n == max {
                WebhookDeliveryState::Failed
            } else {
                WebhookDeliveryState::Pending
            };
            let (status, error) = match result {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(e)),
            };
            tracing::debug!(
                target: "clerk_testing::webhooks",
                msg_id = %job.msg_id, attempt = n, ?status, ?error, "webhook attempt"
            );
            deliveries.record(
                job.index,
                WebhookAttempt { number: n, timestamp: ts, signature: Some(sig), status, error },
                state,
            );
            if state != WebhookDeliveryState::Pending {
                break;
            }
            tokio::time::sleep(deliveries.config.backoff_after(n)).await;
        }
    }
}
