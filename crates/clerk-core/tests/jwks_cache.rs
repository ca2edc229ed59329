//! The per-verifier key cache against the `clerk-testing` emulator (a real loopback HTTP server): single-flight
//! refresh, rate-limited unknown-kid refreshes, stale-if-error, status mapping and retries, rotation, instance
//! isolation and refresh-ahead.
//!
//! Every test uses a fresh verifier and a fresh emulator, distinct tokens (different `jti`) so that the verified-token
//! cache never masks the key path, and polls (with generous deadlines) instead of asserting tight timings. Request
//! counts come from the emulator's request log, which records a request once it has been answered (or dropped).
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clerk_core::{Clock, KeyCacheConfig, Reason, RetryPolicy, TestClock, TokenCacheConfig, Verifier, VerifyError};
use clerk_testing::{Emulator, Fault, InstanceKey};
use serde_json::{Value, json};
use support::*;

const SECRET: &str = "sk_test_loopback";

/// Session claims issued at `now` (seconds), valid for an hour, with this `jti`.
fn claims(now: u64, jti: &str) -> Value {
    let now = i64::try_from(now).unwrap();
    let mut claims = session_claims(now);
    claims["jti"] = json!(jti);
    claims["exp"] = json!(now + 3600);
    claims
}

/// A token from `key` issued at `now` (seconds), valid for an hour, with a unique `jti`.
fn token(key: &TestKey, now: u64, jti: &str) -> String {
    key.sign(&claims(now, jti))
}

/// The same, signed by an emulator's key (e.g. the one [`Emulator::rotate_keys`] made).
fn emulator_token(key: &InstanceKey, now: u64, jti: &str) -> String {
    key.sign_claims(&claims(now, jti))
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

/// Backend API JWKS requests the emulator has answered (or dropped).
fn hits(clerk: &Emulator) -> usize {
    clerk.request_count(BACKEND_JWKS)
}

/// A verifier of `clerk`'s Backend API keys, with its secret key.
fn verifier(clerk: &Emulator, clock: &TestClock, cache: KeyCacheConfig, retry: RetryPolicy) -> Verifier {
    Verifier::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
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
    let b = key_b();
    let clock = TestClock::now();
    let clerk = emulator(b).await;
    // No rate limit at all: only single flight may keep the refresh to one fetch.
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::ZERO);
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());

    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 1);
    assert_eq!(v.key_fetch_count(), 1);
    let generation = v.key_generation();

    // Rotation: the instance now signs with a new key and serves both, slowly, so that the verifications really
    // overlap the fetch.
    let new = clerk.rotate_keys().unwrap();
    clerk.faults().inject(BACKEND_JWKS, Fault::Latency(Duration::from_millis(500)));
    let n = 1000;
    let tokens: Vec<String> = (0..n).map(|i| emulator_token(&new, clock.now_secs(), &format!("conc_{i}"))).collect();
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
    assert_eq!(hits(&clerk), 2, "1000 concurrent unknown-kid verifications must share one fetch");
    assert_eq!(v.key_fetch_count(), 2);
    assert_ne!(v.key_generation(), generation);
    let mut kids = v.loaded_kids();
    kids.sort();
    let mut expected = vec![b.kid.clone(), new.kid().to_owned()];
    expected.sort();
    assert_eq!(kids, expected);
    settle().await;
    assert_eq!(hits(&clerk), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_verifications_share_the_initial_fetch() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    clerk.faults().inject(BACKEND_JWKS, Fault::Latency(Duration::from_millis(300)));
    let v = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (v, t) = (v.clone(), token(a, clock.now_secs(), &jti()));
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(hits(&clerk), 1);
    assert_eq!(v.key_fetch_count(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Unknown kids are rate-limited
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_refetch_at_most_once_per_min_refresh_interval() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::from_secs(10));
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 1);
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
    let after_first_burst = hits(&clerk);
    assert!(after_first_burst <= 2, "50 unknown kids caused {} refetches", after_first_burst - 1);

    // Still inside the interval: nothing more.
    clock.advance(Duration::from_secs(9));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(hits(&clerk), after_first_burst);

    // Past the interval: exactly one more, for all 50.
    clock.advance(Duration::from_secs(2));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(hits(&clerk), after_first_burst + 1);

    // And once more after the next interval.
    clock.advance(Duration::from_secs(11));
    for t in unknown(&clock) {
        assert_eq!(reason(v.verify(&t).await), Reason::JwkKidMismatch);
    }
    assert_eq!(hits(&clerk), after_first_burst + 2);
    assert_eq!(v.key_fetch_count(), u64::try_from(hits(&clerk)).unwrap());

    // The refetches returned the same keys: the generation is unchanged and known kids still verify.
    assert_eq!(v.key_generation(), generation);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), after_first_burst + 2);
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

