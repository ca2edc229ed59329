//! The verified-token cache: bounded, keyed on the whole token, re-checking `exp`/`nbf`/`iat` at every hit with the
//! verifier's skew, and dropped when the key set changes.
//!
//! A cache hit must be indistinguishable from a full verification at the same instant; several tests therefore run
//! the same token through a caching verifier and a non-caching one sharing one [`TestClock`] and compare outcomes.
//! Those tests cache a token the first time it passes (`admit_on_first_use`); the default admission (a token is cached
//! the second time it passes) has its own section.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clerk_core::{
    Authentication, Authenticator, Clock, Failure, KeyCacheConfig, Reason, RetryPolicy, SessionAuth, TestClock,
    TokenCacheConfig, Verifier, VerifyError,
};
use clerk_testing::{Emulator, Fault, InstanceKey};
use serde_json::{Value, json};
use support::*;

/// A token refused from the verified-token cache.
#[derive(Debug)]
struct CachedRefusal(Reason);

impl CachedRefusal {
    const fn reason(&self) -> Reason {
        self.0
    }
}

/// What a request carrying `token` as its bearer token gets from the verified-token cache: the engine answers a
/// cached token at once, with the answer `verify` gives (`Some`); anything else needs `verify` (`None`).
fn verify_cached(v: &Verifier, token: &[u8]) -> Option<Result<SessionAuth, CachedRefusal>> {
    let authenticator = Authenticator::builder().verifier(v.clone()).build().unwrap();
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(token);
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, http::HeaderValue::from_bytes(&value).ok()?);
    match authenticator.authenticate(&headers) {
        Authentication::Ready(Ok(Some(a))) => Some(Ok(a.session().unwrap().clone())),
        Authentication::Ready(Err(Failure::Token(reason))) => Some(Err(CachedRefusal(reason))),
        _ => None,
    }
}

