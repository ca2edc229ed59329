//! Fetching and caching the instance's JSON Web Key Set.
//!
//! One [`KeyStore`] per verifier (never a process-wide map by `kid`). Keys are parsed once per fetch into
//! [`VerifyingKey`]s and published through an [`ArcSwap`], so verification reads them without a lock. Refreshes are
//! single-flight; an unknown `kid` triggers at most one refresh per [`KeyCacheConfig::min_refresh_interval`]; when a
//! refresh fails the last good keys keep serving for [`KeyCacheConfig::stale_if_error`], with a `tracing` warning.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};

use crate::clock::Clock;
use crate::error::{KeyError, Reason, VerifyError};
use crate::jwk::{KeySet, VerifyingKey};
use crate::transport::{BoxFuture, HttpTransport, RetryPolicy};

/// Where a remote key set comes from. Implemented here for the Backend API and for a plain JWKS URL; `clerk-api`
/// implements it for its client.
pub trait JwksSource: Send + Sync + fmt::Debug + 'static {
    /// Fetches and parses the key set.
    fn fetch(&self) -> BoxFuture<'_, Result<KeySet, KeyError>>;
}

/// `GET {api_url}/v1/jwks` with the secret key: the official SDKs' default.
pub struct BackendApiJwks {
    url: String,
    secret_key: SecretString,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
}

impl fmt::Debug for BackendApiJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendApiJwks").field("url", &self.url).field("secret_key", &"[redacted]").finish()
    }
}

impl BackendApiJwks {
    /// A source for the instance of `secret_key` at `api_url` (e.g. `https://api.clerk.com`).
    #[must_use]
    pub fn new(api_url: &str, secret_key: SecretString, transport: Arc<dyn HttpTransport>, retry: RetryPolicy) -> Self {
        let base = api_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        Self { url: format!("{base}/v1/jwks"), secret_key, transport, retry }
    }

    /// The URL fetched.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl JwksSource for BackendApiJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<KeySet, KeyError>> {
        Box::pin(async move {
            let auth = format!("Bearer {}", self.secret_key.expose_secret());
            let mut auth = http::HeaderValue::from_str(&auth).map_err(|_| KeyError::SecretKeyInvalid { status: 0 })?;
            auth.set_sensitive(true);
            let req = http::Request::get(&self.url)
                .header(http::header::AUTHORIZATION, auth)
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::USER_AGENT, crate::USER_AGENT)
                .body(Bytes::new())
                .map_err(|_| KeyError::Transport(crate::error::TransportError::InvalidRequest("invalid JWKS URL")))?;
            fetch_and_parse(&*self.transport, &self.retry, req, true).await
        })
    }
}

/// A JWKS at a URL, fetched without credentials: the Frontend API `https://{host}/.well-known/jwks.json`.
#[derive(Debug)]
pub struct UrlJwks {
    url: String,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
}

impl UrlJwks {
    /// A source for the JWKS at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>, transport: Arc<dyn HttpTransport>, retry: RetryPolicy) -> Self {
        Self { url: url.into(), transport, retry }
    }

    /// The URL fetched.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl JwksSource for UrlJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<KeySet, KeyError>> {
        Box::pin(async move {
            let req = http::Request::get(&self.url)
                .header(http::header::ACCEPT, "application/json")
                .header(http::header::USER_AGENT, crate::USER_AGENT)
                .body(Bytes::new())
                .map_err(|_| KeyError::Transport(crate::error::TransportError::InvalidRequest("invalid JWKS URL")))?;
            fetch_and_parse(&*self.transport, &self.retry, req, false).await
        })
    }
}