/// Loads keys, breaks the emulator's JWKS endpoint with `fault`, and checks: within the stale window the last good keys verify (and
/// each verification past the interval triggers one background attempt); past it, `jwk-remote-failed-to-load`.
async fn stale_keys_serve_until_the_limit(fault: Fault) {
    let a = key_a();
    let clock = TestClock::at_secs(now_secs().try_into().unwrap());
    let t0 = clock.now_secs();
    let at = |secs: u64| clock.set_secs(t0 + secs);
    let clerk = emulator(a).await;
    let v = verifier(&clerk, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 1);

    set_jwks_fault(&clerk, fault.clone());

    // Still fresh (ttl 10 s): no fetch at all.
    at(9);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 1);

    // Past the ttl: served stale at once, one background attempt (which fails).
    at(11);
    poke_until(&v, &clock, "the background refresh", || hits(&clerk) == 2).await;
    settle().await;

    // Within min_refresh_interval (5 s) after the failure: still served, no new attempt.
    at(13);
    for _ in 0..5 {
        v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    }
    settle().await;
    assert_eq!(hits(&clerk), 2, "failed refreshes must be retried at most once per min_refresh_interval");
    assert_eq!(v.key_fetch_count(), 2);

    // Later in the stale window: served, one more attempt.
    at(17);
    poke_until(&v, &clock, "the second background refresh", || hits(&clerk) == 3).await;
    settle().await;
    assert_eq!(hits(&clerk), 3);

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

    // Every failed attempt met the fault (and only the first one succeeded).
    let logged: Vec<_> = clerk.requests().into_iter().filter(|r| r.path == BACKEND_JWKS).collect();
    assert_eq!(logged.len(), hits(&clerk));
    assert!(logged[0].fault.is_none() && logged[0].status == 200);
    assert!(logged[1..].iter().all(|r| r.fault.as_ref() == Some(&fault)), "{logged:?}");

    // The server recovers: the next attempt past the interval loads keys and verification works again.
    clerk.faults().clear();
    at(90);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    at(91);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(statuses(&clerk, BACKEND_JWKS).last(), Some(&200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_500() {
    stale_keys_serve_until_the_limit(Fault::Status(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_garbage() {
    stale_keys_serve_until_the_limit(Fault::MalformedBody).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_drops_connections() {
    stale_keys_serve_until_the_limit(Fault::DropConnection).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_while_the_server_answers_an_empty_key_set() {
    stale_keys_serve_until_the_limit(Fault::Respond { status: 200, body: r#"{"keys":[]}"#.to_owned() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_keys_serve_after_the_server_is_gone() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v = verifier(&clerk, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(v.key_fetch_count(), 1);
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [200]);
    assert_eq!(clerk.requests().len(), 1);

    // Stop the emulator. Its listener closes; the client may still hold the pooled keep-alive connection, whose
    // server-side task outlives the listener, so make that connection fail too.
    clerk.faults().inject("*", Fault::DropConnection);
    let addr = clerk.addr();
    drop(clerk);
    // The emulator's request log goes with it: what stands for its request count from here on is that nothing
    // accepts a connection on its address any more (the listener closes once its aborted task is dropped).
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the stopped emulator still accepts connections");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    clock.advance(TTL + Duration::from_secs(1));
    poke_until(&v, &clock, "the first background attempt", || v.key_fetch_count() == 2).await;

    // Past the interval: another attempt, on a new connection, refused: no request reaches anything.
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    // Let the first attempt finish (poking below would wait for it anyway).
    settle().await;
    poke_until(&v, &clock, "the second background attempt", || v.key_fetch_count() == 3).await;
    settle().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "requests could reach a stopped server");

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
    let clerk = emulator(a).await;
    let cache = stale_cache().stale_if_error(Duration::ZERO);
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    set_jwks_fault(&clerk, Fault::Status(503));
    clock.advance(TTL + Duration::from_secs(1));
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits(&clerk), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_replaced_by_a_successful_background_refresh() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v = verifier(&clerk, &clock, stale_cache(), RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let generation = v.key_generation();

    serve_jwks(&clerk, jwks(&[a, b]));
    clock.advance(TTL + Duration::from_secs(1));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    wait_until("the background refresh to publish the new set", || v.key_generation() != generation).await;
    assert_eq!(hits(&clerk), 2);
    // key_b is now known without any further fetch.
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// First-fetch failures: reasons and retries
// ---------------------------------------------------------------------------------------------------------------

/// Verifies against an emulator whose Backend API JWKS always answers with `fault`; returns the error and how many
/// JWKS requests the emulator saw (each of which met the fault).
async fn first_fetch_failure(fault: Fault, retry: RetryPolicy) -> (VerifyError, usize) {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    set_jwks_fault(&clerk, fault.clone());
    let v = verifier(&clerk, &clock, KeyCacheConfig::default(), retry);
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    settle().await;
    let logged: Vec<_> = clerk.requests().into_iter().filter(|r| r.path == BACKEND_JWKS).collect();
    assert!(logged.iter().all(|r| r.fault.as_ref() == Some(&fault)), "{logged:?}");
    (err, logged.len())
}

fn respond(status: u16, body: &str) -> Fault {
    Fault::Respond { status, body: body.to_owned() }
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_401_is_secret_key_invalid_and_never_retried() {
    // The emulator's own answer to a secret key it does not know: 401 `clerk_key_invalid`.
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v = Verifier::builder()
        .secret_key("sk_test_not_this_instance")
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::default())
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert!(err.is_key_unavailable());
    settle().await;
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [401], "a 401 must not be retried");

    let (err, hits) =
        first_fetch_failure(respond(401, r#"{"errors":[{"code":"clerk_key_invalid"}]}"#), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert!(err.is_key_unavailable());
    assert_eq!(hits, 1, "a 401 must not be retried");

    let (err, hits) = first_fetch_failure(respond(403, ""), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(hits, 1);

    // Clerk's error code in another 4xx also means the key was refused.
    let (err, hits) =
        first_fetch_failure(respond(422, r#"{"errors":[{"code":"clerk_key_invalid"}]}"#), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_are_failed_to_load_and_never_retried() {
    for status in [400, 404, 429] {
        let (err, hits) = first_fetch_failure(respond(status, "{}"), RetryPolicy::default()).await;
        assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{status}: {err:?}");
        assert!(err.is_key_unavailable());
        assert_eq!(hits, 1, "{status} must not be retried");
        // The same with the emulator's Clerk-shaped error body.
        let (err, hits) = first_fetch_failure(Fault::Status(status), RetryPolicy::default()).await;
        assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{status}: {err:?}");
        assert_eq!(hits, 1, "{status} must not be retried");
    }
    // A 429 with `Retry-After`, as Clerk rate-limits.
    let (err, hits) = first_fetch_failure(Fault::RateLimited { retry_after_secs: 1 }, RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1, "a rate-limited fetch must not be retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_5xx_is_failed_to_load_and_retried_up_to_the_policy() {
    let (err, hits) = first_fetch_failure(Fault::Status(500), quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert!(err.is_key_unavailable());
    assert_eq!(hits, 3);

    // With the default backoff too (100 ms, 200 ms).
    let (err, hits) = first_fetch_failure(Fault::Status(503), RetryPolicy::default()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 3);

    let (err, hits) = first_fetch_failure(Fault::Status(502), RetryPolicy::none()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);

    let (err, hits) = first_fetch_failure(Fault::Status(500), quick_retries().with_max_attempts(5)).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_fetch_connection_failures_are_retried() {
    let (err, hits) = first_fetch_failure(Fault::DropConnection, quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 3);

    // A 200 that is not a key set is an answer: not retried.
    let (err, hits) = first_fetch_failure(Fault::MalformedBody, quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);
    let (err, hits) = first_fetch_failure(respond(200, r#"{"keys":[]}"#), quick_retries()).await;
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_fetch_recovers_once_the_server_does() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    set_jwks_fault(&clerk, Fault::Status(500));
    let v = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad);
    clerk.faults().clear();
    clock.advance(Duration::from_secs(6));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [500, 200]);
}

/// `KeyCacheConfig::min_refresh_interval` documents that "retries after a failed refresh" happen at most once per
/// interval. Without keys ever loaded, every verification currently refetches (the initial trigger is exempt), so a
/// revoked secret key or a down API is hit once per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_initial_fetch_is_retried_at_most_once_per_interval() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default().min_refresh_interval(Duration::from_secs(10));
    // A secret key the emulator does not know (a revoked one): every fetch is answered 401.
    let v = Verifier::builder()
        .secret_key("sk_test_revoked")
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .key_cache(cache)
        .retry(RetryPolicy::none())
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..20 {
        let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
        assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    }
    assert_eq!(hits(&clerk), 1, "a failed initial fetch was retried within min_refresh_interval");
    clock.advance(Duration::from_secs(11));
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::SecretKeyInvalid, "{err:?}");
    assert_eq!(hits(&clerk), 2);
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [401, 401]);
}

// ---------------------------------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_picked_up_and_removed_keys_stop_verifying() {
    let (a, b) = (key_a(), key_b());
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default()
        .ttl(TTL)
        .refresh_ahead(Duration::ZERO)
        .min_refresh_interval(MIN_INTERVAL)
        .stale_if_error(STALE);
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let g0 = v.key_generation();
    assert_eq!(v.loaded_kids(), vec![a.kid.clone()]);

    // A token from a key the server does not serve yet: refused.
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    assert_eq!(reason(v.verify(&token(b, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    assert_eq!(hits(&clerk), 2);

    // The server starts serving the new key: once the interval has passed, its tokens verify (one fetch).
    serve_jwks(&clerk, jwks(&[a, b]));
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 3);
    let g1 = v.key_generation();
    assert_ne!(g1, g0);
    let mut kids = v.loaded_kids();
    kids.sort();
    assert_eq!(kids, vec![a.kid.clone(), b.kid.clone()]);
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();

    // The old key is removed: after the refresh its tokens fail.
    serve_jwks(&clerk, b.jwks());
    clock.advance(TTL + Duration::from_secs(1));
    v.refresh_keys().await.unwrap();
    assert_eq!(hits(&clerk), 4);
    assert_ne!(v.key_generation(), g1);
    assert_eq!(v.loaded_kids(), vec![b.kid.clone()]);
    // The removed kid is unknown now: one unknown-kid refresh (the last one was long ago), then refused.
    assert_eq!(reason(v.verify(&token(a, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    assert_eq!(hits(&clerk), 5);
    // Within the interval, further unknown-kid tokens cost no fetch.
    assert_eq!(reason(v.verify(&token(a, clock.now_secs(), &jti())).await), Reason::JwkKidMismatch);
    v.verify(&token(b, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 5);
}

/// The same life cycle driven by the emulator itself: `rotate_keys` makes a new key sign (both published),
/// `retire_key` unpublishes the old one; tokens are minted by the emulator's `TokenBuilder`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_rotation_and_retirement_are_picked_up() {
    let clock = TestClock::now();
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("rotation@example.com").unwrap();
    let mint = || clerk.session_token(&user).unwrap().lifetime(Duration::from_secs(3600)).mint();
    let cache = KeyCacheConfig::default()
        .ttl(TTL)
        .refresh_ahead(Duration::ZERO)
        .min_refresh_interval(MIN_INTERVAL)
        .stale_if_error(STALE);
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    let old_kid = clerk.instance_id().to_owned();
    let old_token = mint();
    assert_eq!(v.verify(&old_token).await.unwrap().user_id().as_str(), user);
    assert_eq!(v.loaded_kids(), vec![old_kid.clone()]);
    assert_eq!(hits(&clerk), 1);

    // Rotation: the new key signs at once. Its kid is unknown to the verifier: one refresh (past the interval).
    let new = clerk.rotate_keys().unwrap();
    assert_eq!(clerk.active_key().kid(), new.kid());
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    let new_token = mint();
    assert_eq!(v.verify(&new_token).await.unwrap().user_id().as_str(), user);
    assert_eq!(hits(&clerk), 2);
    let mut kids = v.loaded_kids();
    kids.sort();
    let mut expected = vec![old_kid.clone(), new.kid().to_owned()];
    expected.sort();
    assert_eq!(kids, expected);
    // Tokens signed before the rotation still verify while the old key stays published.
    v.verify(&old_token).await.unwrap();
    assert_eq!(hits(&clerk), 2);

    // Retirement: once the verifier refreshes, the old key's tokens stop verifying; the new key's keep verifying.
    clerk.retire_key(&old_kid);
    clock.advance(TTL + Duration::from_secs(1));
    v.refresh_keys().await.unwrap();
    assert_eq!(hits(&clerk), 3);
    assert_eq!(v.loaded_kids(), vec![new.kid().to_owned()]);
    // The retired kid is unknown now: one unknown-kid refresh (the last one was long ago), then refused.
    assert_eq!(reason(v.verify(&old_token).await), Reason::JwkKidMismatch);
    assert_eq!(hits(&clerk), 4);
    // Within the interval, further tokens of the retired key cost no fetch.
    assert_eq!(reason(v.verify(&old_token).await), Reason::JwkKidMismatch);
    v.verify(&new_token).await.unwrap();
    v.verify(&mint()).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 4);
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [200, 200, 200, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_keys_errors_keep_the_last_good_keys() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v.refresh_keys().await.unwrap();
    assert_eq!(hits(&clerk), 1);
    let generation = v.key_generation();
    set_jwks_fault(&clerk, Fault::Status(401));
    assert_eq!(v.refresh_keys().await.unwrap_err().reason(), Reason::SecretKeyInvalid);
    set_jwks_fault(&clerk, Fault::MalformedBody);
    assert_eq!(v.refresh_keys().await.unwrap_err().reason(), Reason::JwkRemoteFailedToLoad);
    assert_eq!(v.key_generation(), generation);
    clerk.faults().clear();
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 3);
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [200, 401, 200]);
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
    let clerk_a = emulator(a).await;
    let clerk_b = emulator(&b).await;
    assert_eq!(clerk_a.instance_id(), clerk_b.instance_id());
    assert_ne!(clerk_a.secret_key(), clerk_b.secret_key());
    let build = |clerk: &Emulator| {
        Verifier::builder()
            .secret_key(clerk.secret_key())
            .unwrap()
            .api_url(&clerk.api_url())
            .unwrap()
            .retry(RetryPolicy::none())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let va = build(&clerk_a);
    let vb = build(&clerk_b);

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

    // Each verifier fetched only from its own emulator, with its own secret key (each emulator answers 200 only to
    // its own, 401 to any other).
    assert_eq!(hits(&clerk_a), 1);
    assert_eq!(hits(&clerk_b), 1);
    assert_eq!(statuses(&clerk_a, BACKEND_JWKS), [200]);
    assert_eq!(statuses(&clerk_b, BACKEND_JWKS), [200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_verifiers_of_the_same_instance_keep_separate_caches() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v1 = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    let v2 = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v1.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    v2.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 2);
    assert_eq!((v1.key_fetch_count(), v2.key_fetch_count()), (1, 1));
    // Clones share.
    let v3 = v1.clone();
    v3.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Refresh ahead
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_refreshes_in_the_background_without_making_requests_wait() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default()
        .ttl(Duration::from_secs(10))
        .refresh_ahead(Duration::from_secs(5))
        .min_refresh_interval(Duration::from_secs(1));
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 1);
    let generation = v.key_generation();

    // Age 4 s: before the refresh-ahead window, nothing happens.
    clock.advance(Duration::from_secs(4));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 1);

    // Age 6 s: inside the window. The instance rotates, and its JWKS now answers (with the new set) only after
    // 5 s: if a verification waited for the fetch it could not finish within the 2 s bound below.
    clerk.rotate_keys().unwrap();
    clerk.faults().inject(BACKEND_JWKS, Fault::Latency(Duration::from_secs(5)));
    clock.advance(Duration::from_secs(2));
    for _ in 0..20 {
        let t = token(a, clock.now_secs(), &jti());
        let auth = tokio::time::timeout(Duration::from_secs(2), v.verify(&t))
            .await
            .expect("a verification in the refresh-ahead window waited for the fetch");
        auth.unwrap();
    }
    // It was served from the current keys.
    assert_eq!(v.key_generation(), generation);
    // One background request is in flight (not one per verification); the emulator logs it once answered.
    wait_until("the background refresh to start", || v.key_fetch_count() == 2).await;
    wait_until("the background refresh request", || hits(&clerk) == 2).await;
    assert_eq!(v.key_fetch_count(), 2);
    settle().await;
    assert_eq!(hits(&clerk), 2);
    // And it published the rotated set.
    wait_until("the rotated set to be published", || v.key_generation() != generation).await;
    assert_eq!(v.loaded_kids().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_publishes_new_keys() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default().ttl(Duration::from_secs(10)).refresh_ahead(Duration::from_secs(5));
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    let generation = v.key_generation();
    // The instance rotates: a new key signs, both are published.
    let new = clerk.rotate_keys().unwrap();
    clock.advance(Duration::from_secs(6));
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    wait_until("the background refresh to publish", || v.key_generation() != generation).await;
    assert_eq!(hits(&clerk), 2);
    // Fresh again: the new key verifies with no fetch, and at age 4 s after the refresh nothing is scheduled.
    clock.advance(Duration::from_secs(4));
    v.verify(&emulator_token(&new, clock.now_secs(), &jti())).await.unwrap();
    settle().await;
    assert_eq!(hits(&clerk), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Background refresh task and sources
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_key_refresh_is_some_for_remote_sources_and_none_for_static_ones() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let cache = KeyCacheConfig::default().ttl(Duration::from_secs(2)).refresh_ahead(Duration::from_secs(1));
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    let handle = v.spawn_key_refresh().expect("a remote source gets a refresh task");
    // The task loads the keys without any verification asking for them.
    wait_until("the refresh task's initial fetch", || v.key_fetch_count() == 1).await;
    wait_until("the server to see it", || hits(&clerk) == 1).await;
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(hits(&clerk), 1);

    // Past the refresh-ahead point, the task refreshes by itself.
    clock.advance(Duration::from_secs(1) + Duration::from_millis(100));
    wait_until("the refresh task's second fetch", || hits(&clerk) == 2).await;

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
    let clerk = emulator(a).await;
    let url_verifier = |url: &str| {
        Verifier::builder()
            .secret_key(clerk.secret_key())
            .unwrap()
            .jwks_url(url)
            .unwrap()
            .retry(RetryPolicy::none())
            .clock(clock.clone())
            .build()
            .unwrap()
    };
    let v = url_verifier(&clerk.jwks_url());
    v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(clerk.request_count(FRONTEND_JWKS), 1);
    assert_eq!(hits(&clerk), 0);

    // The emulator's Backend API JWKS answers 200 only to `Bearer <its secret key>` (401 otherwise): given as a plain
    // JWKS URL, it would serve the keys only if the verifier leaked the secret key to it.
    let leak = url_verifier(&format!("{}{BACKEND_JWKS}", clerk.api_url()));
    let err = leak.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [401], "the secret key leaked to a JWKS URL");

    // The Backend API source does send it.
    let v2 = verifier(&clerk, &clock, KeyCacheConfig::default(), RetryPolicy::none());
    v2.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [401, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_from_a_jwks_url_is_not_a_secret_key_problem() {
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    clerk.faults().inject(FRONTEND_JWKS, Fault::Status(401));
    let v = Verifier::builder().jwks_url(&clerk.jwks_url()).unwrap().clock(clock.clone()).build().unwrap();
    let err = v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err:?}");
    settle().await;
    assert_eq!(statuses(&clerk, FRONTEND_JWKS), [401], "a 401 must not be retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_cache_does_not_hide_fetch_counts() {
    // With the token cache disabled the same token goes through the key path every time, without any fetch.
    let a = key_a();
    let clock = TestClock::now();
    let clerk = emulator(a).await;
    let v = Verifier::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .token_cache(TokenCacheConfig::disabled())
        .clock(clock.clone())
        .build()
        .unwrap();
    let t = token(a, clock.now_secs(), &jti());
    for _ in 0..10 {
        v.verify(&t).await.unwrap();
    }
    assert_eq!(hits(&clerk), 1);
    assert_eq!(v.cached_tokens(), 0);
}

/// A token signed by a key the instance rotated in while Clerk was unreachable cannot be judged: an outage
/// (`jwk-remote-failed-to-load`, answered `503`), not a bad token (`401`), however often it is retried within the
/// refresh interval; once Clerk answers again, it verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_in_during_an_outage_is_an_outage_not_a_bad_token() {
    let clock = TestClock::now();
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("outage-rotation@example.com").unwrap();
    let mint = || clerk.session_token(&user).unwrap().lifetime(Duration::from_secs(3600)).mint();
    let cache = KeyCacheConfig::default()
        .ttl(TTL)
        .refresh_ahead(Duration::ZERO)
        .min_refresh_interval(MIN_INTERVAL)
        .stale_if_error(STALE);
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    let old_token = mint();
    v.verify(&old_token).await.unwrap();

    clerk.faults().inject(BACKEND_JWKS, Fault::Status(503));
    clerk.rotate_keys().unwrap();
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    let new_token = mint();
    let err = v.verify(&new_token).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkRemoteFailedToLoad, "{err}");
    assert!(err.is_key_unavailable());
    // At once again (the refresh is rate-limited now): still the outage, and no fetch.
    let fetches = v.key_fetch_count();
    assert_eq!(reason(v.verify(&mint()).await), Reason::JwkRemoteFailedToLoad);
    assert_eq!(v.key_fetch_count(), fetches);
    // Tokens of the cached key keep verifying through the outage.
    v.verify(&old_token).await.unwrap();

    clerk.faults().clear();
    clock.advance(MIN_INTERVAL + Duration::from_secs(1));
    v.verify(&new_token).await.unwrap();
}

/// A refresh ahead whose task is dropped before it runs (its runtime shut down) does not stop later refreshes ahead:
/// the next verification in the window, on another runtime, schedules one that fetches.
#[test]
fn a_refresh_ahead_dropped_before_it_ran_does_not_stop_refreshes() {
    let server = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let a = key_a();
    let clerk = server.block_on(emulator(a));
    let clock = TestClock::now();
    let cache = KeyCacheConfig::default()
        .ttl(Duration::from_secs(10))
        .refresh_ahead(Duration::from_secs(5))
        .min_refresh_interval(Duration::from_secs(1));
    let v = verifier(&clerk, &clock, cache, RetryPolicy::none());
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let first = runtime();
    first.block_on(v.verify(&token(a, clock.now_secs(), &jti()))).unwrap();
    assert_eq!(v.key_fetch_count(), 1);
    // In the refresh-ahead window: a refresh is spawned on `first`, which never gets to run it.
    clock.advance(Duration::from_secs(6));
    first.block_on(v.verify(&token(a, clock.now_secs(), &jti()))).unwrap();
    drop(first);
    assert_eq!(v.key_fetch_count(), 1, "the dropped task never fetched");

    // Later, on another runtime, still in the window: the refresh runs.
    clock.advance(Duration::from_secs(1));
    runtime().block_on(async {
        v.verify(&token(a, clock.now_secs(), &jti())).await.unwrap();
        wait_until("a refresh ahead on the new runtime", || v.key_fetch_count() == 2).await;
    });
    drop(server);
}
