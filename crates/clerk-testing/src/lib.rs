#![recursion_limit = "256"]
//! # clerk-testing
//!
//! An offline [Clerk](https://clerk.com) emulator for tests: instance keys, session tokens, the JWKS endpoints and an
//! in-memory Backend API whose every request is checked against Clerk's OpenAPI spec. No Clerk account, no network:
//! it listens on an ephemeral loopback port and stops when dropped.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_testing::Emulator;
//!
//! let clerk = Emulator::start().await?;
//! let user = clerk.create_user("ada@example.com")?;
//! let token = clerk.session_token(&user)?.mint();
//!
//! // Point your app (or clerk-core) at the emulator: it accepts these unchanged.
//! let (api_url, secret_key) = (clerk.api_url(), clerk.secret_key());
//! # let _ = (api_url, secret_key, token);
//! # Ok(()) }
//! ```
//!
//! Add it as a dev-dependency. See `docs/testing.md` in the repository for testing an axum or actix app.
//!
//! ## What it emulates
//!
//! - `GET /v1/jwks` (secret key required) and `GET /.well-known/jwks.json` (Frontend API, no auth), with key
//!   rotation on demand ([`Emulator::rotate_keys`]).
//! - Session tokens minted with josekit ([`TokenBuilder`]): v1 and v2 claims, expired, not yet valid, wrong `azp`,
//!   forged (another instance's key), M2M category, pending, impersonation, organizations.
//! - The Backend API (`/v1/...`): unknown paths → 404, a missing or wrong secret key → 401, a request that breaks the
//!   spec (missing required parameter, wrong type, a body field the spec does not allow) → 422, all in Clerk's error
//!   shape. The operation table is generated from Clerk's OpenAPI spec by `cargo xtask codegen`.
//! - Machine authentication: machines, API keys, M2M tokens and OAuth access tokens, opaque and JWT, issued by
//!   helpers ([`Emulator::create_api_key`], [`Emulator::m2m_token`], [`Emulator::oauth_access_token`]) or the Backend
//!   API (`POST /v1/api_keys`, `POST /v1/machines`, `POST /v1/m2m_tokens`) and verified by it (`…/verify`), with
//!   revocation ([`Emulator::revoke_machine_token`]).
//! - Faults on demand ([`Faults`]): latency, a status (5xx, 429 with `Retry-After`), a malformed body, a dropped
//!   connection; and a request log ([`Emulator::requests`]).
//! - Webhooks ([`Emulator::add_webhook_endpoint`], [`EmulatorBuilder::webhook_endpoint`]): every change to users,
//!   sessions, organizations and memberships, through the Backend API or the Rust helpers, is POSTed to the
//!   registered endpoints as Clerk sends it (`user.created`, `session.revoked`, `organizationMembership.deleted`, …),
//!   signed the Svix way (`svix-id`, `svix-timestamp`, `svix-signature`), in order, with retries
//!   ([`WebhookDeliveryConfig`]). Every attempt is recorded ([`Emulator::webhook_deliveries`]); tests wait with
//!   [`Emulator::wait_for_webhook`] or [`Emulator::flush_webhooks`] instead of sleeping, and send hand-made
//!   deliveries (stale, unsigned, wrongly signed) with [`Emulator::send_raw_webhook`]. Signing uses RustCrypto's
//!   `hmac`, not the SDK's verifier.
//!
//! It never uses `clerk-core`'s verifier or `clerk-api`'s models: it works from JSON values and the spec, so a bug
//! shared with a client cannot hide.

#[doc = include_str!("../../../docs/testing.md")]
pub mod guide {}

mod api;
mod errors;
mod faults;
mod ids;
mod keys;
mod server;
pub(crate) mod spec;
mod store;
mod tokens;
pub mod validate;
mod webhooks;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use serde_json::{Value, json};

