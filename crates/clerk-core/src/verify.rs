//! The verifier: Clerk's session-token checks, in Clerk's order, over keys parsed once.

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::{AuthParts, SessionAuth, SessionStatus};
use crate::claims::{Audience, Lenient, NumericDate, RawClaims, Str};
use crate::clock::{Clock, SystemClock};
use crate::error::{BuildError, Reason, VerifyError};
use crate::jwk::{Algorithm, KeySet};
use crate::jwks::{BackendApiJwks, JwksSource, KeyCacheConfig, KeyStore, UrlJwks};
use crate::keys::{PublishableKey, parse_secret_key};
use crate::machine::{
    MACHINE_SUBJECT_PREFIX, MachineAuth, TokenType, is_access_token_typ, is_json_object, json_has_machine_subject,
};
use crate::source::{CredentialHeaders, TokenExtractor, TokenOrigin, TokenSourceError, bearer_token_bytes};
use crate::transport::{HttpTransport, RetryPolicy};

/// The default bound on a token's length: 8 KiB. Clerk session tokens are well under 4 KiB (they travel in a
/// cookie); the margin leaves room for custom claims while capping the work any input can cause.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The default Backend API URL.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";

/// Header `cat` of session tokens.
const CAT_SESSION: &str = "cl_B7d4PD111AAA";
/// Header `cat` meaning "ignore" (stamped on every class by some instances: carries no class information).
const CAT_IGNORE: &str = "cl_I7d4PD111III";
/// Header `cat` of M2M tokens.
const CAT_M2M: &str = "cl_B7d4PD333AAA";

/// What to do with a session whose status is `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PendingSessions {
    /// Treat as signed out (`session-token-pending`). The default, as the official SDKs.
    #[default]
    Reject,
    /// Accept; check [`SessionAuth::session_status`] yourself.
    Accept,
}

/// The optional strict issuer check (the official SDKs no longer check `iss`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IssuerCheck {
    /// Do not check `iss` (the official SDKs' behaviour). The default.
    #[default]
    Off,
    /// `iss` must equal the Frontend API URL derived from the publishable key or the domain.
    Derived,
    /// `iss` must equal one of these (e.g. a proxy URL).
    OneOf(Vec<String>),
}

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

type TokenCache = quick_cache::sync::Cache<TokenKey, CachedAuth>;

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

#[derive(Debug, Clone)]
struct Options {
    algorithms: [bool; 3],
    skew_ms: i64,
    authorized_parties: Vec<String>,
    audience: Vec<String>,
    issuers: Vec<String>,
    pending: PendingSessions,
    max_token_bytes: usize,
}

struct Inner {
    keys: Arc<KeyStore>,
    options: Options,
    clock: Arc<dyn Clock>,
    cache: Option<TokenCache>,
    /// `None` when every verified token is cached at once.
    doorkeeper: Option<Doorkeeper>,
    /// The per-verifier seed of the cache keys' hash.
    cache_seed: foldhash::fast::RandomState,
    extractor: TokenExtractor,
    /// The last JWS header (as sent, and parsed) of a session token that passed verification.
    header_memo: ArcSwapOption<HeaderMemo>,
}

/// A JWS header segment and what it parses to. Every session token of an instance carries the same header bytes
/// (algorithm, key id, type), so a token whose header segment equals the memo's is not decoded and parsed again:
/// parsing is a function of the bytes alone, and every check on the parsed header still runs. Published only after a
/// token with this header passed verification, so unverified input never replaces it.
struct HeaderMemo {
    b64: Box<[u8]>,
    header: Header<'static>,
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
            .field("cache", &self.inner.cache.as_ref().map(|c| c.capacity()))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, PartialEq, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cat: Option<Cow<'a, str>>,
}

impl Header<'_> {
    fn to_owned_header(&self) -> Header<'static> {
        let own = |c: &Option<Cow<'_, str>>| c.as_deref().map(|s| Cow::Owned(s.to_owned()));
        Header { alg: own(&self.alg), kid: own(&self.kid), typ: own(&self.typ), cat: own(&self.cat) }
    }

    fn borrowed(&self) -> Header<'_> {
        fn borrow<'s>(c: &'s Option<Cow<'_, str>>) -> Option<Cow<'s, str>> {
            c.as_deref().map(Cow::Borrowed)
        }
        Header { alg: borrow(&self.alg), kid: borrow(&self.kid), typ: borrow(&self.typ), cat: borrow(&self.cat) }
    }
}

/// The header in its plain shape, read without serde_json (the same result, see `fastclaims`); `None`: ask
/// serde_json.
pub(crate) fn plain_header(json: &[u8]) -> Option<Header<'_>> {
    let [alg, kid, typ, cat] =
        crate::fastclaims::read_strings(crate::source::utf8(json)?, ["alg", "kid", "typ", "cat"])?;
    Some(Header {
        alg: alg.map(Cow::Borrowed),
        kid: kid.map(Cow::Borrowed),
        typ: typ.map(Cow::Borrowed),
        cat: cat.map(Cow::Borrowed),
    })
}

const fn invalid(detail: &'static str) -> VerifyError {
    VerifyError::with_detail(Reason::TokenInvalid, detail)
}

/// Which kind of token [`decode`] expects: the header checks differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A session token: `typ` absent or `JWT`, `cat` absent, session or ignore; anything else is refused in the
    /// header, before any payload work.
    Session,
    /// An M2M or OAuth JWT: `typ` absent, `JWT` or `at+jwt`; `typ` and `cat` are checked once the payload says which.
    Machine,
}

/// The header's `typ`, as far as the checks care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typ {
    Absent,
    Jwt,
    /// `at+jwt` or `application/at+jwt` (RFC 9068).
    AccessToken,
}

/// The header's `cat` (token category), as far as the checks care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cat {
    Absent,
    Session,
    Ignore,
    M2m,
    Other,
}

