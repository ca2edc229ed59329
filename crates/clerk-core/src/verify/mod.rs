//! The verifier: Clerk's session-token checks, in Clerk's order, over keys parsed once.
//!
//! - [`jws`]: steps 1 and 2, the compact form, the header and the payload, decoded into scratch space;
//! - [`checks`]: steps 5 on, the claims;
//! - [`token_cache`]: the verified-token cache and its admission filter;
//! - [`machine_jwt`]: machine tokens in JWT form;
//! - [`builder`] and [`options`]: configuration.
//!
//! Everything but loading keys is synchronous: a verification runs in a synchronous frame (decode buffers on its
//! stack) and awaits only when the key store must fetch keys.

mod builder;
mod check;
mod checks;
mod jws;
mod machine_jwt;
mod options;
mod token_cache;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use builder::{DEFAULT_API_URL, VerifierBuilder};
pub use check::CheckError;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use jws::{Header, plain_header};
pub use options::{DEFAULT_MAX_TOKEN_BYTES, IssuerCheck, PendingSessions};
pub(crate) use token_cache::Probe;
pub use token_cache::TokenCacheConfig;

use crate::auth::{AuthParts, SessionAuth};
use crate::claims::RawClaims;
use crate::clock::Clock;
use crate::error::{BuildError, Reason, VerifyError};
use crate::jwks::KeyStore;
use crate::machine::{MACHINE_SUBJECT_PREFIX, json_has_machine_subject};
use crate::source::{CredentialHeaders, TokenExtractor, TokenOrigin, TokenSourceError};

use jws::{Decoded, Expect, Scratch, decode, invalid};
use options::Options;
use token_cache::TokenCache;

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestAuthError {
    /// The request's credentials cannot be read (malformed `Authorization` header, …).
    #[error(transparent)]
    Source(#[from] TokenSourceError),
    /// A token was found and refused.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl RequestAuthError {
    /// The Clerk reason code (`token-invalid` for unreadable credentials).
    #[must_use]
    pub const fn reason(&self) -> Reason {
        match self {
            Self::Source(_) => Reason::TokenInvalid,
            Self::Verify(e) => e.reason(),
        }
    }
}

struct Inner {
    keys: Arc<KeyStore>,
    options: Options,
    clock: Arc<dyn Clock>,
    cache: Option<TokenCache>,
    extractor: TokenExtractor,
    /// Which settings the keys come from, for the startup check's errors.
    key_settings: check::KeySettings,
}

/// Verifies Clerk session tokens. Cheap to clone; clones share keys and caches.
///
/// ```
/// # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use clerk_core::Verifier;
/// let verifier = Verifier::builder()
///     .secret_key("sk_test_...")?
///     .authorized_parties(["https://app.example.com"])
///     .build()?;
/// let auth = verifier.verify(token).await?;
/// println!("signed in as {}", auth.user_id());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.inner.keys)
            .field("options", &self.inner.options)
            .field("cache", &self.inner.cache.as_ref().map(TokenCache::capacity))
            .finish_non_exhaustive()
    }
}

/// The refusal of a token longer than the verifier's bound.
pub(crate) const fn oversized() -> VerifyError {
    invalid("token exceeds the size bound")
}

/// The key store must load keys before this token can be checked (its `kid`).
struct NeedKeys(Option<String>);

/// A key the store resolved for a token, and the generation of the key set it came from.
type ResolvedKey = (Arc<crate::jwk::VerifyingKey>, u64);

impl Verifier {
    /// A builder with every option at its default.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// A builder configured from the environment like the official SDKs: `CLERK_SECRET_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, and `CLERK_AUTHORIZED_PARTIES` (comma-separated).
    ///
    /// # Errors
    /// When a variable is set but invalid.
    pub fn from_env() -> Result<VerifierBuilder, BuildError> {
        VerifierBuilder::from_env()
    }