pub use api::machine::MachineTokenFormat;
pub use faults::{Fault, Faults, RecordedRequest};
pub use keys::InstanceKey;
pub use tokens::{CAT_M2M, ClaimsVersion, TokenBuilder};
pub use webhooks::{
    RawWebhook, WebhookAttempt, WebhookDelivery, WebhookDeliveryConfig, WebhookDeliveryState, WebhookEndpoint,
    WebhookEndpointConfig, WebhookError, sign_webhook,
};

/// What can go wrong starting or driving the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listener could not be bound.
    #[error("cannot bind the emulator's listener")]
    Bind(#[source] std::io::Error),
    /// A key could not be generated or encoded.
    #[error("cannot create an instance key")]
    Key(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A user or session the call names does not exist in the emulator.
    #[error("no such {kind} in the emulator")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
    },
    /// The value given is not acceptable (e.g. a malformed email address).
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl EmulatorError {
    pub(crate) fn key(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Key(Box::new(e))
    }
}

/// State shared by the handle and the server task.
pub(crate) struct Shared {
    pub(crate) instance_id: String,
    pub(crate) secret_key: String,
    pub(crate) publishable_key: String,
    pub(crate) base_url: String,
    pub(crate) default_azp: String,
    keys: RwLock<KeyRing>,
    pub(crate) store: Mutex<store::Store>,
    pub(crate) faults: Faults,
    pub(crate) webhooks: webhooks::Hub,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("instance_id", &self.instance_id).field("base_url", &self.base_url).finish()
    }
}

struct KeyRing {
    active: Arc<InstanceKey>,
    published: Vec<Arc<InstanceKey>>,
}

impl Shared {
    pub(crate) fn active_key(&self) -> Arc<InstanceKey> {
        self.keys.read().map_or_else(|p| Arc::clone(&p.into_inner().active), |k| Arc::clone(&k.active))
    }

    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<Value> = match self.keys.read() {
            Ok(k) => k.published.iter().map(|k| k.public_jwk().clone()).collect(),
            Err(p) => p.into_inner().published.iter().map(|k| k.public_jwk().clone()).collect(),
        };
        json!({ "keys": keys })
    }

    /// The Frontend API URL, which Clerk puts in `iss`: here the emulator's own URL.
    pub(crate) fn issuer(&self) -> String {
        self.base_url.clone()
    }

    /// The store, locked; releasing it queues the webhook events of what changed.
    pub(crate) fn lock_store(&self) -> webhooks::StoreGuard<'_> {
        webhooks::StoreGuard::new(self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner), &self.webhooks)
    }
}

/// Configures an [`Emulator`].
#[derive(Debug, Default)]
#[must_use]
pub struct EmulatorBuilder {
    addr: Option<SocketAddr>,
    seed: Option<u64>,
    default_azp: Option<String>,
    key: Option<InstanceKey>,
    webhooks: webhooks::Options,
}