/// Claims a token's payload is decoded into.
trait Claims<'p>: Deserialize<'p> {
    /// The claims read without serde_json when the payload has the plain shape (exactly what serde_json would read);
    /// `None`: ask serde_json.
    fn read_plain(_payload: &'p str) -> Option<Self> {
        None
    }
}

impl<'p> Claims<'p> for RawClaims<'p> {
    fn read_plain(payload: &'p str) -> Option<Self> {
        crate::fastclaims::read(payload)
    }
}

impl Claims<'_> for MachineClaims {}

/// The claims a machine JWT is checked on; the rest of the payload is read as JSON for the auth object. Only the
/// registered time claims and `sub` are strict: custom claims (M2M `aud` among them) never fail the token.
#[derive(Deserialize)]
struct MachineClaims {
    sub: Option<String>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    #[serde(default)]
    aud: Lenient<Audience>,
}

/// The key store must load keys before this token can be checked (its `kid`).
struct NeedKeys(Option<String>);

/// A key the store resolved for a token, and the generation of the key set it came from.
type ResolvedKey = (Arc<crate::jwk::VerifyingKey>, u64);

/// What a verification decodes into, owned by the caller (on its stack, in a synchronous frame) so that the decoded
/// parts borrow from it instead of allocating: the header and the signature land in uninitialised stack buffers (no
/// zeroing), the payload in a `String` that later moves into the auth object.
struct Scratch {
    header: [MaybeUninit<u8>; SMALL_HEADER],
    /// Headers longer than [`SMALL_HEADER`] decoded bytes (up to [`MAX_HEADER`]).
    large_header: Vec<u8>,
    signature: [MaybeUninit<u8>; MAX_SIG],
    /// The decoded payload (a session token's auth object keeps it).
    payload: String,
    /// The header memo as loaded for this verification (a header read from it borrows from here).
    memo: Option<arc_swap::Guard<Option<Arc<HeaderMemo>>>>,
}

impl Scratch {
    const fn new() -> Self {
        Self {
            header: [MaybeUninit::uninit(); SMALL_HEADER],
            large_header: Vec::new(),
            signature: [MaybeUninit::uninit(); MAX_SIG],
            payload: String::new(),
            memo: None,
        }
    }
}

/// The parts of a compact JWS that survived steps 1 and 2.
struct Decoded<'t, 'p, C> {
    /// The header's `kid`, borrowed from the decoded header (owned only when it held JSON escapes).
    header_kid: Option<Cow<'p, str>>,
    alg: Algorithm,
    typ: Typ,
    cat: Cat,
    signing_input: &'t [u8],
    /// The payload text (kept by the caller, so that the claims can borrow their strings from it).
    payload: &'p str,
    /// The claims, parsed once; `None` when the payload is a JSON object whose claims have the wrong types
    /// (reported as `token-verification-failed` only after the signature check, as Clerk orders it).
    claims: Option<C>,
    signature: &'p [u8],
    /// The header as a memo, when it was decoded and parsed here (not read from the memo): published once the token
    /// passes verification.
    fresh_header: Option<HeaderMemo>,
}

impl<C> Decoded<'_, '_, C> {
    /// Step 4: the key's algorithm and the signature, over the exact token text.
    #[inline]
    fn check_signature(&self, key: &crate::jwk::VerifyingKey) -> Result<(), VerifyError> {
        if !key.allows(self.alg) {
            return Err(VerifyError::with_detail(Reason::TokenInvalidAlgorithm, "key does not allow the token's alg"));
        }
        if !key.verify(self.alg, self.signing_input, self.signature) {
            return Err(VerifyError::new(Reason::TokenInvalidSignature));
        }
        Ok(())
    }
}

/// RSA-8192 signatures are 1024 bytes.
const MAX_SIG: usize = 1024;
const MAX_HEADER: usize = 1024;
/// Headers up to this many decoded bytes are decoded on the stack.
const SMALL_HEADER: usize = 192;
/// Payloads up to this many decoded bytes are decoded on the stack.
const SMALL_PAYLOAD: usize = 2048;

/// Strict unpadded base64url (non-canonical trailing bits refused, as the `base64` crate does), SIMD-accelerated:
/// the payload and signature are most of a token's bytes. On the heap: for headers and payloads too large for the
/// scratch's stack buffers.
fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(input).ok()
}