fn jti() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("tc_{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A token from `key` issued at `now` (seconds), valid for 60 s (`session_claims`), with a unique `jti`.
fn token(key: &TestKey, now: u64) -> String {
    let mut claims = session_claims(i64::try_from(now).unwrap());
    claims["jti"] = json!(jti());
    key.sign(&claims)
}

/// Claims valid for an hour, with a unique `jti`.
fn long_claims(now: u64) -> Value {
    let now = i64::try_from(now).unwrap();
    let mut claims = session_claims(now);
    claims["jti"] = json!(jti());
    claims["exp"] = json!(now + 3600);
    claims
}

/// A token valid for an hour.
fn long_token(key: &TestKey, now: u64) -> String {
    key.sign(&long_claims(now))
}

/// The same, signed by an emulator's key (e.g. the one [`Emulator::rotate_keys`] made).
fn long_emulator_token(key: &InstanceKey, now: u64) -> String {
    key.sign_claims(&long_claims(now))
}

/// Backend API JWKS requests the emulator has answered.
fn hits(clerk: &Emulator) -> usize {
    clerk.request_count(BACKEND_JWKS)
}

fn clock() -> TestClock {
    TestClock::at_secs(u64::try_from(now_secs()).unwrap())
}

/// The default cache, taking a token the first time it passes (the cache-semantics tests' setting).
const AT_ONCE: TokenCacheConfig = TokenCacheConfig::capacity(4096).admit_on_first_use();

/// A networkless verifier of key_a tokens.
fn static_verifier(clock: &TestClock, cache: TokenCacheConfig, skew: Duration) -> Verifier {
    Verifier::builder()
        .jwks_json(key_a().jwks())
        .unwrap()
        .clock(clock.clone())
        .clock_skew(skew)
        .token_cache(cache)
        .build()
        .unwrap()
}

fn outcome(r: &Result<SessionAuth, VerifyError>) -> Result<(), Reason> {
    r.as_ref().map(|_| ()).map_err(VerifyError::reason)
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grows_by_one_per_distinct_token_and_not_on_repeat() {
    let clock = clock();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    assert_eq!(v.cached_tokens(), 0);
    let tokens: Vec<String> = (0..20).map(|_| token(key_a(), clock.now_secs())).collect();
    for (i, t) in tokens.iter().enumerate() {
        let first = v.verify(t).await.unwrap();
        assert_eq!(v.cached_tokens(), i + 1);
        for _ in 0..3 {
            let again = v.verify(t).await.unwrap();
            assert_eq!(v.cached_tokens(), i + 1, "a repeat verification must not add an entry");
            // The cached answer is the same session.
            assert_eq!(again.token(), first.token());
            assert_eq!(again.user_id(), first.user_id());
            assert_eq!(again.session_id(), first.session_id());
            assert_eq!(again.org_role(), first.org_role());
        }
    }
    // Clones share the cache.
    let clone = v.clone();
    clone.verify(&tokens[0]).await.unwrap();
    assert_eq!(clone.cached_tokens(), 20);
    // Another verifier has its own.
    let other = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    assert_eq!(other.cached_tokens(), 0);
}

/// Behavioural proof that a hit skips the full path: past the key ttl, any verification that resolves a key
/// schedules a background refresh; repeats of a cached token do not, a new token does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_does_not_reach_the_key_store() {
    let a = key_a();
    let clock = clock();
    let clerk = emulator(a).await;
    let v = remote_verifier(&clerk, &clock);
    let t = long_token(a, clock.now_secs());
    v.verify(&t).await.unwrap();
    assert_eq!(hits(&clerk), 1);
    clock.advance(TTL + Duration::from_secs(1));
    for _ in 0..20 {
        v.verify(&t).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hits(&clerk), 1, "a cache hit reached the key store");
    assert_eq!(v.key_fetch_count(), 1);
    v.verify(&long_token(a, clock.now_secs())).await.unwrap();
    wait_until("the background refresh of a full verification", || hits(&clerk) == 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_not_cached() {
    let clock = clock();
    let v = Verifier::builder()
        .jwks_json(key_a().jwks())
        .unwrap()
        .clock(clock.clone())
        .authorized_parties(["https://other.example.com"])
        .build()
        .unwrap();
    let t = token(key_a(), clock.now_secs());
    for _ in 0..3 {
        assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenInvalidAuthorizedParties);
        assert_eq!(v.cached_tokens(), 0);
    }
    // Wrong key, expired, garbage: none cached either.
    assert_eq!(v.verify(&token(key_b(), clock.now_secs())).await.unwrap_err().reason(), Reason::JwkKidMismatch);
    assert_eq!(v.verify("a.b.c").await.unwrap_err().reason(), Reason::TokenInvalid);
    assert_eq!(v.cached_tokens(), 0);
}

/// `quick_cache` sizes its shards from an estimate, so the length may exceed the configured capacity slightly; the
/// observed maximum is the configured capacity. The bound asserted is twice the capacity: what matters is that the
/// cache is bounded, not growing with the number of distinct tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_bounds_the_number_of_entries() {
    let clock = clock();
    let v = static_verifier(&clock, TokenCacheConfig::capacity(8).admit_on_first_use(), Duration::from_secs(5));
    let mut max_seen = 0;
    for _ in 0..100 {
        v.verify(&token(key_a(), clock.now_secs())).await.unwrap();
        max_seen = max_seen.max(v.cached_tokens());
    }
    assert!(max_seen <= 16, "capacity 8 held {max_seen} tokens");
    assert!(v.cached_tokens() >= 1);

    // A bounded cache still serves repeats of recent tokens and verifies evicted ones in full.
    let t = token(key_a(), clock.now_secs());
    for _ in 0..10 {
        v.verify(&t).await.unwrap();
    }
    assert!(v.cached_tokens() <= 16);

    // Capacity 1 works too.
    let v1 = static_verifier(&clock, TokenCacheConfig::capacity(1).admit_on_first_use(), Duration::from_secs(5));
    for _ in 0..10 {
        v1.verify(&token(key_a(), clock.now_secs())).await.unwrap();
        assert!(v1.cached_tokens() <= 2, "capacity 1 held {}", v1.cached_tokens());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_cache_stays_empty_and_verification_works() {
    let clock = clock();
    for config in [TokenCacheConfig::disabled(), TokenCacheConfig::capacity(0)] {
        let v = static_verifier(&clock, config, Duration::from_secs(5));
        let t = token(key_a(), clock.now_secs());
        for _ in 0..5 {
            assert_eq!(v.verify(&t).await.unwrap().user_id(), "user_2bVftRtFezPdchfaz9999999999");
            assert_eq!(v.cached_tokens(), 0);
        }
        v.verify(&token(key_a(), clock.now_secs())).await.unwrap();
        assert_eq!(v.cached_tokens(), 0);
        // Time checks still apply.
        clock.advance(Duration::from_secs(120));
        assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenExpired);
        clock.set_secs(u64::try_from(now_secs()).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Time claims re-checked at every hit
// ---------------------------------------------------------------------------------------------------------------

/// For each offset from the issue time, a token cached at issue time and checked again at the offset gives the same
/// outcome as a non-caching verifier at the same instant.
async fn cached_matches_uncached(skew: Duration, offsets_ms: &[u64]) {
    for &off in offsets_ms {
        let clock = clock();
        let t0 = clock.now_secs();
        let cached = static_verifier(&clock, AT_ONCE, skew);
        let uncached = static_verifier(&clock, TokenCacheConfig::disabled(), skew);
        let t = token(key_a(), t0);
        cached.verify(&t).await.unwrap();
        assert_eq!(cached.cached_tokens(), 1);
        clock.advance(Duration::from_millis(off));
        let hit = outcome(&cached.verify(&t).await);
        let full = outcome(&uncached.verify(&t).await);
        assert_eq!(hit, full, "skew {skew:?}, {off} ms after issue: cache says {hit:?}, a full verification {full:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exp_is_rechecked_at_every_hit_with_the_default_skew() {
    let clock = clock();
    let t0 = clock.now_secs();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let t = token(key_a(), t0); // exp = t0 + 60
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);

    // Up to exp + skew (exclusive) the cached token is fine.
    clock.set_secs(t0 + 30);
    v.verify(&t).await.unwrap();
    clock.set_secs(t0 + 64);
    clock.advance(Duration::from_millis(999));
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);

    // At exp + skew it is expired, from the cache as in full.
    clock.advance(Duration::from_millis(1));
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenExpired);
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenExpired);
    assert_eq!(v.cached_tokens(), 0, "an expired entry is dropped");

    let ms = |s: u64| s * 1000;
    cached_matches_uncached(
        Duration::from_secs(5),
        &[0, ms(59), ms(60), ms(64), ms(65) - 1, ms(65), ms(65) + 1, ms(66), ms(3600)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exp_is_rechecked_at_every_hit_with_zero_skew() {
    let clock = clock();
    let t0 = clock.now_secs();
    let v = static_verifier(&clock, AT_ONCE, Duration::ZERO);
    let t = token(key_a(), t0);
    v.verify(&t).await.unwrap();
    clock.set_secs(t0 + 59);
    clock.advance(Duration::from_millis(999));
    v.verify(&t).await.unwrap();
    clock.advance(Duration::from_millis(1));
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenExpired);

    let ms = |s: u64| s * 1000;
    cached_matches_uncached(Duration::ZERO, &[0, ms(59), ms(60) - 1, ms(60), ms(60) + 1, ms(61)]).await;
    cached_matches_uncached(Duration::from_secs(30), &[ms(89), ms(90) - 1, ms(90), ms(91)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_nbf_is_not_cached_and_passes_later() {
    let clock = clock();
    let t0 = clock.now_secs();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let uncached = static_verifier(&clock, TokenCacheConfig::disabled(), Duration::from_secs(5));
    let mut claims = session_claims(i64::try_from(t0).unwrap());
    claims["nbf"] = json!(t0 + 30);
    claims["jti"] = json!(jti());
    let t = key_a().sign(&claims);

    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenNotActiveYet);
    assert_eq!(v.cached_tokens(), 0, "a token refused for nbf must not be cached");
    clock.set_secs(t0 + 24);
    clock.advance(Duration::from_millis(999));
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenNotActiveYet);
    assert_eq!(v.cached_tokens(), 0);

    // nbf - skew reached.
    clock.set_secs(t0 + 25);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    v.verify(&t).await.unwrap();

    // The clock steps back (NTP): the cached entry is re-checked, not trusted.
    clock.set_secs(t0);
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenNotActiveYet);
    assert_eq!(outcome(&uncached.verify(&t).await), Err(Reason::TokenNotActiveYet));
    clock.set_secs(t0 + 40);
    v.verify(&t).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_iat_is_rechecked_at_every_hit() {
    let clock = clock();
    let t0 = clock.now_secs();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let mut claims = session_claims(i64::try_from(t0).unwrap());
    claims["iat"] = json!(t0 + 20);
    claims["nbf"] = json!(t0);
    claims["jti"] = json!(jti());
    let t = key_a().sign(&claims);
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenIatInTheFuture);
    assert_eq!(v.cached_tokens(), 0);
    clock.set_secs(t0 + 15);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    clock.set_secs(t0 + 10);
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenIatInTheFuture);
}

// ---------------------------------------------------------------------------------------------------------------
// Keyed on the whole token
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_on_the_whole_token_a_tampered_signature_fails_after_the_original_was_cached() {
    let clock = clock();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let t = token(key_a(), clock.now_secs());
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);

    // Every other last character: those that change significant bits fail the signature, those that only change
    // the unused trailing bits are non-canonical base64url and fail as malformed. None may hit the cache.
    let (body, last) = t.split_at(t.len() - 1);
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut signature_failures = 0;
    for c in alphabet.chars().filter(|c| c.to_string() != last) {
        let tampered = format!("{body}{c}");
        let err = v.verify(&tampered).await.expect_err(&format!("tampered last char {c:?} verified"));
        assert!(
            matches!(err.reason(), Reason::TokenInvalidSignature | Reason::TokenInvalid),
            "last char {c:?}: {err:?}"
        );
        signature_failures += usize::from(err.reason() == Reason::TokenInvalidSignature);
    }
    assert!(signature_failures > 0);
    assert_eq!(v.cached_tokens(), 1);
    v.verify(&t).await.unwrap();

    // Other near-misses of the cached token.
    let mut sig_flip = t.clone().into_bytes();
    let mid = t.rfind('.').unwrap() + 10;
    sig_flip[mid] = if sig_flip[mid] == b'A' { b'B' } else { b'A' };
    let sig_flip = String::from_utf8(sig_flip).unwrap();
    assert_eq!(v.verify(&sig_flip).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
    assert!(v.verify(&format!("{t} ")).await.is_err());
    assert!(v.verify(&t[..t.len() - 1]).await.is_err());
    assert!(v.verify(&format!("{t}A")).await.is_err());
    assert_eq!(v.cached_tokens(), 1);

    // Same length and same signature (the cache hashes the token's end): a changed header or payload character must
    // still miss (keys are compared in full) and fail the signature.
    for at in [3, t.find('.').unwrap() + 5] {
        let mut near = t.clone().into_bytes();
        near[at] = if near[at] == b'A' { b'B' } else { b'A' };
        let near = String::from_utf8(near).unwrap();
        v.verify(&near).await.expect_err("a token differing before its signature verified");
    }
    assert_eq!(v.cached_tokens(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_claims_signed_by_a_stranger_do_not_hit_the_cache() {
    let clock = clock();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let mut claims = session_claims(i64::try_from(clock.now_secs()).unwrap());
    claims["jti"] = json!(jti());
    let good = key_a().sign(&claims);
    v.verify(&good).await.unwrap();
    // Same header (same kid) and payload, another key's signature.
    let stranger = TestKey::from_private_pem(&key_a().kid, &key_b().private_pem, 2048);
    let forged = stranger.sign(&claims);
    assert_eq!(good.rsplit_once('.').unwrap().0, forged.rsplit_once('.').unwrap().0);
    assert_eq!(v.verify(&forged).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
    assert_eq!(v.cached_tokens(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Key-set generation
// ---------------------------------------------------------------------------------------------------------------

const TTL: Duration = Duration::from_secs(10);

/// A verifier of `clerk`'s Backend API keys (ttl 10 s, no refresh-ahead, stale-if-error 60 s, no retries).
fn remote_verifier(clerk: &Emulator, clock: &TestClock) -> Verifier {
    Verifier::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .key_cache(
            KeyCacheConfig::default()
                .ttl(TTL)
                .refresh_ahead(Duration::ZERO)
                .min_refresh_interval(Duration::from_secs(5))
                .stale_if_error(Duration::from_secs(60)),
        )
        .retry(RetryPolicy::none())
        .clock(clock.clone())
        .token_cache(AT_ONCE)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_dropped_when_the_key_set_changes() {
    let a = key_a();
    let clock = clock();
    let clerk = emulator(a).await;
    let v = remote_verifier(&clerk, &clock);
    let t = long_token(a, clock.now_secs());
    v.verify(&t).await.unwrap();
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    assert!(verify_cached(&v, t.as_bytes()).is_some_and(|r| r.is_ok()));
    let g0 = v.key_generation();

    // Rotation: a new key signs and key_a is retired (no longer published).
    let new = clerk.rotate_keys().unwrap();
    clerk.retire_key(&a.kid);
    clock.advance(TTL + Duration::from_secs(1));
    v.refresh_keys().await.unwrap();
    assert_eq!(hits(&clerk), 2);
    assert_eq!(v.loaded_kids(), vec![new.kid().to_owned()]);
    assert_ne!(v.key_generation(), g0);

    // The cached key_a token is not served from the cache any more (a request for it waits for `verify`).
    assert!(verify_cached(&v, t.as_bytes()).is_none());
    let err = v.verify(&t).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkKidMismatch, "{err:?}");
    assert_eq!(v.cached_tokens(), 0);
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::JwkKidMismatch);
    v.verify(&long_emulator_token(&new, clock.now_secs())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_survive_a_generation_change_only_by_full_reverification() {
    // A key is added: the generation changes, the cached key_a token is re-verified in full (and still passes).
    let a = key_a();
    let clock = clock();
    let clerk = emulator(a).await;
    let v = remote_verifier(&clerk, &clock);
    let t = long_token(a, clock.now_secs());
    v.verify(&t).await.unwrap();
    let g0 = v.key_generation();
    // Rotation: a new key is published next to key_a.
    clerk.rotate_keys().unwrap();
    v.refresh_keys().await.unwrap();
    assert_eq!(v.loaded_kids().len(), 2);
    assert_ne!(v.key_generation(), g0);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    v.verify(&t).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_returning_the_same_keys_keeps_the_generation_and_the_cache() {
    let (a, b) = (key_a(), key_b());
    let clock = clock();
    let clerk = emulator(a).await;
    serve_jwks(&clerk, jwks(&[a, b]));
    let v = remote_verifier(&clerk, &clock);
    let t = long_token(a, clock.now_secs());
    v.verify(&t).await.unwrap();
    let g0 = v.key_generation();

    clock.advance(TTL + Duration::from_secs(1));
    v.refresh_keys().await.unwrap();
    assert_eq!(hits(&clerk), 2);
    assert_eq!(v.key_generation(), g0, "same keys, same generation");
    assert_eq!(v.cached_tokens(), 1);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);

    // The same keys in another order are the same set.
    serve_jwks(&clerk, jwks(&[b, a]));
    v.refresh_keys().await.unwrap();
    assert_eq!(v.key_generation(), g0, "key order must not change the generation");

    // Through a background refresh (past the ttl) as well. A cache hit never reaches the key store, so a new
    // token triggers it.
    clock.advance(TTL + Duration::from_secs(1));
    v.verify(&long_token(a, clock.now_secs())).await.unwrap();
    assert_eq!(v.cached_tokens(), 2);
    wait_until("the background refresh", || hits(&clerk) == 4).await;
    assert_eq!(v.key_fetch_count(), 4);
    assert_eq!(v.key_generation(), g0);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 2);

    // Same kid, different key material: a new set.
    let same_kid = TestKey::from_private_pem(&a.kid, &b.private_pem, 2048);
    let other_b = TestKey::from_private_pem(&b.kid, &a.private_pem, 2048);
    serve_jwks(&clerk, jwks(&[&same_kid, &other_b]));
    v.refresh_keys().await.unwrap();
    assert_ne!(v.key_generation(), g0, "new key material under the same kids must change the generation");
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
}

/// A cache hit must give the answer a full verification would give at that instant. Past `ttl + stale_if_error`
/// with every refresh failing, a full verification is refused with `jwk-remote-failed-to-load`, but a token cached
/// before keeps verifying (until its own `exp`), so the stale-if-error bound does not hold for cached tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_token_is_not_served_past_the_stale_limit() {
    let a = key_a();
    let clock = clock();
    let clerk = emulator(a).await;
    let v = remote_verifier(&clerk, &clock);
    let t = long_token(a, clock.now_secs());
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);

    set_jwks_fault(&clerk, Fault::Status(500));
    clock.advance(TTL + Duration::from_secs(61));
    let fresh = long_token(a, clock.now_secs());
    assert_eq!(v.verify(&fresh).await.unwrap_err().reason(), Reason::JwkRemoteFailedToLoad);
    let err = v.verify(&t).await.expect_err("a cached token verified with keys past the stale limit");
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad);
}

// ---------------------------------------------------------------------------------------------------------------
// A request's token answered from the cache, by its bytes
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_cached_answers_what_verify_answers_or_nothing() {
    let clock = clock();
    let t0 = clock.now_secs();
    let v = static_verifier(&clock, AT_ONCE, Duration::from_secs(5));
    let t = token(key_a(), t0); // exp = t0 + 60
    assert!(verify_cached(&v, t.as_bytes()).is_none(), "never verified: not answered");
    let full = v.verify(&t).await.unwrap();
    let hit = verify_cached(&v, t.as_bytes()).expect("cached").unwrap();
    assert_eq!(hit.user_id(), full.user_id());
    assert_eq!(hit.session_id(), full.session_id());
    assert_eq!(hit.token(), t);

    // Other bytes are not answered: a tampered token, a prefix, the token with a byte more, non-UTF-8 bytes.
    let mut tampered = t.clone().into_bytes();
    *tampered.last_mut().unwrap() ^= 1;
    for other in [&tampered[..], &t.as_bytes()[..t.len() - 1], format!("{t}A").as_bytes(), b"\xff\xfe"] {
        assert!(verify_cached(&v, other).is_none());
    }

    // Past exp + skew: the error `verify` gives, and the entry is dropped.
    clock.set_secs(t0 + 65);
    assert_eq!(verify_cached(&v, t.as_bytes()).unwrap().unwrap_err().reason(), Reason::TokenExpired);
    assert_eq!(v.cached_tokens(), 0);
    assert!(verify_cached(&v, t.as_bytes()).is_none());
    assert_eq!(v.verify(&t).await.unwrap_err().reason(), Reason::TokenExpired);

    // Without a cache there is nothing to answer from.
    let uncached = static_verifier(&clock, TokenCacheConfig::disabled(), Duration::from_secs(5));
    let t = token(key_a(), clock.now_secs());
    uncached.verify(&t).await.unwrap();
    assert!(verify_cached(&uncached, t.as_bytes()).is_none());
}

// ---------------------------------------------------------------------------------------------------------------
// Admission: by default a token is cached the second time it passes verification
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_token_is_cached_the_second_time_it_passes() {
    let clock = clock();
    let v = static_verifier(&clock, TokenCacheConfig::default(), Duration::from_secs(5));
    let tokens: Vec<String> = (0..20).map(|_| token(key_a(), clock.now_secs())).collect();
    for t in &tokens {
        v.verify(t).await.unwrap();
    }
    assert_eq!(v.cached_tokens(), 0, "a token that passed once is not cached");
    assert!(tokens.iter().all(|t| verify_cached(&v, t.as_bytes()).is_none()));
    // Used again (in the same order, and so after nineteen others): each one is cached now, and answered from the
    // cache with the same session afterwards.
    for (i, t) in tokens.iter().enumerate() {
        let second = v.verify(t).await.unwrap();
        assert_eq!(v.cached_tokens(), i + 1);
        let hit = verify_cached(&v, t.as_bytes()).expect("cached after its second use").unwrap();
        assert_eq!(hit.token(), second.token());
        assert_eq!(hit.session_id(), second.session_id());
        v.verify(t).await.unwrap();
        assert_eq!(v.cached_tokens(), i + 1, "a hit adds no entry");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_do_not_count_towards_admission() {
    let clock = clock();
    let v = static_verifier(&clock, TokenCacheConfig::default(), Duration::from_secs(5));
    let t0 = clock.now_secs();
    // A token from the future (`nbf`/`iat` past the skew) is refused twice, then passes twice once its time has
    // come: only the second pass caches it.
    let t = key_a().sign(&json!({"sub": "user_2", "sid": "sess_2", "iat": t0 + 30, "nbf": t0 + 30, "exp": t0 + 90}));
    for _ in 0..2 {
        assert!(v.verify(&t).await.is_err());
    }
    assert_eq!(v.cached_tokens(), 0);
    clock.set_secs(t0 + 30);
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 0, "refusals are not uses");
    v.verify(&t).await.unwrap();
    assert_eq!(v.cached_tokens(), 1);
    // A forged copy (last signature byte changed) is refused every time and never admitted.
    let mut forged = t.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for _ in 0..3 {
        assert!(v.verify(&forged).await.is_err());
    }
    assert_eq!(v.cached_tokens(), 1);
}

/// Thousands of tokens used once: the cache stays nearly empty (the filter's false positives, cleared every 4 ×
/// capacity tokens, are the only entries), and a token used again shortly after is still admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_used_once_stay_out_of_the_cache_and_the_filter_does_not_fill_up() {
    let clock = clock();
    // Capacity 64: the filter has 4 096 bits and is cleared every 256 tokens; 1 500 one-off tokens clear it five
    // times. Without the clearing its bits would fill up and admit nearly every token.
    let v = static_verifier(&clock, TokenCacheConfig::capacity(64), Duration::from_secs(5));
    let payload = json!({"sub": "user_1", "sid": "sess_1", "iat": clock.now_secs(), "exp": clock.now_secs() + 60});
    let mut admitted = 0;
    for i in 0..1500 {
        let mut claims = payload.clone();
        claims["jti"] = json!(format!("once-{i}"));
        let before = v.cached_tokens();
        v.verify(&key_a().sign(&claims)).await.unwrap();
        admitted += usize::from(v.cached_tokens() > before);
    }
    // False positives: under ~1 % at the end of a filter cycle and fewer before it (1 % of 1 500 is 15).
    assert!(admitted < 30, "{admitted} of 1500 one-off tokens were cached");
    // A token used twice in a row is cached, as at the start.
    let t = token(key_a(), clock.now_secs());
    v.verify(&t).await.unwrap();
    v.verify(&t).await.unwrap();
    assert!(verify_cached(&v, t.as_bytes()).is_some_and(|r| r.is_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admit_on_first_use_caches_at_once_and_a_disabled_cache_admits_nothing() {
    let clock = clock();
    let first = static_verifier(&clock, TokenCacheConfig::capacity(16).admit_on_first_use(), Duration::from_secs(5));
    let t = token(key_a(), clock.now_secs());
    first.verify(&t).await.unwrap();
    assert_eq!(first.cached_tokens(), 1);
    let off = static_verifier(&clock, TokenCacheConfig::disabled().admit_on_first_use(), Duration::from_secs(5));
    for _ in 0..3 {
        off.verify(&t).await.unwrap();
    }
    assert_eq!(off.cached_tokens(), 0);
    assert!(verify_cached(&off, t.as_bytes()).is_none());
}
