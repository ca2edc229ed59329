//! The verified-token cache: a repeated token costs a hash lookup, not an RSA operation. With its admission filter
//! (decision 0016), its keys (the whole token, hashed once per request) and the checks a hit must still pass.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use crate::auth::SessionAuth;
use crate::error::{Reason, VerifyError};
use crate::jwks::KeyStore;

use super::checks::check_times;

/// The verified-token cache: repeat verification of an identical token costs a hash lookup, not an RSA operation.
///
/// Entries are keyed on the whole token, re-check `exp`, `nbf` and `iat` on every hit with the same skew as a full
/// verification, are bounded in number, and are dropped when the key set changes. Default capacity 4096 entries.
///
/// By default a token is cached the second time it passes verification, not the first (an admission filter, as
/// TinyLFU's doorkeeper): a token used once — a client that fetches a new token for every request, a one-off
/// server-to-server call — then costs no cache entry, no eviction of an entry that may still be used, and no late
/// free of the evicted entry's memory, while a token used again and again pays one extra verification in its life
/// (see `docs/decisions/0016-cache-admission.md`). [`admit_on_first_use`](Self::admit_on_first_use) caches every
/// verified token at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct TokenCacheConfig {
    capacity: usize,
    admit_on_first_use: bool,
}

impl Default for TokenCacheConfig {
    fn default() -> Self {
        Self::capacity(4096)
    }
}

impl TokenCacheConfig {
    /// A cache of at most `capacity` tokens; 0 disables it.
    pub const fn capacity(capacity: usize) -> Self {
        Self { capacity, admit_on_first_use: false }
    }

    /// No cache: every verification runs in full.
    pub const fn disabled() -> Self {
        Self::capacity(0)
    }

    /// Caches a token the first time it passes verification (the default waits for the second time).
    pub const fn admit_on_first_use(mut self) -> Self {
        self.admit_on_first_use = true;
        self
    }
}

/// The admission filter of the verified-token cache: a Bloom filter of the verified tokens that were not cached
/// (three bits of one 64-bit word per token, from the token's cache hash: one cache line touched). A token is
/// admitted when its three bits are set: it passed verification before, or (rarely) other tokens set them. The filter
/// has 64 bits per cache entry and is cleared after 4 × capacity insertions, so it remembers at least the last 4 ×
/// capacity tokens and its false positives stay under ~1 % (~0.2 % on average over a cycle). Races between threads
/// can only lose a bit or a count, which delays an admission or a clearing.
struct Doorkeeper {
    words: Box<[AtomicU64]>,
    inserted: AtomicUsize,
    limit: usize,
}

impl Doorkeeper {
    /// 64 bits per cache entry (capacity taken between 64 and 65 536: 512 bytes to 512 KiB).
    fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(64, 1 << 16);
        let words = capacity.next_power_of_two();
        Self {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            inserted: AtomicUsize::new(0),
            limit: 4 * capacity,
        }
    }

    /// Whether a verified token with this cache hash is to be cached now; if not, it is remembered.
    #[inline]
    fn admit(&self, hash: u64) -> bool {
        let word = &self.words[(hash >> 18) as usize & (self.words.len() - 1)];
        let bits = (1 << (hash & 63)) | (1 << ((hash >> 6) & 63)) | (1 << ((hash >> 12) & 63));
        if word.load(Relaxed) & bits == bits {
            return true;
        }
        word.fetch_or(bits, Relaxed);
        if self.inserted.fetch_add(1, Relaxed) + 1 >= self.limit {
            self.inserted.store(0, Relaxed);
            for w in &self.words {
                w.store(0, Relaxed);
            }
        }
        false
    }
}

#[derive(Clone)]
struct CachedAuth {
    auth: SessionAuth,
    generation: u64,
}

/// How many bytes at the end of a token feed its cache hash: the end of the signature, different for every token a
/// key signs. Keys are still compared in full, so this only spreads the entries, and only verified tokens are ever
/// inserted, so forged tokens sharing a suffix cannot crowd a bucket. Hashing ~100 bytes instead of the ~1 KB token
/// once per verification (not once for the lookup and again for the insert) matters on the cold path.
const HASHED_SUFFIX: usize = 96;