/// [`b64url_decode`] into the (uninitialised) `out`; the decoded bytes. `None` when `out` is too small.
fn b64url_decode_into<'o>(input: &[u8], out: &'o mut [MaybeUninit<u8>]) -> Option<&'o [u8]> {
    let n = base64_simd::URL_SAFE_NO_PAD.decoded_length(input).ok()?;
    let out = out.get_mut(..n)?;
    base64_simd::URL_SAFE_NO_PAD.decode(input, base64_simd::Out::from_uninit_slice(out)).ok().map(|s| &*s)
}

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
    /// Machine tokens are refused with [`Reason::TokenTypeMismatch`] before any key or RSA work: a header `typ` of
    /// `at+jwt` (OAuth), a non-session `cat` (M2M), or a machine subject `mch_…` (an M2M JWT with a plain header).
    /// Verify those with [`verify_machine_jwt`](Self::verify_machine_jwt).
    ///
    /// # Errors
    /// A [`VerifyError`] whose [`reason()`](VerifyError::reason) is Clerk's reason code.
    pub fn verify<'a>(&'a self, token: &'a str) -> impl Future<Output = Result<SessionAuth, VerifyError>> + Send + 'a {
        // Not an `async fn` wrapping `with_keys`: its future would hold a second copy of the arguments.
        self.with_keys(token, Self::verify_now)
    }

    /// What [`verify`](Self::verify) answers for `token` when the verified-token cache can answer it, without
    /// reading the token: `None` when it is not cached (or there is no cache), and then only `verify` can answer.
    ///
    /// For request paths that hold the token as bytes ([`bearer_token_bytes`]): the lookup is one hash and one
    /// comparison, and a token only gets into the cache by passing `verify`, so equal bytes are that token. A hit is
    /// checked exactly as in `verify`: its key set must still be current, and `exp`, `nbf` and `iat` hold now (else
    /// the error `verify` gives).
    ///
    /// # Errors
    /// `Some(Err(_))`: the cached token is no longer valid ([`Reason::TokenExpired`], …).
    #[must_use]
    pub fn verify_cached(&self, token: &[u8]) -> Option<Result<SessionAuth, VerifyError>> {
        self.inner.cache.as_ref()?;
        self.cache_lookup(self.token_ref(token))
    }

    /// Runs a synchronous verification core (`verify_now`, `machine_now`) without a key; when it needs keys, loads
    /// them and runs it once more with the key the store resolved.
    ///
    /// Everything but loading keys is synchronous, so the future holds almost nothing across its only await (a small
    /// future is cheap to move and box: the middlewares box one per request), and the decode buffers live only in
    /// the synchronous frames.
    async fn with_keys<T>(
        &self,
        token: &str,
        // A function item (zero-sized), not a function pointer: nothing more to hold in the future.
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

    /// [`verify`](Self::verify) up to the key: `Err(NeedKeys)` when the key store has no usable key for the token's
    /// `kid` without loading keys; `key` is the key the store then resolved.
    fn verify_now(&self, token: &str, key: Option<ResolvedKey>) -> Result<Result<SessionAuth, VerifyError>, NeedKeys> {
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Ok(Err(invalid("token exceeds the size bound")));
        }
        let cache_key = inner.cache.as_ref().map(|_| self.token_ref(token.as_bytes()));
        if key.is_none()
            && let Some(k) = cache_key
            && let Some(hit) = self.cache_lookup(k)
        {
            return Ok(hit);
        }
        let mut scratch = Scratch::new();
        let mut decoded =
            match decode::<RawClaims<'_>>(token, &inner.options, &inner.header_memo, Expect::Session, &mut scratch) {
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
        let fresh_header = decoded.fresh_header.take();
        let finished = match key {
            Some((key, generation)) => self.finish(decoded, &key).map(|done| (done, generation)),
            None => match inner.keys.with_fast_key(kid.as_deref(), |key, generation| {
                self.finish(decoded, key).map(|done| (done, generation))
            }) {
                Some(finished) => finished,
                None => return Err(NeedKeys(kid.map(Cow::into_owned))),
            },
        };
        if finished.is_ok()
            && let Some(m) = fresh_header
        {
            inner.header_memo.store(Some(Arc::new(m)));
        }
        Ok(finished.map(|((parts, exp_ms), generation)| {
            // The decoded payload (exactly sized) and a copy of the token move into the auth object.
            let payload = std::mem::take(&mut scratch.payload).into_boxed_str();
            let auth = SessionAuth::assemble(parts, token.into(), payload, exp_ms);
            if let (Some(cache), Some(k)) = (&inner.cache, cache_key)
                && inner.doorkeeper.as_ref().is_none_or(|d| d.admit(k.hash))
            {
                cache.insert(
                    TokenKey { hash: k.hash, auth: auth.clone() },
                    CachedAuth { auth: auth.clone(), generation },
                );
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
        self.check_claims(claims, decoded.payload)
    }

    /// Finds the token in a request (header, then cookie) and verifies it. `Ok(None)`: no credentials at all.
    ///
    /// # Errors
    /// [`RequestAuthError`]: unreadable credentials, or a refused token.
    pub async fn verify_request<H: CredentialHeaders + Sync + ?Sized>(
        &self,
        headers: &H,
    ) -> Result<Option<(SessionAuth, TokenOrigin)>, RequestAuthError> {
        if let Some(hit) = bearer_token_bytes(headers).and_then(|token| self.verify_cached(token)) {
            return Ok(Some((hit?, TokenOrigin::Header)));
        }
        let Some(found) = self.inner.extractor.extract(headers)? else { return Ok(None) };
        let auth = self.verify(found.token()).await?;
        Ok(Some((auth, found.origin())))
    }

    /// Verifies a machine token in JWT form: an M2M JWT (subject `mch_…`) or an OAuth JWT access token (header `typ`
    /// `at+jwt`, RFC 9068), against the instance keys, as Clerk's JavaScript SDK (`verifyMachineAuthToken`) does.
    ///
    /// The same checks as [`verify`](Self::verify), in the same order, with the same key store (unknown-`kid`
    /// refresh, stale keys through outages), algorithms, size bound and clock skew: compact form, header, key,
    /// signature, then `sub`, `exp`, `nbf`, `iat` and the audience. Then, as the JS SDK:
    ///
    /// - which kind: a `sub` starting with `mch_` makes an M2M token (its header `typ` must be absent or `JWT`, its
    ///   `cat` absent, M2M or "ignore"); else a `typ` of `at+jwt`/`application/at+jwt` makes an OAuth token (its
    ///   `cat`, when present, must not be the session or M2M category); anything else — a session token among them —
    ///   is refused with [`Reason::TokenTypeMismatch`], before any key or RSA work;
    /// - authorized parties (`azp`), the strict issuer check and the pending-session rule are session-token rules
    ///   and are not applied; the audience is, when configured and the token has an `aud`.
    ///
    /// Machine JWTs are not put in the verified-token cache. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are
    /// refused here (`token-invalid`): only the Backend API can verify them (`clerk-api`).
    ///
    /// # Errors
    /// A [`VerifyError`] whose [`reason()`](VerifyError::reason) is Clerk's reason code.
    pub fn verify_machine_jwt<'a>(
        &'a self,
        token: &'a str,
    ) -> impl Future<Output = Result<MachineAuth, VerifyError>> + Send + 'a {
        self.with_keys(token, Self::machine_now)
    }

    /// [`verify_machine_jwt`](Self::verify_machine_jwt) up to the key, as [`verify_now`](Self::verify_now).
    fn machine_now(&self, token: &str, key: Option<ResolvedKey>) -> Result<Result<MachineAuth, VerifyError>, NeedKeys> {
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Ok(Err(invalid("token exceeds the size bound")));
        }
        let mut scratch = Scratch::new();
        let decoded =
            match decode::<MachineClaims>(token, &inner.options, &inner.header_memo, Expect::Machine, &mut scratch) {
                Ok(d) => d,
                Err(e) => return Ok(Err(e)),
            };
        let kind = match machine_kind(&decoded) {
            Ok(kind) => kind,
            Err(e) => return Ok(Err(e)),
        };
        let kid = decoded.header_kid.clone();
        match key {
            Some((key, _generation)) => Ok(self.finish_machine(decoded, &key, kind)),
            None => inner
                .keys
                .with_fast_key(kid.as_deref(), |key, _generation| self.finish_machine(decoded, key, kind))
                .ok_or_else(|| NeedKeys(kid.map(Cow::into_owned))),
        }
    }

    /// Machine JWT steps 4 on: signature, then claims.
    fn finish_machine(
        &self,
        decoded: Decoded<'_, '_, MachineClaims>,
        key: &crate::jwk::VerifyingKey,
        kind: TokenType,
    ) -> Result<MachineAuth, VerifyError> {
        let inner = &*self.inner;
        decoded.check_signature(key)?;
        let claims = decoded
            .claims
            .ok_or(VerifyError::with_detail(Reason::TokenVerificationFailed, "a claim has the wrong type"))?;
        let Some(sub) = claims.sub else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`sub` is required"));
        };
        let Some(exp) = claims.exp else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`exp` is required"));
        };
        let o = &inner.options;
        let now = i64::try_from(inner.clock.now_millis()).unwrap_or(i64::MAX);
        check_times(exp.0, claims.nbf.map(|d| d.0), claims.iat.map(|d| d.0), now, o.skew_ms)?;
        check_audience(&o.audience, claims.aud.0.as_ref())?;
        let payload: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(decoded.payload).map_err(|_| invalid("payload is not a JSON object"))?;
        Ok(MachineAuth::from_jwt(kind, payload, sub, exp.0))
    }

    /// The token extractor this verifier uses for [`verify_request`](Self::verify_request).
    #[must_use]
    pub fn extractor(&self) -> &TokenExtractor {
        &self.inner.extractor
    }

    /// A token as the cache looks it up.
    #[inline]
    fn token_ref<'a>(&self, token: &'a [u8]) -> TokenRef<'a> {
        TokenRef { hash: self.token_hash(token), token }
    }

    /// The cache hash of a token (its last [`HASHED_SUFFIX`] bytes and its length, seeded per verifier).
    #[inline]
    fn token_hash(&self, bytes: &[u8]) -> u64 {
        use std::hash::{BuildHasher as _, Hasher as _};
        let mut h = self.inner.cache_seed.build_hasher();
        h.write(&bytes[bytes.len().saturating_sub(HASHED_SUFFIX)..]);
        h.write_usize(bytes.len());
        h.finish()
    }

    #[inline]
    fn cache_lookup(&self, key: TokenRef<'_>) -> Option<Result<SessionAuth, VerifyError>> {
        let cache = self.inner.cache.as_ref()?;
        let hit = cache.get(&key)?;
        let now_ms = self.inner.clock.now_millis();
        // A hit answers as a full verification would: only while its key set is current and still usable (not
        // past the stale limit).
        if Some(hit.generation) != self.inner.keys.usable_generation(now_ms) {
            cache.remove(&key);
            return None;
        }
        let i = &hit.auth.0;
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if let Err(e) = check_times(i.expires_at_ms, i.not_before_ms, i.issued_at_ms, now, self.inner.options.skew_ms) {
            if e.reason() == Reason::TokenExpired {
                cache.remove(&key);
            }
            return Some(Err(e));
        }
        Some(Ok(hit.auth))
    }

    /// Steps 5 on: the claims, checked; what the auth object takes from them, and `exp` (ms).
    fn check_claims(&self, mut claims: RawClaims<'_>, payload: &str) -> Result<(AuthParts, i64), VerifyError> {
        let o = &self.inner.options;
        let Some(sub) = claims.sub.take() else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`sub` is required"));
        };
        let Some(exp) = claims.exp else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`exp` is required"));
        };
        let now = i64::try_from(self.inner.clock.now_millis()).unwrap_or(i64::MAX);
        check_times(exp.0, claims.nbf.map(|d| d.0), claims.iat.map(|d| d.0), now, o.skew_ms)?;
        if !o.authorized_parties.is_empty() {
            match claims.azp.as_ref().map(Str::as_str) {
                Some(azp) if o.authorized_parties.iter().any(|p| p == azp) => {}
                _ => return Err(VerifyError::new(Reason::TokenInvalidAuthorizedParties)),
            }
        }
        check_audience(&o.audience, claims.aud.as_ref())?;
        if !o.issuers.is_empty() && !claims.iss.as_ref().is_some_and(|iss| o.issuers.iter().any(|x| x == iss.as_str()))
        {
            return Err(VerifyError::new(Reason::TokenInvalidIssuer));
        }
        let parts = AuthParts::new(claims, payload, sub);
        if o.pending == PendingSessions::Reject && parts.status == SessionStatus::Pending {
            return Err(VerifyError::new(Reason::SessionTokenPending));
        }
        Ok((parts, exp.0))
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
        self.inner.cache.as_ref().map_or(0, quick_cache::sync::Cache::len)
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

