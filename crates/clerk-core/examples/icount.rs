//! Instruction counts for the verification benchmark's cases, to be run under callgrind (`cargo xtask icount`).
//!
//! Wall-clock ratios on a shared two-core machine move by several percent from one run to the next; instruction
//! counts do not: for the same binary and inputs, callgrind counts the same instructions whatever else the machine
//! is doing. They are not time (RSA's big-number code retires more instructions per cycle than JSON parsing), so
//! they complement the criterion benchmark rather than replace it: they show exactly what a change added or removed,
//! and how much work each case does on top of the bare RSA check.
//!
//! Each case runs in its own `#[inline(never)]` function named `icount_case_*`; `cargo xtask icount` reads their
//! inclusive instruction counts from callgrind's output and divides by [`N`]. Run natively, this program only checks
//! that every case verifies.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_possible_truncation
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_core::{TokenCacheConfig, Verifier};
use serde_json::json;

/// Verifications per case.
const N: usize = 200;
/// The token cache's capacity in the `cold_distinct` cases (filled before the case). With the default admission a
/// token used once is not cached; `cold_distinct_first_use` caches each one, so every insert evicts.
const CAPACITY: usize = 64;
const AZP: &str = "https://app.example.com";

fn run<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("verification pended although the keys are static"),
    }
}

fn verifier(cache: TokenCacheConfig) -> Verifier {
    let key = support::key_a();
    Verifier::builder().jwks_json(key.jwks()).unwrap().authorized_parties([AZP]).token_cache(cache).build().unwrap()
}

#[inline(never)]
fn icount_case_floor(key: &ParsedPublicKey, inputs: &[(Vec<u8>, Vec<u8>)]) -> usize {
    inputs.iter().filter(|(input, sig)| key.verify_sig(black_box(input), black_box(sig)).is_ok()).count()
}

#[inline(never)]
fn icount_case_cold(v: &Verifier, token: &str) -> usize {
    black_box(1); // distinct bodies: identical functions would be merged into one symbol
    (0..N).filter(|_| run(v.verify(black_box(token))).is_ok()).count()
}

#[inline(never)]
fn icount_case_cold_distinct(v: &Verifier, tokens: &[String]) -> usize {
    black_box(2);
    tokens.iter().filter(|t| run(v.verify(black_box(t))).is_ok()).count()
}

#[inline(never)]
fn icount_case_cold_distinct_first_use(v: &Verifier, tokens: &[String]) -> usize {
    black_box(5);
    tokens.iter().filter(|t| run(v.verify(black_box(t))).is_ok()).count()
}

#[inline(never)]
fn icount_case_cold_distinct_nocache(v: &Verifier, tokens: &[String]) -> usize {
    black_box(3);
    tokens.iter().filter(|t| run(v.verify(black_box(t))).is_ok()).count()
}

#[inline(never)]
fn icount_case_warm(v: &Verifier, token: &str) -> usize {
    black_box(4);
    (0..N).filter(|_| run(v.verify(black_box(token))).is_ok()).count()
}

fn main() {
    let key = support::key_a();
    let now = support::now_secs();
    let mint = |i: usize| {
        let mut claims = support::session_claims(now);
        claims["exp"] = json!(now + 3600);
        claims["jti"] = json!(format!("{i:020}"));
        key.sign(&claims)
    };
    let fillers: Vec<String> = (0..CAPACITY).map(|i| mint(1_000_000 + i)).collect();
    let tokens: Vec<String> = (0..N).map(mint).collect();

    let n = URL_SAFE_NO_PAD.decode(key.public_jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key.public_jwk["e"].as_str().unwrap()).unwrap();
    let parsed =
        RsaPublicKeyComponents { n: &n[..], e: &e[..] }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).unwrap();
    let inputs: Vec<(Vec<u8>, Vec<u8>)> = tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').unwrap();
            (input.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(sig).unwrap())
        })
        .collect();

    let cold = verifier(TokenCacheConfig::disabled());
    // Both caches full: each filler passed twice (the default admits a token on its second pass).
    let cached = verifier(TokenCacheConfig::capacity(CAPACITY));
    let first_use = verifier(TokenCacheConfig::capacity(CAPACITY).admit_on_first_use());
    for f in fillers.iter().chain(&fillers) {
        assert!(run(cached.verify(f)).is_ok() && run(first_use.verify(f)).is_ok());
    }
    // (quick_cache bounds each shard, so a cache may evict well before it holds `CAPACITY` entries.)
    let held = (cached.cached_tokens(), first_use.cached_tokens());
    assert!(held.0 >= CAPACITY / 2 && held.1 >= CAPACITY / 2, "{held:?}");
    let nocache = verifier(TokenCacheConfig::disabled());
    let warm = verifier(TokenCacheConfig::default());
    // Warm-up outside the measured functions: first-use costs (lazy statics, the first allocations) are not a case's.
    assert!(run(cold.verify(&fillers[0])).is_ok() && run(nocache.verify(&fillers[0])).is_ok());
    assert!(run(warm.verify(&tokens[0])).is_ok() && run(warm.verify(&tokens[0])).is_ok());

    let results = [
        ("floor", icount_case_floor(&parsed, &inputs)),
        ("cold", icount_case_cold(&cold, &tokens[0])),
        ("cold_distinct", icount_case_cold_distinct(&cached, &tokens)),
        ("cold_distinct_first_use", icount_case_cold_distinct_first_use(&first_use, &tokens)),
        ("cold_distinct_nocache", icount_case_cold_distinct_nocache(&nocache, &tokens)),
        ("warm", icount_case_warm(&warm, &tokens[0])),
    ];
    for (name, ok) in results {
        assert_eq!(ok, N, "{name}: every verification must pass");
    }
    println!("icount: {N} verifications per case, {} bytes per token; all passed", tokens[0].len());
}