impl EmulatorBuilder {
    /// Listen on this address. Default `127.0.0.1:0` (an ephemeral loopback port).
    pub const fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Derive the instance key and ids from a seed, so runs are reproducible. Default: random.
    pub const fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sign with this key (its `kid` becomes the instance id). Default: a fresh key, or one derived from the seed.
    /// Two emulators given keys with the same `kid` model two instances whose key ids collide.
    pub fn key(mut self, key: InstanceKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The `azp` minted tokens carry unless told otherwise. Default `http://localhost:3000`.
    pub fn default_authorized_party(mut self, azp: impl Into<String>) -> Self {
        self.default_azp = Some(azp.into());
        self
    }

    /// Binds the listener and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// [`EmulatorError::Bind`] or [`EmulatorError::Key`].
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let addr = self.addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(EmulatorError::Bind)?;
        let local = listener.local_addr().map_err(EmulatorError::Bind)?;
        let (mut instance_id, secret) = match self.seed {
            Some(seed) => (format!("ins_seed{seed:020}"), format!("sk_test_emulator{seed:024}")),
            None => (ids::new_id("ins"), format!("sk_test_{}", ids::random_base62(40))),
        };
        let key = match (self.key, self.seed) {
            (Some(key), _) => {
                instance_id = key.kid().to_owned();
                key
            }
            (None, Some(seed)) => tokio::task::spawn_blocking({
                let kid = instance_id.clone();
                move || InstanceKey::from_seed(kid, seed)
            })
            .await
            .map_err(EmulatorError::key)??,
            (None, None) => InstanceKey::generate(instance_id.clone())?,
        };
        let key = Arc::new(key);
        let base_url = format!("http://{local}");
        let frontend_host = local.to_string();
        let publishable_key =
            format!("pk_test_{}", base64::engine::general_purpose::STANDARD.encode(format!("{frontend_host}$")));
        let webhooks = webhooks::Hub::new(instance_id.clone(), self.seed, self.webhooks)
            .map_err(|e| EmulatorError::Invalid(e.to_string()))?;
        let shared = Arc::new(Shared {
            instance_id,
            secret_key: secret,
            publishable_key,
            base_url,
            default_azp: self.default_azp.unwrap_or_else(|| "http://localhost:3000".to_owned()),
            keys: RwLock::new(KeyRing { active: Arc::clone(&key), published: vec![key] }),
            store: Mutex::new(store::Store::default()),
            faults: Faults::default(),
            webhooks,
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(server::serve(listener, Arc::clone(&shared), rx));
        Ok(Emulator { shared, addr: local, shutdown: Some(tx), task: Some(task) })
    }
}

/// A running emulated Clerk instance. Stops serving when dropped.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("instance_id", &self.shared.instance_id)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.shared.webhooks.shutdown();
    }
}

impl Emulator {
    /// Starts an emulator with a random instance on an ephemeral loopback port.
    ///
    /// # Errors
    /// As [`EmulatorBuilder::start`].
    pub async fn start() -> Result<Self, EmulatorError> {
        EmulatorBuilder::default().start().await
    }