/// Which kind of machine JWT a decoded token is (before any key or RSA work), as Clerk's JavaScript SDK decides it:
/// a machine subject makes an M2M token, else a `typ` of `at+jwt` an OAuth access token; anything else is refused.
fn machine_kind(decoded: &Decoded<'_, '_, MachineClaims>) -> Result<TokenType, VerifyError> {
    // Claims of the wrong type do not hide the kind (they fail the token after the signature check).
    let machine_subject = match &decoded.claims {
        Some(c) => c.sub.as_deref().is_some_and(|s| s.starts_with(MACHINE_SUBJECT_PREFIX)),
        None => json_has_machine_subject(decoded.payload.as_bytes()),
    };
    if machine_subject {
        if decoded.typ == Typ::AccessToken {
            return Err(invalid("`typ` of an M2M token must be JWT"));
        }
        if !matches!(decoded.cat, Cat::Absent | Cat::M2m | Cat::Ignore) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not an M2M token category"));
        }
        Ok(TokenType::M2mToken)
    } else if decoded.typ == Typ::AccessToken {
        if matches!(decoded.cat, Cat::Session | Cat::M2m) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not an OAuth token category"));
        }
        Ok(TokenType::OAuthToken)
    } else {
        Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not a machine token"))
    }
}

/// Step 7: the audience, checked only when both an expected audience and an `aud` claim exist (any overlap).
#[inline]
fn check_audience(expected: &[String], aud: Option<&Audience>) -> Result<(), VerifyError> {
    if expected.is_empty() {
        return Ok(());
    }
    let ok = match aud {
        None => true,
        Some(Audience::One(a)) => a.is_empty() || expected.iter().any(|x| x == a),
        Some(Audience::Many(list)) => list.is_empty() || list.iter().any(|a| expected.iter().any(|x| x == a)),
    };
    if ok { Ok(()) } else { Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "audience not accepted")) }
}