/// A verified-token cache key: the whole token (held by the cached auth object itself, so the key costs no copy),
/// with its hash computed once.
#[derive(Clone)]
struct TokenKey {
    hash: u64,
    auth: SessionAuth,
}

impl std::hash::Hash for TokenKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.auth.token() == other.auth.token()
    }
}

impl Eq for TokenKey {}

/// A lookup key: a token being verified and its hash.
#[derive(Clone, Copy)]
struct TokenRef<'a> {
    hash: u64,
    token: &'a [u8],
}

impl std::hash::Hash for TokenRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl quick_cache::Equivalent<TokenKey> for TokenRef<'_> {
    fn equivalent(&self, key: &TokenKey) -> bool {
        self.hash == key.hash && key.auth.token().as_bytes() == self.token
    }
}

/// What the cache says of a token: a hit answered as a full verification would, or a miss with the token's hash
/// (`None` without a cache), so that the verification that follows does not hash it again.
pub(crate) enum Probe {
    Hit(Result<SessionAuth, VerifyError>),
    Miss(Option<u64>),
}

/// The cache, its admission filter and the per-verifier seed of its hash.
pub(super) struct TokenCache {
    entries: quick_cache::sync::Cache<TokenKey, CachedAuth>,
    /// `None` when every verified token is cached at once.
    doorkeeper: Option<Doorkeeper>,
    seed: foldhash::fast::RandomState,
}

impl TokenCache {
    /// `None` for a capacity of 0 (no cache).
    pub(super) fn new(config: TokenCacheConfig) -> Option<Self> {
        (config.capacity > 0).then(|| Self {
            entries: quick_cache::sync::Cache::new(config.capacity),
            doorkeeper: (!config.admit_on_first_use).then(|| Doorkeeper::new(config.capacity)),
            seed: foldhash::fast::RandomState::default(),
        })
    }

    /// The cache hash of a token (its last [`HASHED_SUFFIX`] bytes and its length, seeded per verifier).
    #[inline]
    pub(super) fn hash(&self, bytes: &[u8]) -> u64 {
        use std::hash::{BuildHasher as _, Hasher as _};
        let mut h = self.seed.build_hasher();
        h.write(&bytes[bytes.len().saturating_sub(HASHED_SUFFIX)..]);
        h.write_usize(bytes.len());
        h.finish()
    }

    /// The cached answer for `token` (hashed `hash`), checked as a full verification would check it now: only while
    /// its key set is current and still usable (not past the stale limit), and only while `exp`, `nbf` and `iat`
    /// hold (else the error a full verification gives).
    #[inline]
    pub(super) fn lookup(
        &self,
        token: &[u8],
        hash: u64,
        keys: &KeyStore,
        now_ms: u64,
        skew_ms: i64,
    ) -> Option<Result<SessionAuth, VerifyError>> {
        let key = TokenRef { hash, token };
        let hit = self.entries.get(&key)?;
        if Some(hit.generation) != keys.usable_generation(now_ms) {
            self.entries.remove(&key);
            return None;
        }
        let i = &hit.auth.0;
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if let Err(e) = check_times(i.expires_at_ms, i.not_before_ms, i.issued_at_ms, now, skew_ms) {
            if e.reason() == Reason::TokenExpired {
                self.entries.remove(&key);
            }
            return Some(Err(e));
        }
        Some(Ok(hit.auth))
    }

    /// A token that just passed verification with keys of `generation`: cached if the admission filter lets it in.
    pub(super) fn offer(&self, hash: u64, auth: &SessionAuth, generation: u64) {
        if self.doorkeeper.as_ref().is_none_or(|d| d.admit(hash)) {
            self.entries.insert(TokenKey { hash, auth: auth.clone() }, CachedAuth { auth: auth.clone(), generation });
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn capacity(&self) -> u64 {
        self.entries.capacity()
    }
}
