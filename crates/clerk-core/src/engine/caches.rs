//! The engine's two short-lived caches, both on the verifier's [`Clock`]: users loaded from the Backend API, and
//! opaque machine tokens the Backend API refused (keyed by digest: a token is never stored).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest;

use crate::clock::Clock;
use crate::ids::UserId;

use super::backend::BackendUser;

/// The longest TTL either cache accepts: a stale user hides a ban or a deletion, a stale refusal a new key.
pub(super) const MAX_TTL: Duration = Duration::from_secs(300);

/// A bounded map whose entries expire `ttl` after insertion, by the clock.
struct TtlCache<K, V> {
    entries: quick_cache::sync::Cache<K, (u64, V)>,
    ttl_ms: u64,
    clock: Arc<dyn Clock>,
}

impl<K: Eq + std::hash::Hash + Clone, V: Clone> TtlCache<K, V> {
    fn new(capacity: usize, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        Self { entries: quick_cache::sync::Cache::new(capacity), ttl_ms, clock }
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: std::hash::Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        let (at, value) = self.entries.get(key)?;
        if self.clock.now_millis().saturating_sub(at) < self.ttl_ms {
            return Some(value);
        }
        self.entries.remove(key);
        None
    }

    fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (self.clock.now_millis(), value));
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
    }
}

/// Users loaded from the Backend API, for a short TTL.
pub(super) struct UserCache(TtlCache<UserId, BackendUser>);

impl fmt::Debug for UserCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCache").field("len", &self.0.len()).field("ttl", &self.0.ttl()).finish()
    }
}

impl UserCache {
    pub(super) fn new(capacity: usize, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self(TtlCache::new(capacity, ttl, clock))
    }

    pub(super) fn get(&self, id: &UserId) -> Option<BackendUser> {
        self.0.get(id)
    }

    pub(super) fn insert(&self, user: &BackendUser) {
        self.0.insert(user.id().clone(), user.clone());
    }

    pub(super) fn ttl(&self) -> Duration {
        self.0.ttl()
    }
}

/// Opaque machine tokens the Backend API refused, for a short TTL: keyed by the token's SHA-256 digest (the token
/// itself is never stored), bounded in number. Valid tokens are never cached: revocation takes effect on the next
/// request.
pub(super) struct NegativeCache(TtlCache<[u8; 32], ()>);

impl fmt::Debug for NegativeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NegativeCache").field("len", &self.0.len()).field("ttl", &self.0.ttl()).finish()
    }
}

fn digest_of(token: &str) -> [u8; 32] {
    digest::digest(&digest::SHA256, token.as_bytes()).as_ref().try_into().unwrap_or([0; 32])
}

impl NegativeCache {
    pub(super) fn new(capacity: usize, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self(TtlCache::new(capacity, ttl, clock))
    }

    /// Whether `token` was refused less than the TTL ago.
    pub(super) fn contains(&self, token: &str) -> bool {
        self.0.get(&digest_of(token)).is_some()
    }

    pub(super) fn insert(&self, token: &str) {
        self.0.insert(digest_of(token), ());
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn ttl(&self) -> Duration {
        self.0.ttl()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TestClock;

    #[test]
    fn negative_cache_keys_are_digests_and_expire() {
        let clock = Arc::new(TestClock::at_secs(1_000));
        let c = NegativeCache::new(8, Duration::from_secs(60), clock.clone());
        assert!(!c.contains("ak_nope"));
        c.insert("ak_nope");
        assert!(c.contains("ak_nope") && !c.contains("ak_other"));
        assert_eq!(digest_of("ak_nope").len(), 32);
        assert_ne!(digest_of("ak_nope"), digest_of("ak_nopf"));
        assert!(!format!("{c:?}").contains("ak_nope"));
        // An entry older than the TTL is dropped on lookup.
        clock.advance(Duration::from_secs(60));
        assert!(!c.contains("ak_nope"));
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn users_expire_by_the_injected_clock() {
        let clock = Arc::new(TestClock::at_secs(1_000));
        let c = UserCache::new(8, Duration::from_secs(30), clock.clone());
        let id = UserId::from("user_1");
        c.insert(&BackendUser::new(id.clone(), 7_u32));
        clock.advance(Duration::from_secs(29));
        assert_eq!(c.get(&id).and_then(|u| u.get::<u32>().copied()), Some(7));
        clock.advance(Duration::from_secs(1));
        assert!(c.get(&id).is_none());
    }
}