#[inline]
fn check_times(
    exp_ms: i64,
    nbf_ms: Option<i64>,
    iat_ms: Option<i64>,
    now_ms: i64,
    skew_ms: i64,
) -> Result<(), VerifyError> {
    if exp_ms <= now_ms.saturating_sub(skew_ms) {
        return Err(VerifyError::new(Reason::TokenExpired));
    }
    if nbf_ms.is_some_and(|nbf| nbf > now_ms.saturating_add(skew_ms)) {
        return Err(VerifyError::new(Reason::TokenNotActiveYet));
    }
    if iat_ms.is_some_and(|iat| iat > now_ms.saturating_add(skew_ms)) {
        return Err(VerifyError::new(Reason::TokenIatInTheFuture));
    }
    Ok(())
}

/// Steps 1 and 2 of Clerk's order: the compact form and the header, then the payload.
///
/// The header is checked (alg, typ, cat) before the payload is decoded: a token whose header is refused costs no
/// payload work, which keeps hostile input cheap. A token with both a refused header and a broken payload is
/// therefore reported as `token-invalid-algorithm` (or the header's reason) rather than `token-invalid`; see
/// `docs/decisions/0004-reason-codes.md`.
fn decode<'t, 'p, C: Claims<'p>>(
    token: &'t str,
    o: &Options,
    memos: &ArcSwapOption<HeaderMemo>,
    expect: Expect,
    scratch: &'p mut Scratch,
) -> Result<Decoded<'t, 'p, C>, VerifyError> {
    let Scratch { header: small, large_header: large, signature: sig_buf, payload: slot, memo } = scratch;
    let bytes = token.as_bytes();
    let mut dots = memchr::memchr_iter(b'.', bytes);
    let (Some(d1), Some(d2), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(invalid("not three segments"));
    };
    let (h64, p64, s64) = (&bytes[..d1], &bytes[d1 + 1..d2], &bytes[d2 + 1..]);
    if h64.is_empty() || p64.is_empty() || s64.is_empty() {
        return Err(invalid("empty segment"));
    }
    if h64.len() > MAX_HEADER * 4 / 3 + 4 {
        return Err(invalid("header too large"));
    }
    if s64.len() > (MAX_SIG * 4).div_ceil(3) {
        return Err(invalid("signature too large"));
    }
    // The same header as the last verified token's: read from the memo, not decoded and parsed again.
    let memo: &'p arc_swap::Guard<Option<Arc<HeaderMemo>>> = memo.insert(memos.load());
    let remembered = memo.as_deref().filter(|m| *m.b64 == *h64);
    let (header, fresh) = match remembered {
        Some(m) => (m.header.borrowed(), false),
        None => (parse_header(h64, small, large)?, true),
    };
    // Step 2: header.
    let alg = header
        .alg
        .as_deref()
        .and_then(Algorithm::from_name)
        .filter(|a| o.algorithms[*a as usize])
        .ok_or(VerifyError::new(Reason::TokenInvalidAlgorithm))?;
    let typ = match header.typ.as_deref() {
        None => Typ::Absent,
        Some("JWT") => Typ::Jwt,
        Some(t) if is_access_token_typ(t) => Typ::AccessToken,
        Some(_) if expect == Expect::Session => return Err(invalid("`typ` must be JWT")),
        Some(_) => return Err(invalid("`typ` must be JWT or at+jwt")),
    };
    let cat = match header.cat.as_deref() {
        None => Cat::Absent,
        Some(CAT_SESSION) => Cat::Session,
        Some(CAT_IGNORE) => Cat::Ignore,
        Some(CAT_M2M) => Cat::M2m,
        Some(_) => Cat::Other,
    };
    if expect == Expect::Session {
        if typ == Typ::AccessToken {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "OAuth access token"));
        }
        if !matches!(cat, Cat::Absent | Cat::Session | Cat::Ignore) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not a session token"));
        }
    }

    // Step 1, rest: the signature and the payload. The signature's length was bounded above, so it fits the buffer
    // (a failure here is bad base64url; a prefix of the signature is never verified).
    let signature = b64url_decode_into(s64, sig_buf).ok_or_else(|| invalid("signature is not base64url"))?;
    let payload_len =
        base64_simd::URL_SAFE_NO_PAD.decoded_length(p64).map_err(|_| invalid("payload is not base64url"))?;
    // Decoded on the stack (Clerk's payloads are a few hundred bytes; larger ones on the heap), checked, then copied
    // into an exactly sized `String` that a session token's auth object keeps.
    let mut small_payload = [MaybeUninit::<u8>::uninit(); SMALL_PAYLOAD];
    let large_payload: Vec<u8>;
    let pjson: &[u8] = if payload_len <= SMALL_PAYLOAD {
        b64url_decode_into(p64, &mut small_payload).ok_or_else(|| invalid("payload is not base64url"))?
    } else {
        large_payload = b64url_decode(p64).ok_or_else(|| invalid("payload is not base64url"))?;
        &large_payload
    };
    if !is_json_object(pjson) {
        return Err(invalid("payload is not a JSON object"));
    }
    // JSON is UTF-8: checked once here, so the parser need not check each string, and claim strings can borrow
    // from the text.
    *slot = crate::source::utf8(pjson).ok_or_else(|| invalid("payload is not a JSON object"))?.to_owned();
    let payload: &'p str = slot;
    // One parse into the typed claims. Only when it fails, tell malformed JSON (token-invalid, now) from claims of
    // the wrong type (token-verification-failed, after the signature).
    let claims = match C::read_plain(payload).map_or_else(|| serde_json::from_str::<C>(payload), Ok) {
        Ok(c) => Some(c),
        Err(_) if serde_json::from_str::<serde::de::IgnoredAny>(payload).is_ok() => None,
        Err(_) => return Err(invalid("payload is not a JSON object")),
    };
    // Only a token that got this far can publish its header (and only once it is verified).
    let fresh_header =
        (fresh && expect == Expect::Session).then(|| HeaderMemo { b64: h64.into(), header: header.to_owned_header() });
    let header_kid = header.kid;
    Ok(Decoded { header_kid, alg, typ, cat, signing_input: &bytes[..d2], payload, claims, signature, fresh_header })
}