    /// Verifies a session token and returns the session.
    ///
    /// A token verified before (and still valid) is answered from the verified-token cache
    /// ([`TokenCacheConfig`]) without any RSA work. Machine tokens are refused with [`Reason::TokenTypeMismatch`]
    /// before any key or RSA work: a header `typ` of `at+jwt` (OAuth), a non-session `cat` (M2M), or a machine
    /// subject `mch_…` (an M2M JWT with a plain header). Verify those with
    /// [`verify_machine_jwt`](Self::verify_machine_jwt).
    ///
    /// # Errors
    /// A [`VerifyError`] whose [`reason()`](VerifyError::reason) is Clerk's reason code.
    pub async fn verify(&self, token: &str) -> Result<SessionAuth, VerifyError> {
        match self.probe(token.as_bytes()) {
            Probe::Hit(answer) => answer,
            Probe::Miss(hash) => self.verify_uncached(token, hash).await,
        }
    }

    /// What the verified-token cache says of `token`: the answer [`verify`](Self::verify) would give (a token only
    /// gets into the cache by passing `verify`, so equal bytes are that token), or a miss with the token's cache
    /// hash, for [`verify_uncached`](Self::verify_uncached).
    pub(crate) fn probe(&self, token: &[u8]) -> Probe {
        let Some(cache) = &self.inner.cache else { return Probe::Miss(None) };
        let hash = cache.hash(token);
        let now_ms = self.inner.clock.now_millis();
        match cache.lookup(token, hash, &self.inner.keys, now_ms, self.inner.options.skew_ms) {
            Some(answer) => Probe::Hit(answer),
            None => Probe::Miss(Some(hash)),
        }
    }