async fn fetch_and_parse(
    transport: &dyn HttpTransport,
    retry: &RetryPolicy,
    req: http::Request<Bytes>,
    backend_api: bool,
) -> Result<KeySet, KeyError> {
    let resp = retry.send(transport, req).await.map_err(KeyError::Transport)?;
    let status = resp.status();
    if !status.is_success() {
        let key_refused = backend_api
            && (status == http::StatusCode::UNAUTHORIZED
                || status == http::StatusCode::FORBIDDEN
                || memchr_str(resp.body(), b"clerk_key_invalid"));
        return Err(if key_refused {
            KeyError::SecretKeyInvalid { status: status.as_u16() }
        } else {
            KeyError::Status { status: status.as_u16() }
        });
    }
    KeySet::from_jwks_json(resp.body())
}

fn memchr_str(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// How the key cache behaves. Defaults in brackets.
///
/// - `ttl` [5 min]: keys are fresh this long after a fetch (the official SDKs' cache lifetime).
/// - `refresh_ahead` [1 min]: within this long before expiry, a request schedules a background refresh (when a
///   tokio runtime is present) so that no request waits on a fetch.
/// - `min_refresh_interval` [5 s]: refreshes caused by an unknown `kid`, and retries after a failed refresh, happen
///   at most this often.
/// - `stale_if_error` [1 h]: after expiry, if refreshing fails, the last good keys keep serving this long (with a
///   `tracing` warning). `Duration::ZERO` disables stale serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct KeyCacheConfig {
    ttl: Duration,
    refresh_ahead: Duration,
    min_refresh_interval: Duration,
    stale_if_error: Duration,
}

impl Default for KeyCacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            refresh_ahead: Duration::from_secs(60),
            min_refresh_interval: Duration::from_secs(5),
            stale_if_error: Duration::from_secs(3600),
        }
    }
}

impl KeyCacheConfig {
    /// How long fetched keys are fresh. Default 5 minutes.
    pub const fn ttl(mut self, d: Duration) -> Self {
        self.ttl = d;
        self
    }

    /// How long before expiry a background refresh is scheduled. Default 1 minute.
    pub const fn refresh_ahead(mut self, d: Duration) -> Self {
        self.refresh_ahead = d;
        self
    }

    /// Least time between refreshes caused by unknown `kid`s or retrying failures. Default 5 seconds.
    pub const fn min_refresh_interval(mut self, d: Duration) -> Self {
        self.min_refresh_interval = d;
        self
    }

    /// How long past expiry the last good keys serve while refreshes fail. Default 1 hour.
    pub const fn stale_if_error(mut self, d: Duration) -> Self {
        self.stale_if_error = d;
        self
    }