/// Step 1 for the header segment: base64url, a JSON object, a JWS header. Clerk's headers are about 100 bytes: the
/// scratch's stack buffer; larger ones (up to the bound) go to the heap.
fn parse_header<'p>(
    h64: &[u8],
    small: &'p mut [MaybeUninit<u8>; SMALL_HEADER],
    large: &'p mut Vec<u8>,
) -> Result<Header<'p>, VerifyError> {
    let hjson: &'p [u8] = if h64.len() <= SMALL_HEADER * 4 / 3 {
        b64url_decode_into(h64, small).ok_or_else(|| invalid("header is not base64url"))?
    } else {
        *large = b64url_decode(h64).ok_or_else(|| invalid("header is not base64url"))?;
        let large: &'p Vec<u8> = large;
        large.as_slice()
    };
    if !is_json_object(hjson) {
        return Err(invalid("header is not a JSON object"));
    }
    match plain_header(hjson) {
        Some(h) => Ok(h),
        None => serde_json::from_slice(hjson).map_err(|_| invalid("header is not a JWS header")),
    }
}

/// Where the verifier gets its keys.
#[derive(Clone)]
enum KeySourceConfig {
    None,
    Pem(String),
    Jwks(Vec<u8>),
    Custom(Arc<dyn JwksSource>),
    Url(String),
}

/// Builds a [`Verifier`]. Every option has a documented default; `build()` checks the combination.
///
/// Key source precedence, as the official SDKs: a JWT public key (networkless) or static JWKS, else a custom
/// [`JwksSource`], else the Backend API (secret key), else a JWKS URL (explicit, or from the domain or the
/// publishable key).
#[must_use]
pub struct VerifierBuilder {
    secret_key: Option<SecretString>,
    api_url: String,
    publishable_key: Option<PublishableKey>,
    domain: Option<String>,
    source: KeySourceConfig,
    transport: Option<Arc<dyn HttpTransport>>,
    retry: RetryPolicy,
    options: Options,
    issuer: IssuerCheck,
    clock: Arc<dyn Clock>,
    key_cache: KeyCacheConfig,
    token_cache: TokenCacheConfig,
    cookie_name: Option<String>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("api_url", &self.api_url)
            .field("publishable_key", &self.publishable_key)
            .field("domain", &self.domain)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            publishable_key: None,
            domain: None,
            source: KeySourceConfig::None,
            transport: None,
            retry: RetryPolicy::default(),
            options: Options {
                algorithms: [true; 3],
                skew_ms: 5000,
                authorized_parties: Vec::new(),
                audience: Vec::new(),
                issuers: Vec::new(),
                pending: PendingSessions::Reject,
                max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            },
            issuer: IssuerCheck::Off,
            clock: Arc::new(SystemClock),
            key_cache: KeyCacheConfig::default(),
            token_cache: TokenCacheConfig::default(),
            cookie_name: None,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl VerifierBuilder {
    /// Reads `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY` and
    /// `CLERK_AUTHORIZED_PARTIES` (comma-separated); unset or empty variables are skipped.
    ///
    /// # Errors
    /// When a set variable is invalid.
    pub fn from_env() -> Result<Self, BuildError> {
        let mut b = Self::default();
        if let Some(sk) = env("CLERK_SECRET_KEY") {
            b = b.secret_key(&sk)?;
        }
        if let Some(url) = env("CLERK_API_URL") {
            b = b.api_url(&url)?;
        }
        if let Some(pk) = env("CLERK_PUBLISHABLE_KEY") {
            b = b.publishable_key(&pk)?;
        }
        if let Some(pem) = env("CLERK_JWT_KEY") {
            b = b.jwt_key(&pem)?;
        }
        if let Some(parties) = env("CLERK_AUTHORIZED_PARTIES") {
            b = b.authorized_parties(parties.split(',').map(str::trim).filter(|p| !p.is_empty()));
        }
        Ok(b)
    }

    /// The instance's secret key: keys come from `GET {api_url}/v1/jwks`.
    ///
    /// # Errors
    /// [`BuildError::InvalidSecretKey`] unless it starts `sk_test_`/`sk_live_`.
    pub fn secret_key(mut self, key: &str) -> Result<Self, BuildError> {
        self.secret_key = Some(parse_secret_key(key)?);
        Ok(self)
    }

    /// The Backend API URL. Default `https://api.clerk.com`.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] unless it is an `http(s)://` URL.
    pub fn api_url(mut self, url: &str) -> Result<Self, BuildError> {
        check_url(url, "api_url")?;
        self.api_url = url.trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// The publishable key: enables the suffixed session cookie, the derived issuer, and (without a secret key) the
    /// Frontend API JWKS.
    ///
    /// # Errors
    /// [`BuildError::InvalidPublishableKey`].
    pub fn publishable_key(mut self, key: &str) -> Result<Self, BuildError> {
        self.publishable_key = Some(PublishableKey::parse(key)?);
        Ok(self)
    }

    /// The Frontend API domain (the Elixir library's `domain` setting, e.g. `example.clerk.accounts.dev`): keys from
    /// `https://{domain}/.well-known/jwks.json` (without a secret key), issuer `https://{domain}`.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] when the domain is not a host name.
    pub fn domain(mut self, domain: &str) -> Result<Self, BuildError> {
        let d = domain.trim().trim_start_matches("https://").trim_end_matches('/');
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':')) {
            return Err(BuildError::InvalidUrl { field: "domain" });
        }
        self.domain = Some(d.to_owned());
        Ok(self)
    }