    /// [`verify`](Self::verify) for a token the cache does not hold (`hash`: its cache hash, from [`probe`]).
    pub(crate) fn verify_uncached<'a>(
        &'a self,
        token: &'a str,
        hash: Option<u64>,
    ) -> impl Future<Output = Result<SessionAuth, VerifyError>> + Send + 'a {
        self.with_keys(token, move |verifier, token, key| verifier.verify_now(token, key, hash))
    }

    /// Runs a synchronous verification core (`verify_now`, `machine_now`) without a key; when it needs keys, loads
    /// them and runs it once more with the key the store resolved.
    ///
    /// Everything but loading keys is synchronous, so the future holds almost nothing across its only await (a small
    /// future is cheap to move and box), and the decode buffers live only in the synchronous frames.
    async fn with_keys<T>(
        &self,
        token: &str,
        now: impl Fn(&Self, &str, Option<ResolvedKey>) -> Result<Result<T, VerifyError>, NeedKeys>,
    ) -> Result<T, VerifyError> {
        match now(self, token, None) {
            Ok(done) => done,
            Err(NeedKeys(kid)) => {
                // Rare (first use, unknown kid): the key store's future is boxed to keep this one small.
                let found = Box::pin(self.inner.keys.resolve(kid.as_deref())).await?;
                match now(self, token, Some(found)) {
                    Ok(done) => done,
                    Err(NeedKeys(_)) => Err(VerifyError::new(Reason::JwkKidMismatch)),
                }
            }
        }
    }

    /// A session token's verification up to the key: `Err(NeedKeys)` when the key store has no usable key for the
    /// token's `kid` without loading keys; `key` is the key the store then resolved. A verified token is offered to
    /// the cache under `hash`.
    fn verify_now(
        &self,
        token: &str,
        key: Option<ResolvedKey>,
        hash: Option<u64>,
    ) -> Result<Result<SessionAuth, VerifyError>, NeedKeys> {
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Ok(Err(oversized()));
        }
        let mut scratch = Scratch::new();
        let decoded = match decode::<RawClaims<'_>>(token, &inner.options, Expect::Session, &mut scratch) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        // An M2M JWT minted with a plain header is told apart by its machine subject (as the header checks, before
        // any key or RSA work).
        let machine_subject = match &decoded.claims {
            Some(c) => c.sub.as_ref().is_some_and(|s| s.as_str().starts_with(MACHINE_SUBJECT_PREFIX)),
            None => json_has_machine_subject(decoded.payload.as_bytes()),
        };
        if machine_subject {
            return Ok(Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "M2M token (machine subject)")));
        }
        let kid = decoded.header_kid.clone();
        let finished = match key {
            Some((key, generation)) => self.finish(decoded, &key).map(|done| (done, generation)),
            None => match inner.keys.with_fast_key(kid.as_deref(), |key, generation| {
                self.finish(decoded, key).map(|done| (done, generation))
            }) {
                Some(finished) => finished,
                None => return Err(NeedKeys(kid.map(Cow::into_owned))),
            },
        };
        Ok(finished.map(|((parts, exp_ms), generation)| {
            // The decoded payload (exactly sized) and a copy of the token move into the auth object.
            let payload = std::mem::take(&mut scratch.payload).into_boxed_str();
            let auth = SessionAuth::assemble(parts, token.into(), payload, exp_ms);
            if let (Some(cache), Some(hash)) = (&inner.cache, hash) {
                cache.offer(hash, &auth, generation);
            }
            auth
        }))
    }

    /// Steps 4 on: signature, then claims.
    fn finish(
        &self,
        decoded: Decoded<'_, '_, RawClaims<'_>>,
        key: &crate::jwk::VerifyingKey,
    ) -> Result<(AuthParts, i64), VerifyError> {
        decoded.check_signature(key)?;
        let claims = decoded
            .claims
            .ok_or(VerifyError::with_detail(Reason::TokenVerificationFailed, "a claim has the wrong type"))?;
        checks::check_session_claims(&self.inner.options, claims, decoded.payload, self.inner.clock.now_millis())
    }

    /// Finds the token in a request (header, then cookie) and verifies it. `Ok(None)`: no credentials at all.
    ///
    /// For session tokens alone; [`Authenticator`](crate::Authenticator) also takes machine tokens, loads users and
    /// answers a cached token without a future.
    ///
    /// # Errors
    /// [`RequestAuthError`]: unreadable credentials, or a refused token.
    pub async fn verify_request<H: CredentialHeaders + Sync + ?Sized>(
        &self,
        headers: &H,
    ) -> Result<Option<(SessionAuth, TokenOrigin)>, RequestAuthError> {
        let Some(found) = self.inner.extractor.extract(headers)? else { return Ok(None) };
        let auth = self.verify(found.token()).await?;
        Ok(Some((auth, found.origin())))
    }

    /// The token extractor this verifier uses for [`verify_request`](Self::verify_request).
    #[must_use]
    pub fn extractor(&self) -> &TokenExtractor {
        &self.inner.extractor
    }

    /// The largest token this verifier accepts, in bytes.
    pub(crate) fn max_token_bytes(&self) -> usize {
        self.inner.options.max_token_bytes
    }

    /// The verifier's clock (the engine's caches run on it too).
    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// Fetches the key set now (no-op for static keys).
    ///
    /// # Errors
    /// The fetch failure.
    pub async fn refresh_keys(&self) -> Result<(), VerifyError> {
        self.inner.keys.force_refresh().await.map_err(|e| VerifyError::with_source(e.reason(), e))
    }

    /// How many key fetches this verifier has started (for tests and metrics).
    #[must_use]
    pub fn key_fetch_count(&self) -> u64 {
        self.inner.keys.fetch_count()
    }

    /// The key ids currently loaded.
    #[must_use]
    pub fn loaded_kids(&self) -> Vec<String> {
        self.inner.keys.snapshot().keys.as_ref().map(|k| k.kids().map(str::to_owned).collect()).unwrap_or_default()
    }

    /// The current key-set generation: changes whenever the set of keys changes.
    #[must_use]
    pub fn key_generation(&self) -> u64 {
        self.inner.keys.generation()
    }

    /// How many verified tokens are cached.
    #[must_use]
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, TokenCache::len)
    }

    /// Spawns a tokio task that refreshes the keys ahead of expiry for as long as this verifier (or a clone) lives.
    /// Returns `None` for static keys or when not called inside a tokio runtime.
    #[must_use]
    pub fn spawn_key_refresh(&self) -> Option<tokio::task::JoinHandle<()>> {
        if !self.inner.keys.is_remote() {
            return None;
        }
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let weak = self.inner.keys.downgrade();
        let retry_every = self.inner.keys.min_refresh_interval().max(Duration::from_millis(100));
        Some(handle.spawn(async move {
            loop {
                let wait = match weak.upgrade() {
                    Some(store) => store.next_refresh_in(),
                    None => return,
                };
                tokio::time::sleep(wait.max(Duration::from_millis(100))).await;
                let Some(store) = weak.upgrade() else { return };
                if store.next_refresh_in().is_zero() && store.force_refresh().await.is_err() {
                    drop(store);
                    tokio::time::sleep(retry_every).await;
                }
            }
        }))
    }
}
