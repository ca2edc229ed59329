//! Webhooks: endpoints, the events the emulator's own state changes raise, signed delivery with retries, and a
//! delivery log for tests.
//!
//! How events are found: once an endpoint is registered, the emulator keeps a shadow copy of its users, sessions,
//! organizations and memberships. Every time the store lock is released (after a Backend API request or a Rust
//! helper such as [`Emulator::create_user`]), the store is compared with the shadow, still under the lock, and each
//! difference becomes an event. So every path that changes the state raises its events, in the order the changes
//! happened, and no handler needs to remember to.
//!
//! Signing uses RustCrypto's `hmac` and `sha2`, independently of the SDK's own verifier (`aws-lc-rs`), so the SDK is
//! never tested only against itself.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac as _};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{mpsc, watch};

use crate::store::Store;
use crate::{Emulator, EmulatorBuilder};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_PREFIX: &str = "whsec_";
const USER_AGENT: &str = "Svix-Webhooks/1.0 (clerk-testing emulator)";
const MAX_RESPONSE_BODY: usize = 64 * 1024;
/// User fields whose change alone raises no `user.updated` (they move on every sign-in).
const USER_ACTIVITY_FIELDS: &[&str] = &["last_active_at", "last_sign_in_at"];

// ---------------------------------------------------------------------------------------------------------------
// Public types.

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

/// A registered webhook endpoint: where events go and the secret they are signed with.
///
/// `Debug` prints the secret redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    id: String,
    url: String,
    secret: String,
    event_types: Option<Vec<String>>,
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
    url: String,
    secret: Option<String>,
    event_types: Option<Vec<String>>,
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

/// How the emulator delivers webhooks: attempts, backoff, timeout and queue size.
///
/// Every non-2xx answer, connection error or timeout is retried, with the same `svix-id` and a fresh timestamp and
/// signature, until `max_attempts` attempts have been made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct WebhookDeliveryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    attempt_timeout: Duration,
    queue_capacity: usize,
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
    fn backoff_after(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

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

/// A hand-made webhook request for [`Emulator::send_raw_webhook`]: by default signed correctly for the endpoint, with
/// a fresh message id and the current timestamp; each part can be overridden to test a receiver's rejections (a
/// stale timestamp, a wrong secret, a missing or tampered header).
#[derive(Clone)]
#[must_use]
pub struct RawWebhook {
    body: Bytes,
    msg_id: Option<String>,
    timestamp: Option<i64>,
    secret: Option<String>,
    signature: Option<String>,
    headers: Vec<(String, String)>,
    omit: Vec<String>,
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

/// The `svix-signature` value for a delivery: `v1,` + base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")),
/// where the key is the base64-decoded part of `secret` after `whsec_`.
///
/// # Errors
/// [`WebhookError::InvalidSecret`] when `secret` is not `whsec_` + non-empty standard base64.
pub fn sign_webhook(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    Ok(signature(&decode_secret(secret)?, msg_id, timestamp, body))
}

// ---------------------------------------------------------------------------------------------------------------
// Signing.

fn decode_secret(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).ok_or(WebhookError::InvalidSecret)?;
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(WebhookError::InvalidSecret),
    }
}

fn signature(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

fn base62(rng: &mut ChaCha20Rng, len: usize) -> String {
    (0..len).map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())])).collect()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn check_url(url: &str) -> Result<http::Uri, WebhookError> {
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

// ---------------------------------------------------------------------------------------------------------------
// Where events come from: the request that caused them.

/// The `event_attributes.http_request` of the events a change raises.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    client_ip: String,
    user_agent: String,
}

impl Origin {
    pub(crate) fn new(client_ip: std::net::IpAddr, user_agent: Option<&str>) -> Self {
        Self { client_ip: client_ip.to_string(), user_agent: user_agent.unwrap_or_default().to_owned() }
    }

    /// The origin of changes made through the Rust helpers.
    fn helper() -> Self {
        Self {
            client_ip: "127.0.0.1".to_owned(),
            user_agent: concat!("clerk-testing/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

thread_local! {
    static ORIGIN: RefCell<Option<Origin>> = const { RefCell::new(None) };
}

/// Runs `f` (synchronous: the store lock is taken and released inside) with `origin` as the origin of the events
/// its changes raise.
pub(crate) fn with_origin<R>(origin: Origin, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Origin>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            ORIGIN.with(|o| *o.borrow_mut() = prev);
        }
    }
    let prev = ORIGIN.with(|o| o.borrow_mut().replace(origin));
    let _restore = Restore(prev);
    f()
}

fn current_origin() -> Origin {
    ORIGIN.with(|o| o.borrow().clone()).unwrap_or_else(Origin::helper)
}

// ---------------------------------------------------------------------------------------------------------------
// The store guard: releasing the store raises the events of what changed.

/// The store, locked. Dropping it compares the store with the webhook shadow and queues the events.
pub(crate) struct StoreGuard<'a> {
    store: MutexGuard<'a, Store>,
    hub: &'a Hub,
}

impl fmt::Debug for StoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreGuard").finish_non_exhaustive()
    }
}

