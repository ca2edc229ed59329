//! The per-verifier key cache over a real loopback HTTP server: single-flight refresh, rate-limited unknown-kid
//! refreshes, stale-if-error, status mapping and retries, rotation, instance isolation and refresh-ahead.
//!
//! Every test uses a fresh verifier and a fresh server, distinct tokens (different `jti`) so that the verified-token
//! cache never masks the key path, and polls (with generous deadlines) instead of asserting tight timings.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clerk_core::{Clock, KeyCacheConfig, Reason, RetryPolicy, TestClock, TokenCacheConfig, Verifier, VerifyError};
use serde_json::json;
use support::*;

const SECRET: &str = "sk_test_loopback";

/// A token from `key` issued at `now` (seconds), valid for an hour, with a unique `jti`.
fn token(key: &TestKey, now: u64, jti: &str) -> String {
    let now = i64::try_from(now).unwrap();
    let mut claims = session_claims(now);
    claims["jti"] = json!(jti);
    claims["exp"] = json!(now + 3600);
    key.sign(&claims)
}

/// A token signed by `key` but naming `kid` in its header.
fn token_with_kid(key: &TestKey, kid: &str, now: u64, jti: &str) -> String {
    let now = i64::try_from(now).unwrap();
    let mut claims = session_claims(now);
    claims["jti"] = json!(jti);
    claims["exp"] = json!(now + 3600);
    key.sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}), &claims)
}

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// A source of unique `jti`s.
fn jti() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("jti_{}_{:x}", N.fetch_add(1, Ordering::Relaxed), random_u64())
}

fn verifier(server: &JwksServer, clock: &TestClock, cache: KeyCacheConfig, retry: RetryPolicy) -> Verifier {
    Verifier::builder()
        .secret_key(SECRET)
        .unwrap()
        .api_url(&server.url())
        .unwrap()
        .key_cache(cache)
        .retry(retry)
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Waits (up to 10 s) until `cond` holds.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Verifies fresh key_a tokens (which must pass) until `cond` holds (up to 10 s). Each verification may schedule a
/// background refresh; the store deduplicates and rate-limits them, so poking repeatedly only makes the wait robust
/// against a background task that is still finishing.
async fn poke_until(v: &Verifier, clock: &TestClock, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        v.verify(&token(key_a(), clock.now_secs(), &jti())).await.unwrap();
        if cond() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A short pause after a poll succeeded, so that an unexpected extra request would have time to show.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn reason(r: Result<clerk_core::SessionAuth, VerifyError>) -> Reason {
    r.unwrap_err().reason()
}

// ---------------------------------------------------------------------------------------------------------------
// Single flight
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_thousand_concurrent_unknown_kid_verifications_cause_exactly_one_fetch() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(b.jwks())).await;
    // No rate limit at all: only single flight may keep the refresh to one fetch.
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::ZERO);
    let v = verifier(&server, &clock, cache, RetryPolicy::none());

    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);
    assert_eq!(v.key_fetch_count(), 1);
    let generation = v.key_generation();

    // Rotation: the instance now also serves key_a, slowly, so that the verifications really overlap the fetch.
    server.set_mode(Mode::Slow(Duration::from_millis(500), jwks(&[a, b])));
    let n = 1000;
    let tokens: Vec<String> = (0..n).map(|i| token(a, clock.now_secs(), &format!("conc_{i}"))).collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::with_capacity(n);
    for t in tokens {
        let (v, barrier) = (v.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            v.verify(&t).await
        }));
    }
    for task in tasks {
        let auth = task.await.unwrap().unwrap();
        assert_eq!(auth.user_id(), "user_2bVftRtFezPdchfaz9999999999");
    }
    assert_eq!(server.hits(), 2, "1000 concurrent unknown-kid verifications must share one fetch");
    assert_eq!(v.key_fetch_count(), 2);
    assert_ne!(v.key_generation(), generation);
    settle().await;
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_verifications_share_the_initial_fetch() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Slow(Duration::from_millis(300), a.jwks())).await;
    let v = verifier(&server, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (v, t) = (v.clone(), token(a, clock.now_secs(), &jti()));
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.hits(), 1);
    assert_eq!(v.key_fetch_count(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Unknown kids are rate-limited
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_refetch_at_most_once_per_min_refresh_interval() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::from_secs(10));
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);
    let generation = v.key_generation();

    let unknown = |clock: &TestClock| {
        (0..50)
            .map(|_| token_with_kid(a, &format!("ins_unknown_{:x}", random_u64()), clock.now_secs(), &jti()))
            .collect::<Vec<_>>()
    };

    // Right after the initial fetch: at most one refetch (here none, the interval has not passed).
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    let after_first_burst = server.hits();
    assert!(after_first_burst <= 2, "50 unknown kids caused {} refetches", after_first_burst - 1);

    // Still inside the interval: nothing more.
    clock.advance(Duration::from_secs(9));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(server.hits(), after_first_burst);

    // Past the interval: exactly one more, for all 50.
    clock.advance(Duration::from_secs(2));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(server.hits(), after_first_burst + 1);

    // And once more after the next interval.
    clock.advance(Duration::from_secs(11));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(server.hits(), after_first_burst + 2);
    assert_eq!(v.key_fetch_count(), u64::try_from(server.hits()).unwrap());

    // The refetches returned the same keys: the generation is unchanged and known kids still verify.
    assert_eq!(v.key_generation(), generation);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), after_first_burst + 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Stale if error