    /// Keys from this JWKS URL (no credentials sent).
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`].
    pub fn jwks_url(mut self, url: &str) -> Result<Self, BuildError> {
        check_url(url, "jwks_url")?;
        self.source = KeySourceConfig::Url(url.to_owned());
        Ok(self)
    }

    /// Networkless verification with a PEM public key (`CLERK_JWT_KEY`), of any RSA size from 2048 to 8192 bits.
    ///
    /// # Errors
    /// [`BuildError::InvalidKey`] when it does not parse.
    pub fn jwt_key(mut self, pem: &str) -> Result<Self, BuildError> {
        KeySet::from_pem(pem).map_err(BuildError::InvalidKey)?;
        self.source = KeySourceConfig::Pem(pem.to_owned());
        Ok(self)
    }

    /// Networkless verification with a static JWKS document.
    ///
    /// # Errors
    /// [`BuildError::InvalidKey`] when it holds no usable key.
    pub fn jwks_json(mut self, json: impl Into<Vec<u8>>) -> Result<Self, BuildError> {
        let json = json.into();
        KeySet::from_jwks_json(&json).map_err(BuildError::InvalidKey)?;
        self.source = KeySourceConfig::Jwks(json);
        Ok(self)
    }

    /// Keys from a custom source (e.g. a `clerk-api` client).
    pub fn key_source(mut self, source: Arc<dyn JwksSource>) -> Self {
        self.source = KeySourceConfig::Custom(source);
        self
    }

    /// The HTTP transport for key fetches. Default: [`HyperTransport`](crate::HyperTransport) (feature `hyper`).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Retries of key fetches. Default: 3 attempts, I/O errors and 5xx only.
    pub const fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The origins allowed in `azp`. Default: none configured, `azp` not checked. When set, a token without `azp`
    /// or with another one is refused. Set this when tokens may come from cookies.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.authorized_parties = parties.into_iter().map(Into::into).collect();
        self
    }

    /// Accepted audiences; checked only when the token has an `aud`. Default: none.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// The strict issuer check. Default [`IssuerCheck::Off`], as the official SDKs.
    pub fn issuer(mut self, check: IssuerCheck) -> Self {
        self.issuer = check;
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`. Default 5 s; zero is honoured.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.options.skew_ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// What to do with pending sessions. Default [`PendingSessions::Reject`].
    pub const fn pending_sessions(mut self, policy: PendingSessions) -> Self {
        self.options.pending = policy;
        self
    }