    /// Refuses settings that would turn the cache into a fetch loop: a zero TTL (every request fetches), and a
    /// refresh-ahead window as long as the TTL or longer (every request schedules a refresh, so the key set is
    /// fetched once per `min_refresh_interval` forever, spending the instance's Backend API rate limit).
    pub(crate) fn check(&self) -> Result<(), crate::error::BuildError> {
        use crate::error::BuildError::InvalidOption;
        if self.ttl.is_zero() {
            return Err(InvalidOption { field: "key_cache.ttl", why: "must be positive" });
        }
        if self.refresh_ahead >= self.ttl {
            return Err(InvalidOption {
                field: "key_cache.refresh_ahead",
                why: "must be shorter than the TTL (or zero), else every request schedules a key refresh",
            });
        }
        Ok(())
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One published state of the cache.
pub(crate) struct Snapshot {
    pub(crate) keys: Option<Arc<KeySet>>,
    fetched_at: u64,
    /// Changes only when the set of keys changes (not on a refresh that returns the same keys).
    pub(crate) generation: u64,
    fingerprint: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Initial,
    Expired,
    UnknownKid,
    Ahead,
}

/// The per-verifier key cache.
pub(crate) struct KeyStore {
    current: ArcSwap<Snapshot>,
    source: Option<Arc<dyn JwksSource>>,
    config: KeyCacheConfig,
    clock: Arc<dyn Clock>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// Completed fetch attempts (success or failure).
    attempts: AtomicU64,
    last_attempt_at: AtomicU64,
    last_failure: std::sync::Mutex<Option<Arc<KeyError>>>,
    ahead_in_flight: AtomicBool,
    fetches: AtomicU64,
    last_stale_warning: AtomicU64,
    last_kid_refresh_at: AtomicU64,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snap = self.current.load();
        f.debug_struct("KeyStore")
            .field("source", &self.source)
            .field("keys", &snap.keys)
            .field("generation", &snap.generation)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn fingerprint(keys: &KeySet) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut kids: Vec<&str> = keys.kids().collect();
    kids.sort_unstable();
    let mut h = foldhash::fast::FixedState::with_seed(7).build_hasher();
    if let Some(single) = keys.get(None) {
        h.write(single.fingerprint());
    }
    for kid in &kids {
        h.write(kid.as_bytes());
        h.write_u8(0);
        if let Some(k) = keys.get(Some(kid)) {
            h.write_usize(k.bits());
            h.write(k.fingerprint());
        }
    }
    h.finish()
}

impl KeyStore {
    pub(crate) fn new_static(keys: KeySet, clock: Arc<dyn Clock>) -> Self {
        let fp = fingerprint(&keys);
        Self::build(Some(Arc::new(keys)), None, KeyCacheConfig::default(), clock, fp)
    }

    pub(crate) fn new_remote(source: Arc<dyn JwksSource>, config: KeyCacheConfig, clock: Arc<dyn Clock>) -> Self {
        Self::build(None, Some(source), config, clock, 0)
    }

    fn build(
        keys: Option<Arc<KeySet>>,
        source: Option<Arc<dyn JwksSource>>,
        config: KeyCacheConfig,
        clock: Arc<dyn Clock>,
        fp: u64,
    ) -> Self {
        let now = clock.now_millis();
        Self {
            current: ArcSwap::from_pointee(Snapshot { keys, fetched_at: now, generation: 0, fingerprint: fp }),
            source,
            config,
            clock,
            refresh_lock: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            last_attempt_at: AtomicU64::new(0),
            last_failure: std::sync::Mutex::new(None),
            ahead_in_flight: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
            last_stale_warning: AtomicU64::new(0),
            last_kid_refresh_at: AtomicU64::new(0),
        }
    }

    /// The current key-set generation (changes when the keys change).
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.current.load().generation
    }

    /// The current generation if its keys may still be used at `now_ms` (static keys always; fetched keys until
    /// `ttl + stale_if_error` after the fetch), else `None`.
    #[inline]
    pub(crate) fn usable_generation(&self, now_ms: u64) -> Option<u64> {
        let snap = self.current.load();
        snap.keys.as_ref()?;
        if self.source.is_some() {
            let limit = ms(self.config.ttl).saturating_add(ms(self.config.stale_if_error));
            if now_ms.saturating_sub(snap.fetched_at) >= limit {
                return None;
            }
        }
        Some(snap.generation)
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// How many fetches were started.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The lock-free fast path: `f` with the key for `kid` and its key set's generation, when the keys are loaded,
    /// fresh and not due for a refresh-ahead (static keys: always). The key is borrowed from the current snapshot for
    /// the call, so no reference count is touched: threads verifying at once share no written cache line here.
    /// `None` (and `f` not called) means "take the full path" ([`resolve`](Self::resolve)).
    #[inline]
    pub(crate) fn with_fast_key<R>(&self, kid: Option<&str>, f: impl FnOnce(&VerifyingKey, u64) -> R) -> Option<R> {
        let snap = self.current.load();
        let keys = snap.keys.as_ref()?;
        if self.source.is_some() {
            let age = self.clock.now_millis().saturating_sub(snap.fetched_at);
            if age >= ms(self.config.ttl).saturating_sub(ms(self.config.refresh_ahead)) {
                return None;
            }
        }
        let key = keys.get(kid)?;
        Some(f(key, snap.generation))
    }

    /// Finds the key for `kid`, fetching or refreshing as the policy says. Returns the key and the generation of
    /// the set it came from.
    pub(crate) async fn resolve(self: &Arc<Self>, kid: Option<&str>) -> Result<(Arc<VerifyingKey>, u64), VerifyError> {
        let attempts_seen = self.attempts.load(Ordering::Acquire);
        let snap = self.current.load_full();
        if self.source.is_none() {
            // Static keys: never refreshed.
            return snap.keys.as_ref().and_then(|k| k.get(kid)).map(|k| (Arc::clone(k), snap.generation)).ok_or_else(
                || VerifyError::new(if snap.keys.is_some() { Reason::JwkKidMismatch } else { Reason::JwkLocalMissing }),
            );
        }
        let now = self.clock.now_millis();
        let age = now.saturating_sub(snap.fetched_at);
        let ttl = ms(self.config.ttl);

        if let Some(keys) = &snap.keys {
            let stale_limit = ttl.saturating_add(ms(self.config.stale_if_error));
            if age < ttl.max(stale_limit) {
                if age >= ttl.saturating_sub(ms(self.config.refresh_ahead)) {
                    let scheduled = self.refresh_in_background();
                    if !scheduled && age >= ttl {
                        // No runtime to refresh on: refresh inline, unless another caller already is.
                        if let Ok(fresh) = self.refresh(Trigger::Expired, &snap, attempts_seen, false).await {
                            return match find(&fresh, kid) {
                                Ok(found) => Ok(found),
                                Err(_) => {
                                    self.refresh_then_find(
                                        Trigger::UnknownKid,
                                        &fresh,
                                        self.attempts.load(Ordering::Acquire),
                                        kid,
                                    )
                                    .await
                                }
                            };
                        }
                    }
                }
                if age >= ttl {
                    self.warn_stale(age);
                }
                return match keys.get(kid) {
                    Some(k) => Ok((Arc::clone(k), snap.generation)),
                    None => self.refresh_then_find(Trigger::UnknownKid, &snap, attempts_seen, kid).await,
                };
            }
            // Past the stale limit: the request must wait for fresh keys.
            return match self.refresh(Trigger::Expired, &snap, attempts_seen, true).await {
                Ok(fresh) => find(&fresh, kid),
                Err(err) => Err(verify_error_from(&err)),
            };
        }
        // Never loaded.
        match self.refresh(Trigger::Initial, &snap, attempts_seen, true).await {
            Ok(fresh) => find(&fresh, kid),
            Err(err) => Err(verify_error_from(&err)),
        }
    }

    async fn refresh_then_find(
        self: &Arc<Self>,
        trigger: Trigger,
        snap: &Arc<Snapshot>,
        attempts_seen: u64,
        kid: Option<&str>,
    ) -> Result<(Arc<VerifyingKey>, u64), VerifyError> {
        match self.refresh(trigger, snap, attempts_seen, true).await {
            Ok(fresh) => find(&fresh, kid),
            // Not refreshed again so soon. When the last fetch succeeded, the kid is not the instance's: refused.
            // When it failed, Clerk could not be asked: an outage, so a token signed by a key rotated in during it
            // is not refused as a bad token.
            Err(err) if matches!(*err, KeyError::RateLimited) => match self.last_failure() {
                Some(failure) => Err(verify_error_from(&failure)),
                None => Err(VerifyError::new(Reason::JwkKidMismatch)),
            },
            Err(err) => {
                tracing::warn!(target: "clerk::keys", error = %err, "key refresh for an unknown kid failed");
                Err(verify_error_from(&err))
            }
        }
    }

    /// Single-flight refresh. Waiters that queued behind an attempt take its outcome instead of fetching again.
    async fn refresh(
        &self,
        trigger: Trigger,
        seen: &Arc<Snapshot>,
        attempts_seen: u64,
        wait: bool,
    ) -> Result<Arc<Snapshot>, Arc<KeyError>> {
        let _guard = if wait {
            self.refresh_lock.lock().await
        } else {
            self.refresh_lock.try_lock().map_err(|_| Arc::new(KeyError::RateLimited))?
        };
        let cur = self.current.load_full();
        if !Arc::ptr_eq(&cur, seen) {
            // Someone published new keys (or refreshed the same keys) while we waited.
            return Ok(cur);
        }
        if self.attempts.load(Ordering::Acquire) != attempts_seen {
            // An attempt finished after we looked and failed (success would have swapped the snapshot).
            let failure = self.last_failure.lock().ok().and_then(|f| f.clone());
            return Err(failure.unwrap_or_else(|| Arc::new(KeyError::RateLimited)));
        }
        let now = self.clock.now_millis();
        let interval = ms(self.config.min_refresh_interval);
        if trigger == Trigger::UnknownKid {
            // Unknown-kid refreshes are rate-limited among themselves: a flood of forged kids costs at most one fetch
            // per interval, while a genuine rotation right after a scheduled fetch is still picked up.
            let last_kid = self.last_kid_refresh_at.load(Ordering::Acquire);
            if last_kid != 0 && now.saturating_sub(last_kid) < interval {
                return Err(Arc::new(KeyError::RateLimited));
            }
        }
        let since_last = now.saturating_sub(self.last_attempt_at.load(Ordering::Acquire));
        if self.attempts.load(Ordering::Acquire) > 0 && since_last < interval {
            // A failed fetch (the first one included) is retried at most once per interval: an outage or a revoked
            // secret key must not turn every request into a request to Clerk.
            let failure = self.last_failure.lock().ok().and_then(|f| f.clone());
            if let Some(f) = failure {
                return Err(f);
            }
        }
        if trigger == Trigger::UnknownKid {
            self.last_kid_refresh_at.store(now.max(1), Ordering::Release);
        }
        self.do_fetch(trigger).await
    }

    async fn do_fetch(&self, trigger: Trigger) -> Result<Arc<Snapshot>, Arc<KeyError>> {
        let Some(source) = &self.source else { return Err(Arc::new(KeyError::LocalMissing)) };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        self.last_attempt_at.store(self.clock.now_millis(), Ordering::Release);
        let result = source.fetch().await;
        let outcome = match result {
            Ok(keys) => {
                let old = self.current.load_full();
                let fp = fingerprint(&keys);
                let generation =
                    if old.keys.is_some() && old.fingerprint == fp { old.generation } else { old.generation + 1 };
                if generation != old.generation {
                    tracing::info!(target: "clerk::keys", keys = keys.len(), generation, "loaded instance keys");
                }
                let snap = Arc::new(Snapshot {
                    keys: Some(Arc::new(keys)),
                    fetched_at: self.clock.now_millis(),
                    generation,
                    fingerprint: fp,
                });
                self.current.store(Arc::clone(&snap));
                if let Ok(mut f) = self.last_failure.lock() {
                    *f = None;
                }
                Ok(snap)
            }
            Err(err) => {
                let err = Arc::new(err);
                tracing::warn!(target: "clerk::keys", error = %err, reason = err.reason().as_str(), trigger = trigger_name(trigger), "fetching instance keys failed");
                if let Ok(mut f) = self.last_failure.lock() {
                    *f = Some(Arc::clone(&err));
                }
                Err(err)
            }
        };
        self.attempts.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    /// Warns that stale keys are served, at most once per `min_refresh_interval`.
    fn warn_stale(&self, age: u64) {
        let failure = self.last_failure.lock().ok().and_then(|f| f.clone());
        let Some(err) = failure else { return };
        let now = self.clock.now_millis();
        let last = self.last_stale_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) < ms(self.config.min_refresh_interval).max(1000) && last != 0 {
            return;
        }
        self.last_stale_warning.store(now, Ordering::Relaxed);
        tracing::warn!(
            target: "clerk::keys",
            error = %err,
            key_age_secs = age / 1000,
            "key refresh failed; serving the last good keys"
        );
    }

    /// Schedules a refresh on the current tokio runtime, if any, unless one is already running. Returns whether a
    /// runtime was there to run it.
    fn refresh_in_background(self: &Arc<Self>) -> bool {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return false };
        if self.ahead_in_flight.swap(true, Ordering::AcqRel) {
            return true;
        }
        // The flag is cleared by the task's guard when the task ends, however it ends: finished, dropped before it
        // ran (its runtime shut down), or unwound by a panicking key source. Cleared only at the end of a run, a task
        // that never ran would leave it set and stop refreshes ahead for good.
        let in_flight = AheadInFlight(Arc::downgrade(self));
        handle.spawn(async move {
            if let Some(store) = in_flight.0.upgrade() {
                store.refresh_ahead_now().await;
            }
            drop(in_flight);
        });
        true
    }

    /// The last fetch's failure, when the last fetch failed.
    fn last_failure(&self) -> Option<Arc<KeyError>> {
        self.last_failure.lock().ok().and_then(|f| f.clone())
    }

    async fn refresh_ahead_now(&self) {
        let seen = self.current.load_full();
        let since_last = self.clock.now_millis().saturating_sub(self.last_attempt_at.load(Ordering::Acquire));
        if self.attempts.load(Ordering::Acquire) > 0
            && since_last < ms(self.config.min_refresh_interval)
            && self.last_failure.lock().map(|f| f.is_some()).unwrap_or(false)
        {
            return;
        }
        let Ok(_guard) = self.refresh_lock.try_lock() else { return };
        if !Arc::ptr_eq(&seen, &self.current.load_full()) {
            return;
        }
        let _ = self.do_fetch(Trigger::Ahead).await;
    }

    /// Fetches now, whatever the cache state (used by [`crate::Verifier::refresh_keys`]).
    pub(crate) async fn force_refresh(&self) -> Result<(), Arc<KeyError>> {
        if self.source.is_none() {
            return Ok(());
        }
        let _guard = self.refresh_lock.lock().await;
        self.do_fetch(Trigger::Ahead).await.map(|_| ())
    }

    /// The time until the next refresh-ahead point, for the background task.
    pub(crate) fn next_refresh_in(&self) -> Duration {
        let snap = self.current.load();
        if snap.keys.is_none() {
            return Duration::ZERO;
        }
        let due = snap.fetched_at.saturating_add(ms(self.config.ttl).saturating_sub(ms(self.config.refresh_ahead)));
        Duration::from_millis(due.saturating_sub(self.clock.now_millis()))
    }

    pub(crate) const fn min_refresh_interval(&self) -> Duration {
        self.config.min_refresh_interval
    }

    pub(crate) fn is_remote(&self) -> bool {
        self.source.is_some()
    }

    pub(crate) fn downgrade(self: &Arc<Self>) -> Weak<Self> {
        Arc::downgrade(self)
    }
}

const fn trigger_name(t: Trigger) -> &'static str {
    match t {
        Trigger::Initial => "initial",
        Trigger::Expired => "expired",
        Trigger::UnknownKid => "unknown-kid",
        Trigger::Ahead => "refresh-ahead",
    }
}

fn find(snap: &Snapshot, kid: Option<&str>) -> Result<(Arc<VerifyingKey>, u64), VerifyError> {
    snap.keys
        .as_ref()
        .and_then(|k| k.get(kid))
        .map(|k| (Arc::clone(k), snap.generation))
        .ok_or_else(|| VerifyError::new(Reason::JwkKidMismatch))
}

/// A refresh ahead scheduled on a runtime: clears the store's in-flight flag when dropped.
struct AheadInFlight(Weak<KeyStore>);

impl Drop for AheadInFlight {
    fn drop(&mut self) {
        if let Some(store) = self.0.upgrade() {
            store.ahead_in_flight.store(false, Ordering::Release);
        }
    }
}

fn verify_error_from(err: &Arc<KeyError>) -> VerifyError {
    match err.reason() {
        Reason::JwkKidMismatch => VerifyError::new(Reason::JwkRemoteFailedToLoad),
        reason => VerifyError::with_source(reason, Arc::clone(err)),
    }
}