    /// A builder for a configured emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The socket address it listens on.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`: use it as the Backend API URL (`CLERK_API_URL`); the API lives under
    /// `/v1`.
    #[must_use]
    pub fn api_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The Frontend API URL (also what minted tokens carry as `iss`): the same loopback URL.
    #[must_use]
    pub fn frontend_api_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The Frontend API JWKS URL, `{base}/.well-known/jwks.json` (no auth).
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.shared.base_url)
    }

    /// The instance's secret key (`sk_test_…`), required by the Backend API.
    #[must_use]
    pub fn secret_key(&self) -> &str {
        &self.shared.secret_key
    }

    /// The publishable key (`pk_test_` + base64 of `127.0.0.1:PORT$`).
    #[must_use]
    pub fn publishable_key(&self) -> &str {
        &self.shared.publishable_key
    }

    /// The instance id, also the `kid` of its first key.
    #[must_use]
    pub fn instance_id(&self) -> &str {
        &self.shared.instance_id
    }

    /// The key currently signing tokens.
    #[must_use]
    pub fn active_key(&self) -> Arc<InstanceKey> {
        self.shared.active_key()
    }

    /// The active key's public PEM (`CLERK_JWT_KEY`, for networkless verification).
    #[must_use]
    pub fn jwt_public_key(&self) -> String {
        self.shared.active_key().public_pem().to_owned()
    }

    /// The published key set.
    #[must_use]
    pub fn jwks(&self) -> Value {
        self.shared.jwks()
    }

    /// Rotates keys: a new key (new `kid`) signs from now on; the old one stays published until
    /// [`retire_key`](Self::retire_key).
    ///
    /// # Errors
    /// [`EmulatorError::Key`].
    pub fn rotate_keys(&self) -> Result<Arc<InstanceKey>, EmulatorError> {
        let key = Arc::new(InstanceKey::generate(ids::new_id("ins"))?);
        let mut ring = self.shared.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.active = Arc::clone(&key);
        ring.published.push(Arc::clone(&key));
        Ok(key)
    }

    /// Removes a key from the published set (tokens it signed stop verifying once verifiers refresh).
    pub fn retire_key(&self, kid: &str) {
        let mut ring = self.shared.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let active = Arc::clone(&ring.active);
        ring.published.retain(|k| k.kid() != kid || Arc::ptr_eq(k, &active));
    }

    /// A key of some other instance, for forged tokens ([`TokenBuilder::signed_by`]).
    ///
    /// # Errors
    /// [`EmulatorError::Key`].
    pub fn foreign_key(&self) -> Result<Arc<InstanceKey>, EmulatorError> {
        Ok(Arc::new(InstanceKey::generate(self.shared.instance_id.clone())?))
    }

    /// Creates a user with this primary email address and returns its id.
    ///
    /// # Errors
    /// [`EmulatorError::Invalid`] when the address is malformed or taken.
    pub fn create_user(&self, email: &str) -> Result<String, EmulatorError> {
        let mut store = self.shared.lock_store();
        let body = json!({ "email_address": [email] });
        store
            .create_user(&body)
            .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
            .map_err(|e| EmulatorError::Invalid(e.long_message().to_owned()))
    }

    /// Reads any stored object by id (user, session, organization, …) as the Backend API would return it.
    #[must_use]
    pub fn object(&self, id: &str) -> Option<Value> {
        self.shared.lock_store().object(id)
    }

    /// Starts an active session for `user_id` (as a sign-in would) and returns a builder for its token.
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] when the user does not exist.
    pub fn session_token(&self, user_id: &str) -> Result<TokenBuilder, EmulatorError> {
        let session_id =
            self.shared.lock_store().create_session(user_id).ok_or(EmulatorError::NotFound { kind: "user" })?;
        Ok(TokenBuilder::new(Arc::clone(&self.shared), user_id.to_owned(), session_id))
    }

    /// A token builder for an existing session.
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] when the session does not exist.
    pub fn token_for_session(&self, session_id: &str) -> Result<TokenBuilder, EmulatorError> {
        let user =
            self.shared.lock_store().session_user(session_id).ok_or(EmulatorError::NotFound { kind: "session" })?;
        Ok(TokenBuilder::new(Arc::clone(&self.shared), user, session_id.to_owned()))
    }

    /// Ends a session as the user signing out would (a Frontend API action, so the Backend API has no route for
    /// it): its status becomes `ended` and a `session.ended` webhook goes out. Tokens already minted for it still
    /// verify until they expire, as with Clerk, whose session tokens are checked without a network call.
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] when the session does not exist; [`EmulatorError::Invalid`] when it is not active
    /// or pending (already ended, revoked, removed, …), which a sign-out cannot change.
    pub fn end_session(&self, session_id: &str) -> Result<(), EmulatorError> {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        let session = store.users.sessions.get_mut(session_id).ok_or(EmulatorError::NotFound { kind: "session" })?;
        match session["status"].as_str() {
            Some("active" | "pending") => {
                session["status"] = json!("ended");
                session["updated_at"] = json!(now);
                Ok(())
            }
            other => Err(EmulatorError::Invalid(format!(
                "session {session_id} is {}, not active: it cannot be ended",
                other.unwrap_or("without a status")
            ))),
        }
    }

    /// Starts a sign-up (as a visitor filling in the sign-up form would) and returns it as the Backend API shows it;
    /// `PATCH /v1/sign_ups/{id}` then updates it.
    #[must_use]
    pub fn create_sign_up(&self, email: Option<&str>) -> Value {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        store.instance.create_sign_up(now, email)
    }

    /// The client token (what `POST /v1/clients/verify` accepts) of the client a session belongs to.
    #[must_use]
    pub fn client_token(&self, session_id: &str) -> Option<String> {
        let store = self.shared.lock_store();
        let client_id = store.users.sessions.get(session_id)?["client_id"].as_str()?.to_owned();
        Some(format!("client_token_{client_id}"))
    }

    /// The fault rules, to add or clear faults.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request served so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.faults.requests()
    }

    /// How many requests had this path (without query), e.g. `/v1/jwks`.
    #[must_use]
    pub fn request_count(&self, path: &str) -> usize {
        self.shared.faults.requests().iter().filter(|r| r.path == path).count()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.faults.clear_requests();
    }
}
