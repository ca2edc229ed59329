//! Session-token verification benchmarks: the aws-lc-rs floor, josekit, jsonwebtoken and this crate's `Verifier`
//! (cold, distinct tokens against a full cache, the same distinct tokens without a cache, warm, malformed input,
//! two-thread scaling), all on one RS256 RSA-2048 token of about 1 KB (998 bytes) shaped like a Clerk v2 session
//! token.
//!
//! `cargo bench -p clerk-core --bench verify` runs the criterion groups, then re-measures every case with a fixed,
//! interleaved batch loop and prints a markdown table with the ratios (so the ratios come from one run, under one
//! load). `CLERK_BENCH_QUICK=1` skips criterion and prints only the table. `cargo bench ... -- --test` runs the
//! sanity checks and each case once, without the table (CI). See `docs/performance.md`.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_core::{Reason, TokenCacheConfig, Verifier};
use criterion::{Criterion, Throughput};
use serde::Deserialize;
use serde_json::{Value, json};

const AZP: &str = "https://app.example.com";
/// Clock skew used by every implementation (our default).
const SKEW_SECS: u64 = 5;
/// Distinct tokens cycled through by `clerk/cold_distinct`, and the (much smaller) capacity of its token cache.
const DISTINCT_TOKENS: usize = 10_000;
const DISTINCT_CACHE_CAPACITY: usize = 1024;

// ---------------------------------------------------------------------------------------------------------------
// A minimal executor: with static keys the verify future never awaits anything, so one poll with a no-op waker
// completes it. This costs a few nanoseconds, far less than a runtime's `block_on`.
// ---------------------------------------------------------------------------------------------------------------

