//! The hub: the registered endpoints with their queues and sender tasks, the shadow state, and publishing an event to
//! the endpoints that take it.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::changes::Shadow;
use super::delivery::Deliveries;
use super::endpoint::check_url;
use super::origin::{Origin, current_origin};
use super::sender::{Job, Target, sender};
use super::signing::{SECRET_PREFIX, decode_secret};
use super::{
    Options, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint, WebhookEndpointConfig, WebhookError, lock, now_ms,
};
#[cfg(doc)]
use crate::Emulator;
use crate::store::Store;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub(super) struct Endpoint {
    pub(super) info: WebhookEndpoint,
    pub(super) tx: mpsc::Sender<Job>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

/// The emulator's webhooks: endpoints, their senders, the shadow state and the delivery log.
pub(crate) struct Hub {
    /// Whether any endpoint is registered (the shadow is kept only then).
    pub(super) active: AtomicBool,
    instance_id: String,
    runtime: tokio::runtime::Handle,
    rng: Mutex<ChaCha20Rng>,
    pub(super) endpoints: Mutex<Vec<Endpoint>>,
    pub(super) shadow: Mutex<Shadow>,
    pub(super) deliveries: Arc<Deliveries>,
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub").field("active", &self.active).finish_non_exhaustive()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Hub {
    /// A hub with the builder's endpoints (the store is empty, so is the shadow). Must run inside a tokio runtime.
    pub(crate) fn new(instance_id: String, seed: Option<u64>, options: Options) -> Result<Self, WebhookError> {
        let rng = match seed {
            // A stream of its own, apart from the key derivation's.
            Some(seed) => ChaCha20Rng::seed_from_u64(seed ^ 0x7768_7365_635f_0001),
            None => ChaCha20Rng::seed_from_u64(rand::random()),
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let hub = Self {
            active: AtomicBool::new(false),
            instance_id,
            runtime: tokio::runtime::Handle::current(),
            rng: Mutex::new(rng),
            endpoints: Mutex::new(Vec::new()),
            shadow: Mutex::new(Shadow::default()),
            deliveries: Arc::new(Deliveries {
                config: options.delivery.unwrap_or_default(),
                client,
                log: Mutex::new(Vec::new()),
                changed: watch::Sender::new(0),
            }),
        };
        for config in options.endpoints {
            hub.register(config)?;
        }
        Ok(hub)
    }

    /// Stops every sender (in-flight attempts end; their deliveries stay as recorded).
    pub(crate) fn shutdown(&self) {
        for ep in lock(&self.endpoints).iter() {
            ep.task.abort();
        }
    }

    /// Registers an endpoint and starts its sender. The caller holds the store lock when the shadow must be taken
    /// (see [`Emulator::add_webhook_endpoint_with`]).
    pub(super) fn register(&self, config: WebhookEndpointConfig) -> Result<WebhookEndpoint, WebhookError> {
        let uri = check_url(&config.url)?;
        let (id, secret) = {
            let mut rng = lock(&self.rng);
            let id = format!("ep_{}", base62(&mut rng, 27));
            let secret = match config.secret {
                Some(s) => s,
                None => {
                    let bytes: [u8; 24] = rng.r#gen();
                    format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            };
            (id, secret)
        };
        let key = decode_secret(&secret)?;
        let info = WebhookEndpoint { id, url: config.url, secret, event_types: config.event_types };
        let (tx, rx) = mpsc::channel(self.deliveries.config.queue_capacity);
        let task = self.runtime.spawn(sender(Arc::clone(&self.deliveries), Target { uri, key }, rx));
        let mut endpoints = lock(&self.endpoints);
        endpoints.push(Endpoint { info: info.clone(), tx, task });
        self.active.store(true, Ordering::Release);
        Ok(info)
    }

    /// Compares the store with the shadow and queues the events of what changed. Called with the store locked.
    pub(super) fn sync(&self, store: &Store) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let events = lock(&self.shadow).update(store);
        if events.is_empty() {
            return;
        }
        let origin = current_origin();
        let timestamp = now_ms();
        for (event_type, data) in events {
            let body = self.envelope(event_type, data, &origin, timestamp);
            let _ = self.publish(event_type, &body, None);
        }
    }

    pub(super) fn envelope(&self, event_type: &str, data: Value, origin: &Origin, timestamp: i64) -> Bytes {
        let mut payload = json!({
            "object": "event",
            "type": event_type,
            "timestamp": timestamp,
            "instance_id": self.instance_id,
            "event_attributes": {
                "http_request": { "client_ip": origin.client_ip, "user_agent": origin.user_agent },
            },
        });
        payload["data"] = data;
        Bytes::from(serde_json::to_vec(&payload).unwrap_or_default())
    }

    /// Queues one message for every endpoint that takes `event_type` (or for endpoint `only`, whatever its filter).
    /// Returns the message id.
    pub(super) fn publish(&self, event_type: &str, body: &Bytes, only: Option<&str>) -> Result<String, WebhookError> {
        let msg_id = format!("msg_{}", base62(&mut lock(&self.rng), 27));
        let endpoints = lock(&self.endpoints);
        let mut result = Ok(msg_id.clone());
        let mut found = false;
        for ep in endpoints.iter() {
            let wanted = match only {
                Some(id) => ep.info.id == id,
                None => ep.info.event_types.as_ref().is_none_or(|t| t.iter().any(|t| t == event_type)),
            };
            if !wanted {
                continue;
            }
            found = true;
            let index = self.deliveries.push(WebhookDelivery {
                endpoint_id: ep.info.id.clone(),
                msg_id: msg_id.clone(),
                event_type: event_type.to_owned(),
                body: String::from_utf8_lossy(body).into_owned(),
                attempts: Vec::new(),
                last_status: None,
                last_error: None,
                delivered: false,
                state: WebhookDeliveryState::Pending,
            });
            let job = Job { index, msg_id: msg_id.clone(), body: body.clone() };
            if let Err(e) = ep.tx.try_send(job) {
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "queue full",
                    mpsc::error::TrySendError::Closed(_) => "sender stopped",
                };
                tracing::warn!(target: "clerk_testing::webhooks", endpoint = %ep.info.id, %msg_id, why, "webhook dropped");
                self.deliveries.update(index, |d| {
                    d.state = WebhookDeliveryState::Dropped;
                    d.last_error = Some(why.to_owned());
                });
                result = Err(WebhookError::QueueFull(ep.info.id.clone()));
            }
        }
        if let Some(id) = only
            && !found
        {
            return Err(WebhookError::UnknownEndpoint(id.to_owned()));
        }
        result
    }

    pub(super) fn endpoint(&self, id: &str) -> Result<WebhookEndpoint, WebhookError> {
        lock(&self.endpoints)
            .iter()
            .find(|e| e.info.id == id)
            .map(|e| e.info.clone())
            .ok_or_else(|| WebhookError::UnknownEndpoint(id.to_owned()))
    }

    pub(super) fn next_msg_id(&self) -> String {
        format!("msg_{}", base62(&mut lock(&self.rng), 27))
    }
}

fn base62(rng: &mut ChaCha20Rng, len: usize) -> String {
    (0..len).map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())])).collect()
}