impl<'a> StoreGuard<'a> {
    pub(crate) const fn new(store: MutexGuard<'a, Store>, hub: &'a Hub) -> Self {
        Self { store, hub }
    }
}

impl Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.hub.sync(&self.store);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Change detection.

/// The last state events were raised for.
#[derive(Debug, Default)]
struct Shadow {
    users: BTreeMap<String, Value>,
    session_status: BTreeMap<String, String>,
    orgs: BTreeMap<String, Value>,
    memberships: BTreeMap<(String, String), Value>,
}

fn memberships(store: &Store) -> impl Iterator<Item = ((String, String), &Value)> {
    store.orgs.memberships.iter().flat_map(|(org, ms)| ms.iter().map(move |(user, m)| ((org.clone(), user.clone()), m)))
}

fn status(session: &Value) -> String {
    session["status"].as_str().unwrap_or_default().to_owned()
}

/// Makes `shadow` equal to `current`, copying only what differs.
fn sync_map(shadow: &mut BTreeMap<String, Value>, current: &BTreeMap<String, Value>) {
    shadow.retain(|k, _| current.contains_key(k));
    for (k, v) in current {
        if shadow.get(k) != Some(v) {
            shadow.insert(k.clone(), v.clone());
        }
    }
}

/// Whether two objects are equal except for `ignored` fields.
fn eq_except(a: &Value, b: &Value, ignored: &[&str]) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let keep = |k: &&String| !ignored.contains(&k.as_str());
            a.iter().filter(|(k, _)| keep(k)).all(|(k, v)| b.get(k) == Some(v))
                && b.keys().filter(keep).all(|k| a.contains_key(k))
        }
        _ => a == b,
    }
}

impl Shadow {
    fn of(store: &Store) -> Self {
        Self {
            users: store.users.users.clone(),
            session_status: store.users.sessions.iter().map(|(id, s)| (id.clone(), status(s))).collect(),
            orgs: store.orgs.organizations.clone(),
            memberships: memberships(store).map(|(k, m)| (k, m.clone())).collect(),
        }
    }