#[inline]
fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("verification pended although the keys are static"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------------------------

struct Fixture {
    token: String,
    /// `header.payload`, and the decoded signature (decoded once, outside any timed loop).
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    parsed_key: ParsedPublicKey,
    josekit_verifier: josekit::jws::alg::rsassa::RsassaJwsVerifier,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
    cold: Verifier,
    warm: Verifier,
    distinct: Mutex<Distinct>,
    /// The same distinct tokens through a verifier without a token cache.
    distinct_nocache: Mutex<Distinct>,
    malformed: Vec<(&'static str, String, Reason)>,
}

/// The `clerk/cold_distinct` state: a verifier with the token cache on, and a set of distinct tokens it has never seen.
///
/// quick_cache admits entries "hot" while the cache fills up, and a stream of one-off entries never evicts hot ones;
/// entries it evicted recently (its "ghost" list) come back hot. So the cache is first filled with filler tokens that
/// are never verified again (each passes twice: by default a token is cached on its second pass, decision 0016),
/// each token of the set is verified once, and when the set is used up a fresh verifier is built and filled again
/// (untimed). Every timed call is then a miss on a full cache: the full path, and a token passing for the first time
/// is not cached (no insert, no eviction; with `admit_on_first_use` it would be an insert that evicts).
struct Distinct {
    fillers: Vec<String>,
    tokens: Vec<String>,
    cache: TokenCacheConfig,
    verifier: Verifier,
    next: usize,
}

impl Distinct {
    /// With the token cache on (`fillers` fill it before each pass) or off (`TokenCacheConfig::disabled()`, no
    /// fillers: the same distinct tokens, no cache work, which tells the cache's cost from the tokens' own).
    fn new(fillers: Vec<String>, tokens: Vec<String>, cache: TokenCacheConfig) -> Self {
        let verifier = Self::fresh_verifier(&fillers, cache);
        Self { fillers, tokens, cache, verifier, next: 0 }
    }

    fn fresh_verifier(fillers: &[String], cache: TokenCacheConfig) -> Verifier {
        let v = verifier(support::key_a(), cache);
        // Twice each: the default cache admits a token on its second pass.
        for filler in fillers.iter().chain(fillers) {
            assert!(clerk(&v, filler));
        }
        // (quick_cache bounds each shard, so a cache may evict well before it holds `capacity` entries.)
        assert!(v.cached_tokens() >= fillers.len() / 2, "{} of {} fillers cached", v.cached_tokens(), fillers.len());
        v
    }

    /// Verifies the next `iters` unseen tokens; returns the time spent verifying (refills excluded).
    fn run(&mut self, iters: u64) -> Duration {
        let mut left = usize::try_from(iters).unwrap();
        let mut spent = Duration::ZERO;
        while left > 0 {
            if self.next == self.tokens.len() {
                self.verifier = Self::fresh_verifier(&self.fillers, self.cache);
                self.next = 0;
            }
            let chunk = left.min(self.tokens.len() - self.next);
            let batch = &self.tokens[self.next..self.next + chunk];
            let start = Instant::now();
            for t in batch {
                assert!(clerk(&self.verifier, t));
            }
            spent += start.elapsed();
            self.next += chunk;
            left -= chunk;
        }
        spent
    }
}

fn now_secs() -> i64 {
    support::now_secs()
}

/// The Clerk-like v2 claims of `support::session_claims`, valid for an hour so a full run cannot outlive `exp`.
fn claims(now: i64, jti: Option<&str>) -> Value {
    let mut c = support::session_claims(now);
    c["exp"] = json!(now + 3600);
    if let Some(jti) = jti {
        c["jti"] = json!(jti);
    }
    c
}

fn verifier(key: &support::TestKey, cache: TokenCacheConfig) -> Verifier {
    Verifier::builder().jwks_json(key.jwks()).unwrap().authorized_parties([AZP]).token_cache(cache).build().unwrap()
}

fn mint_distinct(key: &'static support::TestKey, now: i64, n: usize) -> Vec<String> {
    let workers = thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8);
    let per = n.div_ceil(workers);
    thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    (w * per..((w + 1) * per).min(n))
                        .map(|i| key.sign(&claims(now, Some(&format!("{i:020}")))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

fn fixture() -> Fixture {
    let key = support::key_a();
    let now = now_secs();
    let token = key.sign(&claims(now, None));

    let (signing_input, sig_b64) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let signing_input = signing_input.as_bytes().to_vec();
    let n_b64 = key.public_jwk["n"].as_str().unwrap().to_owned();
    let e_b64 = key.public_jwk["e"].as_str().unwrap().to_owned();
    let n = URL_SAFE_NO_PAD.decode(&n_b64).unwrap();
    let e = URL_SAFE_NO_PAD.decode(&e_b64).unwrap();
    let parsed_key =
        RsaPublicKeyComponents { n: &n[..], e: &e[..] }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).unwrap();

    let josekit_verifier = josekit::jws::RS256.verifier_from_pem(key.public_pem.as_bytes()).unwrap();

    // jsonwebtoken 11 picks its provider from the crate features; installing it explicitly is harmless.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let jwt_key = jsonwebtoken::DecodingKey::from_rsa_components(&n_b64, &e_b64).unwrap();
    let mut jwt_validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    jwt_validation.leeway = SKEW_SECS;
    jwt_validation.validate_nbf = true;
    jwt_validation.validate_aud = false;
    jwt_validation.set_required_spec_claims(&["exp", "sub"]);

    let mint_start = Instant::now();
    let mut tokens = mint_distinct(key, now, DISTINCT_CACHE_CAPACITY + DISTINCT_TOKENS);
    eprintln!("minted {} distinct tokens in {:.1?}", tokens.len(), mint_start.elapsed());
    let fillers: Vec<String> = tokens.drain(..DISTINCT_CACHE_CAPACITY).collect();
    let distinct_nocache = Mutex::new(Distinct::new(Vec::new(), tokens.clone(), TokenCacheConfig::disabled()));
    let distinct = Mutex::new(Distinct::new(fillers, tokens, TokenCacheConfig::capacity(DISTINCT_CACHE_CAPACITY)));

    // Malformed inputs. A full-size token whose header segment holds a character outside base64url.
    let (h64, rest) = token.split_once('.').unwrap();
    let bad_b64 = format!("{}!{}.{rest}", &h64[..10], &h64[11..]);
    // The real payload and signature under an `alg: none` header (the signature segment is kept non-empty so the
    // rejection comes from the `alg` check, not from an empty segment).
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{none_header}.{rest}");
    let oversized = format!("{token}.{}", "A".repeat(8 * 1024));
    let malformed = vec![
        ("not_a_token", "not-a-token".to_owned(), Reason::TokenInvalid),
        ("bad_base64", bad_b64, Reason::TokenInvalid),
        ("alg_none", alg_none, Reason::TokenInvalidAlgorithm),
        ("oversized", oversized, Reason::TokenInvalid),
    ];

    Fixture {
        token,
        signing_input,
        signature,
        parsed_key,
        josekit_verifier,
        jwt_key,
        jwt_validation,
        cold: verifier(key, TokenCacheConfig::disabled()),
        warm: verifier(key, TokenCacheConfig::default()),
        distinct,
        distinct_nocache,
        malformed,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------------------------

#[inline]
fn floor(f: &Fixture) -> bool {
    f.parsed_key.verify_sig(black_box(&f.signing_input), black_box(&f.signature)).is_ok()
}

/// josekit: decode + verify, then the same claim checks as ours by hand (josekit's `JwtPayloadValidator` has no
/// leeway): `exp`/`nbf`/`iat` with 5 s skew, `sub` required, `azp` in the authorized parties.
#[inline]
fn josekit_full(f: &Fixture, token: &str) -> bool {
    let Ok((payload, header)) = josekit::jwt::decode_with_verifier(token, &f.josekit_verifier) else { return false };
    if header.token_type().is_some_and(|t| t != "JWT") {
        return false;
    }
    let now = SystemTime::now();
    let skew = Duration::from_secs(SKEW_SECS);
    let Some(exp) = payload.expires_at() else { return false };
    if exp + skew <= now {
        return false;
    }
    if payload.not_before().is_some_and(|nbf| nbf > now + skew) {
        return false;
    }
    if payload.issued_at().is_some_and(|iat| iat > now + skew) {
        return false;
    }
    if payload.subject().is_none() {
        return false;
    }
    payload.claim("azp").and_then(Value::as_str) == Some(AZP)
}

/// The claims jsonwebtoken deserialises: the ones our verifier reads from a v2 token.
#[derive(Deserialize)]
#[allow(dead_code)]
struct JwtClaims {
    sub: String,
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    azp: Option<String>,
    iss: Option<String>,
    sid: Option<String>,
    sts: Option<String>,
    jti: Option<String>,
    v: Option<u32>,
    fva: Option<[i64; 2]>,
    pla: Option<String>,
    fea: Option<String>,
    o: Option<JwtOrg>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct JwtOrg {
    id: Option<String>,
    slg: Option<String>,
    rol: Option<String>,
    per: Option<String>,
    fpm: Option<String>,
}

/// jsonwebtoken: `decode` (RS256, leeway 5, exp+nbf checked, exp+sub required), then `azp` and `iat` by hand.
#[inline]
fn jsonwebtoken_full(f: &Fixture, token: &str) -> bool {
    let Ok(data) = jsonwebtoken::decode::<JwtClaims>(token, &f.jwt_key, &f.jwt_validation) else { return false };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if data.claims.iat.is_some_and(|iat| iat > now + SKEW_SECS) {
        return false;
    }
    data.claims.azp.as_deref() == Some(AZP)
}

#[inline]
fn clerk(v: &Verifier, token: &str) -> bool {
    run(v.verify(black_box(token))).is_ok()
}

#[inline]
fn clerk_reject(v: &Verifier, token: &str) -> Option<Reason> {
    run(v.verify(black_box(token))).err().map(|e| e.reason())
}

/// `n` runs of `body` split over `threads` threads; returns the wall time from the moment every thread is running
/// (a barrier) to the moment the last one finishes its share: thread creation and joining (tens of microseconds per
/// thread, paid once per batch) are not part of the work measured.
fn threaded(n: u64, threads: u64, body: impl Fn() -> bool + Sync) -> Duration {
    let body = &body;
    let ready = std::sync::Barrier::new(usize::try_from(threads).unwrap());
    let ready = &ready;
    thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let share = n / threads + u64::from(t < n % threads);
                s.spawn(move || {
                    ready.wait();
                    let start = Instant::now();
                    for _ in 0..share {
                        assert!(body());
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        let spans: Vec<(Instant, Instant)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let first = spans.iter().map(|s| s.0).min().unwrap();
        let last = spans.iter().map(|s| s.1).max().unwrap();
        last - first
    })
}

fn sanity(f: &Fixture) {
    assert!(floor(f), "aws-lc-rs rejects the token");
    assert!(josekit_full(f, &f.token), "josekit rejects the token");
    assert!(jsonwebtoken_full(f, &f.token), "jsonwebtoken rejects the token");
    assert!(clerk(&f.cold, &f.token), "clerk rejects the token");
    // `clerk/warm` must hit the cache. A token is cached on its second pass (decision 0016), not its first, so the
    // warm verifier sees the token twice here, as an app sees a session's second request.
    assert!(clerk(&f.warm, &f.token), "clerk (cached) rejects the token");
    assert_eq!(f.warm.cached_tokens(), 0, "cached on its first pass");
    assert!(clerk(&f.warm, &f.token), "clerk (cached) rejects the token the second time");
    assert_eq!(f.warm.cached_tokens(), 1, "not cached on its second pass");
    for (name, token, reason) in &f.malformed {
        assert_eq!(clerk_reject(&f.cold, token), Some(*reason), "malformed/{name}");
        assert_eq!(clerk_reject(&f.warm, token), Some(*reason), "malformed/{name} (cached verifier)");
    }
    assert_eq!(f.warm.cached_tokens(), 1, "refusals changed the warm cache");
    // `cold_distinct` must miss a full cache: after one pass over the set the cache still holds the fillers (a token
    // passing once is not admitted), and the set's first tokens, verified again, take the full path.
    {
        let mut d = f.distinct.lock().unwrap();
        let n = d.tokens.len();
        let _ = d.run(u64::try_from(n).unwrap());
        let held = d.verifier.cached_tokens();
        assert!((DISTINCT_CACHE_CAPACITY / 2..=DISTINCT_CACHE_CAPACITY).contains(&held), "{held} tokens cached");
        let probe = 64;
        let start = Instant::now();
        for t in &d.tokens[..probe] {
            assert!(clerk(&d.verifier, t));
        }
        let per = start.elapsed() / u32::try_from(probe).unwrap();
        assert!(per > Duration::from_micros(5), "cold_distinct hits the cache ({per:?} per token)");
        // Start the benchmark on a fresh verifier.
        d.next = n;
    }
    // The competitors must reject the bad inputs too, or the comparison would be meaningless.
    let tampered = {
        let mut t = f.token.clone().into_bytes();
        let i = t.len() - 10;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(t).unwrap()
    };
    assert!(!josekit_full(f, &tampered));
    assert!(!jsonwebtoken_full(f, &tampered));
    assert_eq!(clerk_reject(&f.cold, &tampered), Some(Reason::TokenInvalidSignature));
}

// ---------------------------------------------------------------------------------------------------------------
// Criterion groups
// ---------------------------------------------------------------------------------------------------------------

fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
}

fn criterion_groups(c: &mut Criterion, f: &Fixture) {
    {
        let mut g = c.benchmark_group("floor");
        configure(&mut g);
        g.bench_function("aws_lc_rs", |b| b.iter(|| floor(f)));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("josekit");
        configure(&mut g);
        g.bench_function("full", |b| b.iter(|| josekit_full(f, black_box(&f.token))));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("jsonwebtoken");
        configure(&mut g);
        g.bench_function("full", |b| b.iter(|| jsonwebtoken_full(f, black_box(&f.token))));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("clerk");
        configure(&mut g);
        g.bench_function("cold", |b| b.iter(|| clerk(&f.cold, &f.token)));
        g.bench_function("cold_distinct", |b| b.iter_custom(|iters| f.distinct.lock().unwrap().run(iters)));
        g.bench_function("cold_distinct_nocache", |b| {
            b.iter_custom(|iters| f.distinct_nocache.lock().unwrap().run(iters));
        });
        g.bench_function("warm", |b| b.iter(|| clerk(&f.warm, &f.token)));
        for (name, token, _) in &f.malformed {
            g.bench_function(format!("malformed/{name}"), |b| b.iter(|| clerk_reject(&f.cold, token)));
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("clerk/threads");
        configure(&mut g);
        g.throughput(Throughput::Elements(1));
        for threads in [1u64, 2] {
            g.bench_function(format!("{threads}"), |b| {
                b.iter_custom(|iters| threaded(iters, threads, || clerk(&f.cold, &f.token)));
            });
        }
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The summary: every case re-measured in interleaved fixed-size batches, so all ratios come from the same run and
// background load hits every case alike.
// ---------------------------------------------------------------------------------------------------------------

/// Interleaved rounds: each round runs one batch of every case, so a burst of background load lands on all of them.
const ROUNDS: usize = 41;
/// Verifications per batch for the RSA cases (≈ 10 ms) and for the sub-microsecond cases (≈ 2 ms).
const SLOW_BATCH: u64 = 500;
const FAST_BATCH: u64 = 10_000;

struct Case<'a> {
    name: &'static str,
    iters: u64,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
    samples: Vec<f64>,
}

impl Case<'_> {
    fn sorted(&self) -> Vec<f64> {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        s
    }
    fn median_ns(&self) -> f64 {
        let s = self.sorted();
        s[s.len() / 2]
    }
    fn min_ns(&self) -> f64 {
        self.sorted()[0]
    }
    fn max_ns(&self) -> f64 {
        *self.sorted().last().unwrap()
    }
}

fn timed(iters: u64, mut body: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        body();
    }
    start.elapsed()
}

fn summary<'f>(f: &'f Fixture) {
    let mut cases: Vec<Case<'f>> = Vec::new();
    let mut add = |name: &'static str, iters: u64, run: Box<dyn FnMut(u64) -> Duration + 'f>| {
        cases.push(Case { name, iters, run, samples: Vec::with_capacity(ROUNDS) });
    };
    add("floor/aws_lc_rs", SLOW_BATCH, Box::new(|n| timed(n, || assert!(floor(f)))));
    add("josekit/full", SLOW_BATCH, Box::new(|n| timed(n, || assert!(josekit_full(f, black_box(&f.token))))));
    add("jsonwebtoken/full", SLOW_BATCH, Box::new(|n| timed(n, || assert!(jsonwebtoken_full(f, black_box(&f.token))))));
    add("clerk/cold", SLOW_BATCH, Box::new(|n| timed(n, || assert!(clerk(&f.cold, &f.token)))));
    add("clerk/cold_distinct", SLOW_BATCH, Box::new(|n| f.distinct.lock().unwrap().run(n)));
    add("clerk/cold_distinct_nocache", SLOW_BATCH, Box::new(|n| f.distinct_nocache.lock().unwrap().run(n)));
    add("clerk/warm", FAST_BATCH, Box::new(|n| timed(n, || assert!(clerk(&f.warm, &f.token)))));
    for (name, token, _) in &f.malformed {
        let label: &'static str = match *name {
            "not_a_token" => "clerk/malformed/not_a_token",
            "bad_base64" => "clerk/malformed/bad_base64",
            "alg_none" => "clerk/malformed/alg_none",
            _ => "clerk/malformed/oversized",
        };
        add(label, FAST_BATCH, Box::new(move |n| timed(n, || assert!(clerk_reject(&f.cold, token).is_some()))));
    }
    // Wall time per verification: each batch is SLOW_BATCH verifications in total, split over the threads.
    add("clerk/threads/1", SLOW_BATCH, Box::new(|n| threaded(n, 1, || clerk(&f.cold, &f.token))));
    add("clerk/threads/2", SLOW_BATCH, Box::new(|n| threaded(n, 2, || clerk(&f.cold, &f.token))));
    // Control: the same split for the bare RSA operation. If this does not scale either, the cores are busy.
    add("floor/threads/1", SLOW_BATCH, Box::new(|n| threaded(n, 1, || floor(f))));
    add("floor/threads/2", SLOW_BATCH, Box::new(|n| threaded(n, 2, || floor(f))));

    // One untimed pass to warm caches and CPU frequency, then ROUNDS interleaved rounds.
    for c in &mut cases {
        let _ = (c.run)(c.iters / 4);
    }
    for _ in 0..ROUNDS {
        for c in &mut cases {
            let d = (c.run)(c.iters);
            c.samples.push(d.as_nanos() as f64 / c.iters as f64);
        }
    }

    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap();
    let med = |name: &str| find(name).median_ns();
    let min = |name: &str| find(name).min_ns();

    println!();
    println!(
        "## Summary: {ROUNDS} interleaved batches per case; token {} bytes; {} CPUs; RUST_BACKTRACE={}",
        f.token.len(),
        thread::available_parallelism().map_or(0, std::num::NonZero::get),
        std::env::var("RUST_BACKTRACE").unwrap_or_else(|_| "unset".into())
    );
    println!();
    println!("| case | median | min | max | per batch |");
    println!("|---|---:|---:|---:|---:|");
    for c in &cases {
        println!(
            "| `{}` | {} | {} | {} | {} |",
            c.name,
            fmt_ns(c.median_ns()),
            fmt_ns(c.min_ns()),
            fmt_ns(c.max_ns()),
            c.iters
        );
    }
    println!();
    println!("Ratios from the medians and, less sensitive to background load, from the fastest batch of each case:");
    println!();
    println!("| ratio | from medians | from minimums | target | met (median / min) |");
    println!("|---|---:|---:|---:|:-:|");
    let yn = |ok: bool| if ok { "yes" } else { "**no**" };
    let ratio = |label: &str, a: &str, b: &str, target: &str, ok: &dyn Fn(f64) -> bool| {
        let (rm, rn) = (med(a) / med(b), min(a) / min(b));
        println!("| {label} | {rm:.2}× | {rn:.2}× | {target} | {} / {} |", yn(ok(rm)), yn(ok(rn)));
    };
    ratio("clerk/cold ÷ floor", "clerk/cold", "floor/aws_lc_rs", "≤ 1.15×", &|r| r <= 1.15);
    ratio("clerk/cold_distinct ÷ floor", "clerk/cold_distinct", "floor/aws_lc_rs", "≤ 1.15×", &|r| r <= 1.15);
    // Decomposition: the same distinct tokens without the token cache (the cache's own cost is the difference).
    ratio(
        "clerk/cold_distinct_nocache ÷ floor",
        "clerk/cold_distinct_nocache",
        "floor/aws_lc_rs",
        "≤ 1.15×",
        &|r| r <= 1.15,
    );
    ratio("jsonwebtoken ÷ clerk/cold", "jsonwebtoken/full", "clerk/cold", "≥ 1.2×", &|r| r >= 1.2);
    ratio("josekit ÷ clerk/cold", "josekit/full", "clerk/cold", "≥ 1.3×", &|r| r >= 1.3);
    ratio("2-thread speed-up (threads/1 ÷ threads/2)", "clerk/threads/1", "clerk/threads/2", "≥ 1.9×", &|r| {
        r >= 1.9
    });
    ratio("control: floor 2-thread speed-up", "floor/threads/1", "floor/threads/2", "(machine)", &|r| r >= 1.9);
    let abs = |name: &str, limit: f64| {
        let (m, n) = (med(name), min(name));
        println!(
            "| `{name}` | {} | {} | ≤ {} | {} / {} |",
            fmt_ns(m),
            fmt_ns(n),
            fmt_ns(limit),
            yn(m <= limit),
            yn(n <= limit)
        );
    };
    abs("clerk/warm", 1000.0);
    for name in [
        "clerk/malformed/not_a_token",
        "clerk/malformed/bad_base64",
        "clerk/malformed/alg_none",
        "clerk/malformed/oversized",
    ] {
        abs(name, 500.0);
    }
    println!();
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 { format!("{:.2} µs", ns / 1000.0) } else { format!("{ns:.0} ns") }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = std::env::var("CLERK_BENCH_QUICK").is_ok_and(|v| v == "1");
    // `cargo bench` passes `--bench`; without it (e.g. `cargo test --benches`) criterion runs each case once as a
    // smoke test, and the summary is skipped (as it is with `--list` and `--profile-time`, for `perf record`).
    let bench_mode = args.iter().any(|a| a == "--bench");
    // `cargo bench -- --test` (what `cargo xtask ci` runs): the sanity checks, then each criterion case once; no
    // summary, whatever `CLERK_BENCH_QUICK` says.
    let test_mode = args.iter().any(|a| a == "--test");
    let no_summary = test_mode || args.iter().any(|a| a == "--list" || a == "--profile-time");

    let f = fixture();
    println!("token: RS256, RSA-{} key, {} bytes", support::key_a().bits, f.token.len());
    sanity(&f);

    if test_mode || !quick {
        let mut c = Criterion::default().configure_from_args();
        criterion_groups(&mut c, &f);
        c.final_summary();
    }
    if (quick || bench_mode) && !no_summary {
        summary(&f);
    }
}