    /// The accepted algorithms. Default RS256, RS384, RS512.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.options.algorithms = [false; 3];
        for a in algs {
            self.options.algorithms[a as usize] = true;
        }
        self
    }

    /// The longest token accepted, in bytes. Default [`DEFAULT_MAX_TOKEN_BYTES`] (8 KiB).
    pub const fn max_token_bytes(mut self, n: usize) -> Self {
        self.options.max_token_bytes = n;
        self
    }

    /// The clock. Default: the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The key cache policy. Default [`KeyCacheConfig::default`].
    pub const fn key_cache(mut self, config: KeyCacheConfig) -> Self {
        self.key_cache = config;
        self
    }

    /// The verified-token cache. Default 4096 entries, a token cached the second time it passes verification.
    pub const fn token_cache(mut self, config: TokenCacheConfig) -> Self {
        self.token_cache = config;
        self
    }

    /// The session cookie's name for [`Verifier::verify_request`]. Default `__session`.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Some(name.into());
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`BuildError::NoKeySource`] without any key source; [`BuildError::InvalidOption`] for an unusable
    /// combination (e.g. the derived issuer check without a publishable key or domain, or no algorithm).
    pub fn build(self) -> Result<Verifier, BuildError> {
        let mut options = self.options;
        if !options.algorithms.iter().any(|a| *a) {
            return Err(BuildError::InvalidOption { field: "algorithms", why: "at least one algorithm is required" });
        }
        if options.skew_ms < 0 {
            return Err(BuildError::InvalidOption { field: "clock_skew", why: "out of range" });
        }
        if options.max_token_bytes == 0 {
            return Err(BuildError::InvalidOption { field: "max_token_bytes", why: "must be positive" });
        }
        options.issuers = match self.issuer {
            IssuerCheck::Off => Vec::new(),
            IssuerCheck::OneOf(list) if list.is_empty() => {
                return Err(BuildError::InvalidOption { field: "issuer", why: "empty issuer list" });
            }
            IssuerCheck::OneOf(list) => list,
            IssuerCheck::Derived => {
                let mut list = Vec::new();
                if let Some(pk) = &self.publishable_key {
                    list.push(pk.frontend_api_url());
                }
                if let Some(d) = &self.domain {
                    list.push(format!("https://{d}"));
                }
                if list.is_empty() {
                    return Err(BuildError::InvalidOption {
                        field: "issuer",
                        why: "the derived issuer needs a publishable key or a domain",
                    });
                }
                list
            }
        };
        let transport = |t: &Option<Arc<dyn HttpTransport>>| -> Result<Arc<dyn HttpTransport>, BuildError> {
            match t {
                Some(t) => Ok(Arc::clone(t)),
                None => default_transport(),
            }
        };
        let keys = match self.source {
            KeySourceConfig::Pem(pem) => {
                KeyStore::new_static(KeySet::from_pem(&pem).map_err(BuildError::InvalidKey)?, Arc::clone(&self.clock))
            }
            KeySourceConfig::Jwks(json) => KeyStore::new_static(
                KeySet::from_jwks_json(&json).map_err(BuildError::InvalidKey)?,
                Arc::clone(&self.clock),
            ),
            KeySourceConfig::Custom(src) => KeyStore::new_remote(src, self.key_cache, Arc::clone(&self.clock)),
            KeySourceConfig::Url(url) => KeyStore::new_remote(
                Arc::new(UrlJwks::new(url, transport(&self.transport)?, self.retry)),
                self.key_cache,
                Arc::clone(&self.clock),
            ),
            KeySourceConfig::None => {
                let source: Arc<dyn JwksSource> = if let Some(sk) = self.secret_key {
                    Arc::new(BackendApiJwks::new(&self.api_url, sk, transport(&self.transport)?, self.retry))
                } else if let Some(d) = &self.domain {
                    Arc::new(UrlJwks::new(
                        format!("https://{d}/.well-known/jwks.json"),
                        transport(&self.transport)?,
                        self.retry,
                    ))
                } else if let Some(pk) = &self.publishable_key {
                    Arc::new(UrlJwks::new(pk.jwks_url(), transport(&self.transport)?, self.retry))
                } else {
                    return Err(BuildError::NoKeySource);
                };
                KeyStore::new_remote(source, self.key_cache, Arc::clone(&self.clock))
            }
        };
        let mut extractor = TokenExtractor::new();
        if let Some(name) = self.cookie_name {
            extractor = extractor.with_cookie_name(name)?;
        }
        if let Some(pk) = &self.publishable_key {
            extractor = extractor.with_publishable_key(pk);
        }
        let cache = (self.token_cache.capacity > 0).then(|| TokenCache::new(self.token_cache.capacity));
        let doorkeeper = (cache.is_some() && !self.token_cache.admit_on_first_use)
            .then(|| Doorkeeper::new(self.token_cache.capacity));
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys: Arc::new(keys),
                options,
                clock: self.clock,
                cache,
                doorkeeper,
                cache_seed: foldhash::fast::RandomState::default(),
                header_memo: ArcSwapOption::empty(),
                extractor,
            }),
        })
    }
}

fn check_url(url: &str, field: &'static str) -> Result<(), BuildError> {
    let ok = url
        .parse::<http::Uri>()
        .ok()
        .is_some_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty()));
    if ok { Ok(()) } else { Err(BuildError::InvalidUrl { field }) }
}

#[cfg(feature = "hyper")]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Ok(Arc::new(crate::transport::HyperTransport::new()?))
}

#[cfg(not(feature = "hyper"))]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Err(BuildError::InvalidOption {
        field: "transport",
        why: "no transport configured and the `hyper` feature (the default transport) is off",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_times_semantics() {
        let now = 1_000_000;
        // exp <= now - skew is expired; exactly at the boundary too.
        assert_eq!(check_times(now - 5000, None, None, now, 5000).unwrap_err().reason(), Reason::TokenExpired);
        assert!(check_times(now - 4999, None, None, now, 5000).is_ok());
        // Zero skew honoured.
        assert_eq!(check_times(now, None, None, now, 0).unwrap_err().reason(), Reason::TokenExpired);
        assert!(check_times(now + 1, None, None, now, 0).is_ok());
        assert_eq!(
            check_times(now + 10_000, Some(now + 5001), None, now, 5000).unwrap_err().reason(),
            Reason::TokenNotActiveYet
        );
        assert!(check_times(now + 10_000, Some(now + 5000), None, now, 5000).is_ok());
        assert_eq!(
            check_times(now + 10_000, None, Some(now + 5001), now, 5000).unwrap_err().reason(),
            Reason::TokenIatInTheFuture
        );
    }

    #[test]
    fn builder_rejects_bad_config() {
        assert!(matches!(Verifier::builder().build(), Err(BuildError::NoKeySource)));
        assert!(Verifier::builder().secret_key("pk_test_x").is_err());
        assert!(Verifier::builder().api_url("ftp://x").is_err());
        assert!(Verifier::builder().jwks_url("not a url").is_err());
        assert!(Verifier::builder().domain("evil.com/path").is_err());
        let b = Verifier::builder().secret_key("sk_test_abc").unwrap();
        assert!(b.issuer(IssuerCheck::Derived).build().is_err());
        let b = Verifier::builder().secret_key("sk_test_abc").unwrap();
        assert!(b.algorithms([]).build().is_err());
        let dbg = format!("{:?}", Verifier::builder().secret_key("sk_test_abc").unwrap());
        assert!(!dbg.contains("sk_test_abc"), "{dbg}");
    }
}