    /// The events between the shadow and `store`, in causal order (creations, updates, session changes,
    /// deletions from the leaves up); the shadow then matches `store`.
    fn update(&mut self, store: &Store) -> Vec<(&'static str, Value)> {
        let users = &store.users.users;
        let orgs = &store.orgs.organizations;
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut sessions = Vec::new();
        let mut deleted = Vec::new();

        // Users.
        let mut user_created = Vec::new();
        let mut user_updated = Vec::new();
        for (id, u) in users {
            match self.users.get(id) {
                None => user_created.push(("user.created", u.clone())),
                Some(old) if !eq_except(old, u, USER_ACTIVITY_FIELDS) => user_updated.push(("user.updated", u.clone())),
                _ => {}
            }
        }
        let user_deleted: Vec<_> = self
            .users
            .iter()
            .filter(|(id, _)| !users.contains_key(*id))
            .map(|(id, old)| {
                let mut d = json!({"object": "user", "id": id, "deleted": true});
                if let Some(ext) = old["external_id"].as_str() {
                    d["external_id"] = json!(ext);
                }
                ("user.deleted", d)
            })
            .collect();

        // Organizations.
        let mut org_created = Vec::new();
        let mut org_updated = Vec::new();
        for (id, o) in orgs {
            match self.orgs.get(id) {
                None => org_created.push(("organization.created", o.clone())),
                Some(old) if old != o => org_updated.push(("organization.updated", o.clone())),
                _ => {}
            }
        }
        let org_deleted: Vec<_> = self
            .orgs
            .iter()
            .filter(|(id, _)| !orgs.contains_key(*id))
            .map(|(id, old)| {
                let mut d = json!({"object": "organization", "id": id, "deleted": true});
                if let Some(slug) = old["slug"].as_str() {
                    d["slug"] = json!(slug);
                }
                ("organization.deleted", d)
            })
            .collect();

        // Memberships: compared as stored; sent as the Backend API answers them (current organization, fresh
        // `public_user_data`). A deleted one is rendered with the last known user and organization.
        let current: BTreeMap<(String, String), &Value> = memberships(store).collect();
        let render = |m: &Value, users: &BTreeMap<String, Value>, org_id: &str| {
            let mut out = store.orgs.render_membership(m, Some(users));
            if !orgs.contains_key(org_id)
                && let Some(old) = self.orgs.get(org_id)
            {
                out["organization"] = old.clone();
            }
            out
        };
        let mut mem_created = Vec::new();
        let mut mem_updated = Vec::new();
        for ((org_id, user_id), m) in &current {
            match self.memberships.get(&(org_id.clone(), user_id.clone())) {
                None => mem_created.push(("organizationMembership.created", render(m, users, org_id))),
                Some(old) if old != *m => {
                    mem_updated.push(("organizationMembership.updated", render(m, users, org_id)))
                }
                _ => {}
            }
        }
        let mem_deleted: Vec<_> = self
            .memberships
            .iter()
            .filter(|(k, _)| !current.contains_key(*k))
            .map(|((org_id, _), old)| ("organizationMembership.deleted", render(old, &self.users, org_id)))
            .collect();

        // Sessions: created (or pending), then status transitions.
        for (id, s) in &store.users.sessions {
            let now = status(s);
            let event = match (self.session_status.get(id).map(String::as_str), now.as_str()) {
                (None, "pending") => Some("session.pending"),
                (None, _) => Some("session.created"),
                (Some(before), after) if before == after => None,
                (Some(_), "revoked") => Some("session.revoked"),
                (Some(_), "ended") => Some("session.ended"),
                (Some(_), "removed") => Some("session.removed"),
                (Some(_), "pending") => Some("session.pending"),
                _ => None,
            };
            if let Some(event) = event {
                let mut data = s.clone();
                let uid = s["user_id"].as_str().unwrap_or_default();
                data["user"] = users.get(uid).or_else(|| self.users.get(uid)).cloned().unwrap_or(Value::Null);
                sessions.push((event, data));
            }
        }

        created.extend(user_created);
        created.extend(org_created);
        created.extend(mem_created);
        updated.extend(user_updated);
        updated.extend(org_updated);
        updated.extend(mem_updated);
        deleted.extend(mem_deleted);
        deleted.extend(org_deleted);
        deleted.extend(user_deleted);
        let mut events = created;
        events.extend(updated);
        events.extend(sessions);
        events.extend(deleted);
        sync_map(&mut self.users, users);
        sync_map(&mut self.orgs, orgs);
        self.memberships.retain(|k, _| current.contains_key(k));
        for (k, m) in current {
            if self.memberships.get(&k) != Some(m) {
                self.memberships.insert(k, m.clone());
            }
        }
        self.session_status = store.users.sessions.iter().map(|(id, s)| (id.clone(), status(s))).collect();
        events
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The delivery log, shared with the sender tasks.

#[derive(Debug)]
struct Entry {
    delivery: WebhookDelivery,
    /// Returned by [`Emulator::wait_for_webhook`] already.
    taken: bool,
}

struct Deliveries {
    config: WebhookDeliveryConfig,
    client: Client<HttpConnector, Full<Bytes>>,
    log: Mutex<Vec<Entry>>,
    changed: watch::Sender<u64>,
}

impl fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliveries").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Deliveries {
    fn push(&self, delivery: WebhookDelivery) -> usize {
        let mut log = lock(&self.log);
        log.push(Entry { delivery, taken: false });
        let index = log.len() - 1;
        drop(log);
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        index
    }

    fn update(&self, index: usize, f: impl FnOnce(&mut WebhookDelivery)) {
        if let Some(e) = lock(&self.log).get_mut(index) {
            f(&mut e.delivery);
        }
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn record(&self, index: usize, attempt: WebhookAttempt, state: WebhookDeliveryState) {
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

    fn pending(&self) -> usize {
        lock(&self.log).iter().filter(|e| !e.delivery.is_settled()).count()
    }

    /// Sends one request; `Ok(status)` or `Err(why)`.
    async fn post(&self, uri: &http::Uri, headers: HeaderMap, body: Bytes) -> Result<u16, String> {
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

fn svix_headers(msg_id: &str, timestamp: i64, signature: &str) -> HeaderMap {
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
struct Job {
    index: usize,
    msg_id: String,
    body: Bytes,
}

/// What a sender task needs to know about its endpoint.
struct Target {
    uri: http::Uri,
    key: Vec<u8>,
}

/// One endpoint's sender: takes its queue in order, one message at a time, retrying each until it is delivered or
/// out of attempts.
async fn sender(deliveries: Arc<Deliveries>, target: Target, mut rx: mpsc::Receiver<Job>) {
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

// ---------------------------------------------------------------------------------------------------------------
// The hub: endpoints, the shadow, publishing.

struct Endpoint {
    info: WebhookEndpoint,
    tx: mpsc::Sender<Job>,
    task: tokio::task::JoinHandle<()>,
}

/// What the builder collects.
#[derive(Debug, Default)]
pub(crate) struct Options {
    endpoints: Vec<WebhookEndpointConfig>,
    delivery: Option<WebhookDeliveryConfig>,
}

/// The emulator's webhooks: endpoints, their senders, the shadow state and the delivery log.
pub(crate) struct Hub {
    /// Whether any endpoint is registered (the shadow is kept only then).
    active: AtomicBool,
    instance_id: String,
    runtime: tokio::runtime::Handle,
    rng: Mutex<ChaCha20Rng>,
    endpoints: Mutex<Vec<Endpoint>>,
    shadow: Mutex<Shadow>,
    deliveries: Arc<Deliveries>,
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
    fn register(&self, config: WebhookEndpointConfig) -> Result<WebhookEndpoint, WebhookError> {
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
    fn sync(&self, store: &Store) {
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

    fn envelope(&self, event_type: &str, data: Value, origin: &Origin, timestamp: i64) -> Bytes {
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
    fn publish(&self, event_type: &str, body: &Bytes, only: Option<&str>) -> Result<String, WebhookError> {
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

    fn endpoint(&self, id: &str) -> Result<WebhookEndpoint, WebhookError> {
        lock(&self.endpoints)
            .iter()
            .find(|e| e.info.id == id)
            .map(|e| e.info.clone())
            .ok_or_else(|| WebhookError::UnknownEndpoint(id.to_owned()))
    }

    fn next_msg_id(&self) -> String {
        format!("msg_{}", base62(&mut lock(&self.rng), 27))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The public surface on the emulator and its builder.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_vector() {
        let sig = sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        // One byte of the body changed: another signature.
        let other = sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_usex"}"#,
        )
        .unwrap();
        assert_ne!(other, sig);
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        for bad in ["C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_", "whsec_***", "whsec"] {
            assert!(matches!(decode_secret(bad), Err(WebhookError::InvalidSecret)), "{bad}");
        }
        assert_eq!(decode_secret("whsec_AAEC").unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(check_url("http://127.0.0.1:9/hooks").is_ok());
        for bad in ["https://127.0.0.1/x", "ftp://h/x", "/hooks", "http:///x", "not a url"] {
            assert!(matches!(check_url(bad), Err(WebhookError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WebhookDeliveryConfig::new().backoff(Duration::from_millis(10)).max_backoff(Duration::from_millis(35));
        let waits: Vec<_> = (1..=5).map(|n| c.backoff_after(n).as_millis()).collect();
        assert_eq!(waits, [10, 20, 35, 35, 35]);
        assert_eq!(WebhookDeliveryConfig::new().max_attempts(0).max_attempts, 1);
    }

    #[test]
    fn objects_compare_without_activity_fields() {
        let a = json!({"id": "u", "last_active_at": 1, "first_name": "A"});
        assert!(eq_except(&a, &json!({"id": "u", "last_active_at": 2, "first_name": "A"}), USER_ACTIVITY_FIELDS));
        assert!(!eq_except(&a, &json!({"id": "u", "last_active_at": 1, "first_name": "B"}), USER_ACTIVITY_FIELDS));
        assert!(!eq_except(&a, &json!({"id": "u", "first_name": "A", "extra": 1}), USER_ACTIVITY_FIELDS));
    }

    #[tokio::test]
    async fn seeded_hubs_generate_the_same_endpoints() {
        let make = || {
            Hub::new("ins_x".into(), Some(7), Options::default())
                .unwrap()
                .register(WebhookEndpointConfig::new("http://127.0.0.1:9/h"))
                .unwrap()
        };
        let (a, b) = (make(), make());
        assert_eq!(a, b);
        assert!(a.id().starts_with("ep_"));
        let key = decode_secret(a.secret()).unwrap();
        assert_eq!(key.len(), 24);
        let unseeded = Hub::new("ins_x".into(), None, Options::default()).unwrap();
        let c = unseeded.register(WebhookEndpointConfig::new("http://127.0.0.1:9/h")).unwrap();
        assert_ne!(c.secret(), a.secret());
        assert!(!format!("{a:?}").contains(a.secret()));
    }
}