// ---------------------------------------------------------------------------------------------------------------

const TTL: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_secs(60);
const MIN_INTERVAL: Duration = Duration::from_secs(5);

fn stale_cache() -> KeyCacheConfig {
    KeyCacheConfig::default()
        .ttl(TTL)
        .refresh_ahead(Duration::ZERO)
        .min_refresh_interval(MIN_INTERVAL)
        .stale_if_error(STALE)
}

/// Loads keys, breaks the server with `mode`, and checks: within the stale window the last good keys verify (and
/// each verification past the interval triggers one background attempt); past it, `jwk-remote-failed-to-load`.
async fn stale_keys_serve_until_the_limit(mode: Mode) {
    let a = key_a();
    let clock = TestClock::at_secs(now_secs().try_into().unwrap());
    let t0 = clock.now_secs();
    let at = |secs: u64| clock.set_secs(t0 + secs);
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v = verifier(&server, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);

    server.set_mode(mode);

    // Still fresh (ttl 10 s): no fetch at all.
    at(9);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), 1);

    // Past the ttl: served stale at once, one background attempt (which fails).
    at(11);
    poke_until(&v, &clock, "the background refresh", || server.hits() == 2).await;
    settle().await;

    // Within min_refresh_interval (5 s) after the failure: still served, no new attempt.
    at(13);
    for _ in 0..5 {
        v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    }
    settle().await;
    assert_eq!(server.hits(), 2, "failed refreshes must be retried at most once per min_refresh_interval");
    assert_eq!(v.key_fetch_count(), 2);

    // Later in the stale window: served, one more attempt.
    at(17);
    poke_until(&v, &clock, "the second background refresh", || server.hits() == 3).await;
    settle().await;
    assert_eq!(server.hits(), 3);

    // Just inside the limit (ttl + stale_if_error = 70 s).
    at(69);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;

    // Past ttl + stale_if_error: the keys are gone.
    at(71);
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert!(err.is_key_unavailable());
    // And stay gone, whether or not a verification is allowed to refetch.
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    at(80);
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");

    // The server recovers: the next attempt past the interval loads keys and verification works again.
    server.set_mode(Mode::Jwks(a.jwks()));
    at(90);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    at(91);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_500() {
    stale_keys_serve_until_the_limit(Mode::Status(500, r#"{"errors":[]}"#.to_owned())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_garbage() {
    stale_keys_serve_until_the_limit(Mode::Garbage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_drops_connections() {
    stale_keys_serve_until_the_limit(Mode::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_an_empty_key_set() {
    stale_keys_serve_until_the_limit(Mode::Jwks(r#"{"keys":[]}"#.to_owned())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_after_the_server_is_gone() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let hits = Arc::clone(&server.hits);
    let v = verifier(&server, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(v.key_fetch_count(), 1);

    // Stop the server. Its listener closes; the client may still hold the pooled keep-alive connection, whose
    // server-side task outlives the listener, so make that connection fail too.
    server.set_mode(Mode::Drop);
    drop(server);

    clock.advance(TTL + Duration::from_secs(1));
    poke_until(&v, &clock, "the first background attempt", || v.key_fetch_count() == 2).await;

    // Past the interval: another attempt, on a new connection, refused: no request reaches anything.
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    // Let the first attempt finish (poking below would wait for it anyway).
    settle().await;
    poke_until(&v, &clock, "the second background attempt", || v.key_fetch_count() == 3).await;
    settle().await;
    assert!(hits.load(Ordering::SeqCst) <= 2, "requests reached a stopped server");

    // Past the limit.
    clock.set_secs(clock.now_secs() + TTL.as_secs() + STALE.as_secs());
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert!(err.is_key_unavailable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_error_zero_disables_stale_serving() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = stale_cache().stale_if_error(Duration::ZERO);
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    server.set_mode(Mode::Status(503, String::new()));
    clock.advance(TTL + Duration::from_secs(1));
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_replaced_by_a_successful_background_refresh() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v = verifier(&server, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let generation = v.key_generation();

    server.set_mode(Mode::Jwks(jwks(&[a, b])));
    clock.advance(TTL + Duration::from_secs(1));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    wait_until("the background refresh to publish the new set", || v.key_generation() != generation).await;
    assert_eq!(server.hits(), 2);
    // key_b is now known without any further fetch.
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// First-fetch failures: reasons and retries
// ---------------------------------------------------------------------------------------------------------------

async fn first_fetch_failure(mode: Mode, retry: RetryPolicy) -> (VerifyError, usize) {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(mode).await;
    let v = verifier(&server, &clock, KeyCacheConfig::default(), retry);
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    settle().await;
    (err, server.hits())
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_401_is_secret_key_invalid_and_never_retried() {
    let (err, hits) = first_fetch_failure(
        Mode::Status(401, r#"{"errors":[{"code":"clerk_key_invalid"}]}"#.to_owned()),
        RetryPolicy::default(),
    )
    .await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert!(err.is_key_unavailable());
    assert_eq!(hits, 1, "a 401 must not be retried");

    let (err, hits) = first_fetch_failure(Mode::Status(403, String::new()), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(hits, 1);

    // Clerk's error code in another 4xx also means the key was refused.
    let (err, hits) = first_fetch_failure(
        Mode::Status(422, r#"{"errors":[{"code":"clerk_key_invalid"}]}"#.to_owned()),
        RetryPolicy::default(),
    )
    .await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_are_failed_to_load_and_never_retried() {
    for status in [400, 404, 429] {
        let (err, hits) = first_fetch_failure(Mode::Status(status, "{}".to_owned()), RetryPolicy::default()).await;
        assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{status}: {err:?}");
        assert!(err.is_key_unavailable());
        assert_eq!(hits, 1, "{status} must not be retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_5xx_is_failed_to_load_and_retried_up_to_the_policy() {
    let (err, hits) = first_fetch_failure(Mode::Status(500, "{}".to_owned()), quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert!(err.is_key_unavailable());
    assert_eq!(hits, 3);

    // With the default backoff too (100 ms, 200 ms).
    let (err, hits) = first_fetch_failure(Mode::Status(503, "{}".to_owned()), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 3);

    let (err, hits) = first_fetch_failure(Mode::Status(502, "{}".to_owned()), RetryPolicy::none()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);

    let (err, hits) =
        first_fetch_failure(Mode::Status(500, "{}".to_owned()), quick_retries().with_max_attempts(5)).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_connection_failures_are_retried() {
    let (err, hits) = first_fetch_failure(Mode::Drop, quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 3);

    // A 200 that is not a key set is an answer: not retried.
    let (err, hits) = first_fetch_failure(Mode::Garbage, quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);
    let (err, hits) = first_fetch_failure(Mode::Jwks(r#"{"keys":[]}"#.to_owned()), quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_fetch_recovers_once_the_server_does() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Status(500, "{}".to_owned())).await;
    let v = verifier(&server, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad);
    server.set_mode(Mode::Jwks(a.jwks()));
    clock.advance(Duration::from_secs(6));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
}

/// `KeyCacheConfig::min_refresh_interval` documents that "retries after a failed refresh" happen at most once per
/// interval. Without keys ever loaded, every verification currently refetches (the initial trigger is exempt), so a
/// revoked secret key or a down API is hit once per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_initial_fetch_is_retried_at_most_once_per_interval() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Status(401, String::new())).await;
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::from_secs(10));
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    for _ in 0..20 {
        let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
        assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    }
    assert_eq!(server.hits(), 1, "a failed initial fetch was retried within min_refresh_interval");
    clock.advance(Duration::from_secs(11));
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(server.hits(), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_picked_up_and_removed_keys_stop_verifying() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = KeyCacheConfig::default()
        .ttl(TTL)
        .refresh_ahead(Duration::ZERO)
        .min_refresh_interval(MIN_INTERVAL)
        .stale_if_error(STALE);
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let g0 = v.key_generation();
    assert_eq!(v.loaded_kids(), vec![a.kid.clone()]);

    // A token from a key the server does not serve yet: refused.
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    assert_eq!(reason(v.verify(&token(b, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    assert_eq!(server.hits(), 2);

    // The server starts serving the new key: once the interval has passed, its tokens verify (one fetch).
    server.set_mode(Mode::Jwks(jwks(&[a, b])));
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 3);
    let g1 = v.key_generation();
    assert_ne!(g1, g0);
    let mut kids = v.loaded_kids();
    kids.sort();
    assert_eq!(kids, vec![a.kid.clone(), b.kid.clone()]);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();

    // The old key is removed: after the refresh its tokens fail.
    server.set_mode(Mode::Jwks(b.jwks()));
    clock.advance(TTL + Duration::from_secs(1));
    v.refresh_keys().await.unwrap();
    assert_eq!(server.hits(), 4);
    assert_ne!(v.key_generation(), g1);
    assert_eq!(v.loaded_kids(), vec![b.kid.clone()]);
    // The removed kid is unknown now: one unknown-kid refresh (the last one was long ago), then refused.
    assert_eq!(reason(v.verify(&token(a, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    assert_eq!(server.hits(), 5);
    // Within the interval, further unknown-kid tokens cost no fetch.
    assert_eq!(reason(v.verify(&token(a, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_keys_errors_keep_the_last_good_keys() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v = verifier(&server, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v.refresh_keys().await.unwrap();
    assert_eq!(server.hits(), 1);
    let generation = v.key_generation();
    server.set_mode(Mode::Status(401, String::new()));
    assert_eq!(v.refresh_keys().await.unwrap_err().reason(), Reason::SecretKeyInvalid);
    server.set_mode(Mode::Garbage);
    assert_eq!(v.refresh_keys().await.unwrap_err().reason(), Reason::JwkRemoteFailedToLoad);
    assert_eq!(v.key_generation(), generation);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 3);
}

// ---------------------------------------------------------------------------------------------------------------
// Instance isolation
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_cross_verify_even_with_the_same_kid() {
    let a = key_a();
    // Instance B's key: another RSA key under the SAME kid string.
    let b = TestKey::generate(&a.kid, 2048);
    assert_eq!(a.kid, b.kid);
    let clock = TestClock::now();
    let server_a = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let server_b = JwksServer::start(Mode::Jwks(b.jwks())).await;
    let build = |server: &JwksServer, sk: &str| {
        Verifier::builder()
            .secret_key(sk)
            .unwrap()
            .api_url(&server.url())
            .unwrap()
            .retry(RetryPolicy::none())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let va = build(&server_a, "sk_test_instance_a");
    let vb = build(&server_b, "sk_test_instance_b");

    let ta = token(a, clock.now_secs(), &jti());
    let tb = token(&b, clock.now_secs(), &jti());
    va.verify(&ta).await.unwrap();
    vb.verify(&tb).await.unwrap();
    assert_eq!(reason(vb.verify(&ta).await), Reason::TokenInvalidSignature);
    assert_eq!(reason(va.verify(&tb).await), Reason::TokenInvalidSignature);
    // Order does not matter, nor does the token cache of the other verifier.
    assert_eq!(reason(vb.verify(&ta).await), Reason::TokenInvalidSignature);
    assert_eq!(reason(va.verify(&tb).await), Reason::TokenInvalidSignature);
    va.verify(&ta).await.unwrap();
    vb.verify(&tb).await.unwrap();

    // Each verifier fetched only from its own server, with its own secret key.
    assert_eq!(server_a.hits(), 1);
    assert_eq!(server_b.hits(), 1);
    assert_eq!(server_a.last_auth.lock().unwrap().as_deref(), Some("Bearer sk_test_instance_a"));
    assert_eq!(server_b.last_auth.lock().unwrap().as_deref(), Some("Bearer sk_test_instance_b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_verifiers_of_the_same_instance_keep_separate_caches() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v1 = verifier(&server, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let v2 = verifier(&server, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v1.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    v2.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 2);
    assert_eq!((v1.key_fetch_count(), v2.key_fetch_count()), (1, 1));
    // Clones share.
    let v3 = v1.clone();
    v3.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Refresh ahead
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_refreshes_in_the_background_without_making_requests_wait() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = KeyCacheConfig::default()
        .ttl(Duration::from_secs(10))
        .refresh_ahead(Duration::from_secs(5))
        .min_refresh_interval(Duration::from_secs(1));
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);
    let generation = v.key_generation();

    // Age 4 s: before the refresh-ahead window, nothing happens.
    clock.advance(Duration::from_secs(4));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), 1);

    // Age 6 s: inside the window. The server now answers (with a new set) only after 30 s: if the verification
    // waited for the fetch it could not finish within the 10 s bound below.
    server.set_mode(Mode::Slow(Duration::from_secs(30), jwks(&[a, b])));
    clock.advance(Duration::from_secs(2));
    for _ in 0..20 {
        let t = token(a, clock.now_secs(), &jti());
        let auth = tokio::time::timeout(Duration::from_secs(10), v.verify(&t))
            .await
            .expect("a verification in the refresh-ahead window waited for the fetch");
        auth.unwrap();
    }
    // It was served from the current keys.
    assert_eq!(v.key_generation(), generation);
    // One background request is in flight (not one per verification).
    wait_until("the background refresh request", || server.hits() == 2).await;
    assert_eq!(v.key_fetch_count(), 2);
    settle().await;
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_publishes_new_keys() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = KeyCacheConfig::default().ttl(Duration::from_secs(10)).refresh_ahead(Duration::from_secs(5));
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let generation = v.key_generation();
    server.set_mode(Mode::Jwks(jwks(&[a, b])));
    clock.advance(Duration::from_secs(6));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    wait_until("the background refresh to publish", || v.key_generation() != generation).await;
    assert_eq!(server.hits(), 2);
    // Fresh again: key_b verifies with no fetch, and at age 4 s after the refresh nothing is scheduled.
    clock.advance(Duration::from_secs(4));
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(server.hits(), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Background refresh task and sources
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_key_refresh_is_some_for_remote_sources_and_none_for_static_ones() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let cache = KeyCacheConfig::default().ttl(Duration::from_secs(2)).refresh_ahead(Duration::from_secs(1));
    let v = verifier(&server, &clock, cache, RetryPolicy::none());
    let handle = v.spawn_key_refresh().expect("a remote source gets a refresh task");
    // The task loads the keys without any verification asking for them.
    wait_until("the refresh task's initial fetch", || v.key_fetch_count() == 1).await;
    wait_until("the server to see it", || server.hits() == 1).await;
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);

    // Past the refresh-ahead point, the task refreshes by itself.
    clock.advance(Duration::from_secs(1) + Duration::from_millis(100));
    wait_until("the refresh task's second fetch", || server.hits() == 2).await;

    // The task ends once the verifier (and every clone) is gone.
    drop(v);
    wait_until("the refresh task to end", || handle.is_finished()).await;

    let stat = Verifier::builder().jwks_json(a.jwks()).unwrap().build().unwrap();
    assert!(stat.spawn_key_refresh().is_none());
    let pem = Verifier::builder().jwt_key(&a.public_pem).unwrap().build().unwrap();
    assert!(pem.spawn_key_refresh().is_none());
    // Static keys never fetch; refresh_keys is a no-op.
    stat.refresh_keys().await.unwrap();
    assert_eq!(stat.key_fetch_count(), 0);
}

#[test]
fn spawn_key_refresh_outside_a_runtime_is_none() {
    let v = Verifier::builder().secret_key(SECRET).unwrap().api_url("http://127.0.0.1:9").unwrap().build().unwrap();
    assert!(v.spawn_key_refresh().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontend_api_jwks_url_sends_no_authorization() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v = Verifier::builder()
        .secret_key(SECRET)
        .unwrap()
        .jwks_url(&format!("{}/.well-known/jwks.json", server.url()))
        .unwrap()
        .retry(RetryPolicy::none())
        .clock(clock.clone())
        .build()
        .unwrap();
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server.hits(), 1);
    assert_eq!(server.last_auth.lock().unwrap().as_deref(), None, "the secret key leaked to a JWKS URL");

    // The Backend API source does send it.
    let server2 = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v2 = verifier(&server2, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v2.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(server2.last_auth.lock().unwrap().as_deref(), Some("Bearer sk_test_loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_from_a_jwks_url_is_not_a_secret_key_problem() {
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Status(401, String::new())).await;
    let v = Verifier::builder()
        .jwks_url(&format!("{}/.well-known/jwks.json", server.url()))
        .unwrap()
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cache_does_not_hide_fetch_counts() {
    // With the token cache disabled the same token goes through the key path every time, without any fetch.
    let a = key_a();
    let clock = TestClock::now();
    let server = JwksServer::start(Mode::Jwks(a.jwks())).await;
    let v = Verifier::builder()
        .secret_key(SECRET)
        .unwrap()
        .api_url(&server.url())
        .unwrap()
        .token_cache(TokenCacheConfig::disabled())
        .clock(clock.clone())
        .build()
        .unwrap();
    let t = token(a, clock.now_secs(), &jti());
    for _ in 0..10 {
        v.verify(&t).await.unwrap();
    }
    assert_eq!(server.hits(), 1);
    assert_eq!(v.cached_tokens(), 0);
}
