//! Hostile, malformed and oversized session tokens: every one is refused with the exact Clerk reason code
//! (clerk-behaviour.md §2), never a panic, and no error ever echoes the token.
//!
//! All verifiers here are networkless (a static JWKS or a PEM key) and run on a [`TestClock`] standing at [`NOW`],
//! so nothing depends on the wall clock.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clerk_core::{
    Algorithm, DEFAULT_MAX_TOKEN_BYTES, IssuerCheck, PendingSessions, Reason, SessionStatus, TestClock, Verifier,
    VerifierBuilder, VerifyError,
};
use josekit::jws::JwsSigner as _;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use support::*;

/// The instant every test verifier stands at (2023-11-14T22:13:20Z).
const NOW: i64 = 1_700_000_000;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64json(v: &Value) -> String {
    b64(serde_json::to_vec(v).unwrap())
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn clock() -> TestClock {
    TestClock::at_secs(NOW as u64)
}

/// key_a's JWKS (its JWK pinned to RS256), networkless, clock at [`NOW`].
fn builder() -> VerifierBuilder {
    Verifier::builder().jwks_json(key_a().jwks()).unwrap().clock(clock())
}

fn verifier() -> Verifier {
    builder().build().unwrap()
}

/// key_a's PEM (a single key answering any `kid`, allowing RS256/384/512), clock at [`NOW`].
fn pem_verifier() -> Verifier {
    Verifier::builder().jwt_key(&key_a().public_pem).unwrap().clock(clock()).build().unwrap()
}

/// key_a's JWKS with the JWK's `alg` removed: the key allows RS256, RS384 and RS512.
fn unpinned_jwks() -> String {
    let mut jwk = key_a().public_jwk.clone();
    jwk.as_object_mut().unwrap().remove("alg");
    json!({ "keys": [jwk] }).to_string()
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "kid": kid, "typ": "JWT"})
}

fn header_a() -> Value {
    header("RS256", &key_a().kid)
}

fn claims() -> Value {
    session_claims(NOW)
}

/// `v` with `key` set to `val`.
fn set(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

/// `v` without `key`.
fn unset(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

/// A token over raw header and payload bytes (not necessarily JSON), signed by `key` with the algorithm `alg`
/// regardless of what the header says.
fn sign_bytes(key: &TestKey, alg: &str, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let alg = match alg {
        "RS384" => josekit::jws::RS384,
        "RS512" => josekit::jws::RS512,
        _ => josekit::jws::RS256,
    };
    let sig = alg.signer_from_pem(&key.private_pem).unwrap().sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig))
}

fn segments(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let t = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none());
    t
}

/// Display, Debug (both forms) and the source chain of `err` must not contain `token` nor any long segment of it.
fn assert_no_leak(err: &VerifyError, token: &str) {
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for text in &texts {
        if token.len() >= 24 {
            assert!(!text.contains(token), "error text contains the token: {text}");
        }
        for seg in token.split('.').filter(|s| s.len() >= 24) {
            assert!(!text.contains(seg), "error text contains a token segment: {text}");
        }
    }
}

/// Verifies `token`, expects exactly `reason`, and checks the error does not leak the token.
async fn expect_reason(v: &Verifier, token: &str, reason: Reason) -> VerifyError {
    match v.verify(token).await {
        Ok(_) => panic!("expected {reason}, but the token verified: {token:.120}"),
        Err(err) => {
            assert_eq!(err.reason(), reason, "{err} for token {token:.120}");
            assert_no_leak(&err, token);
            err
        }
    }
}

/// Verifies `token`, expects one of `reasons` (for inputs whose exact failure depends on random bytes).
async fn expect_one_of(v: &Verifier, token: &str, reasons: &[Reason]) {
    match v.verify(token).await {
        Ok(_) => panic!("expected one of {reasons:?}, but the token verified: {token:.120}"),
        Err(err) => {
            assert!(reasons.contains(&err.reason()), "{err} ({:?}) not in {reasons:?}", err.reason());
            assert_no_leak(&err, token);
        }
    }
}

async fn expect_ok(v: &Verifier, token: &str) -> clerk_core::SessionAuth {
    match v.verify(token).await {
        Ok(auth) => auth,
        Err(err) => panic!("expected the token to verify, got {err} ({})", err.reason()),
    }
}

fn hmac_sign(alg: &str, secret: &[u8], input: &str) -> Vec<u8> {
    let algorithm = match alg {
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes()).as_ref().to_vec()
}

fn pem_body_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// Baseline: the helpers mint tokens that verify
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn baseline_tokens_verify() {
    let token = key_a().sign(&claims());
    let auth = expect_ok(&verifier(), &token).await;
    assert_eq!(auth.user_id(), "user_2bVftRtFezPdchfaz9999999999");
    expect_ok(&pem_verifier(), &token).await;
    let raw = sign_bytes(
        key_a(),
        "RS256",
        &serde_json::to_vec(&header_a()).unwrap(),
        &serde_json::to_vec(&claims()).unwrap(),
    );
    expect_ok(&verifier(), &raw).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Algorithm attacks
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn alg_none_is_refused_with_and_without_signature() {
    let v = verifier();
    let kid = &key_a().kid;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = b64json(&json!({"alg": alg, "kid": kid, "typ": "JWT"}));
        let p = b64json(&claims());
        // Unsecured JWS as RFC 7519 §6.1 writes it: empty signature segment.
        expect_reason(&v, &format!("{h}.{p}."), Reason::TokenInvalid).await;
        // Signature segment dropped altogether.
        expect_reason(&v, &format!("{h}.{p}"), Reason::TokenInvalid).await;
        // Some signature bytes.
        expect_reason(&v, &format!("{h}.{p}.AAAA"), Reason::TokenInvalidAlgorithm).await;
        // Even a genuine RS256 signature by the instance key over exactly this input does not rescue `alg: none`.
        let genuine = sign_bytes(
            key_a(),
            "RS256",
            &serde_json::to_vec(&json!({"alg": alg, "kid": kid})).unwrap(),
            &serde_json::to_vec(&claims()).unwrap(),
        );
        expect_reason(&v, &genuine, Reason::TokenInvalidAlgorithm).await;
    }
    // No alg, null alg, empty alg: not in the allow-list.
    for h in [json!({"kid": kid}), json!({"alg": null, "kid": kid}), json!({"alg": "", "kid": kid})] {
        let token =
            sign_bytes(key_a(), "RS256", &serde_json::to_vec(&h).unwrap(), &serde_json::to_vec(&claims()).unwrap());
        expect_reason(&v, &token, Reason::TokenInvalidAlgorithm).await;
    }
    // Other families and lookalikes.
    for alg in ["ES256", "PS256", "EdDSA", "rs256", "RS256 ", "RS1", "RS", "HS256"] {
        let token = key_a().sign_raw(&header(alg, kid), &claims());
        expect_reason(&v, &token, Reason::TokenInvalidAlgorithm).await;
    }
    // An `alg` that is not a string at all makes the header malformed.
    for alg in [json!(["RS256"]), json!(256), json!({"name": "RS256"})] {
        let token = key_a().sign_raw(&json!({"alg": alg, "kid": kid}), &claims());
        expect_reason(&v, &token, Reason::TokenInvalid).await;
    }
    // A duplicated `alg` (a classic parser-differential trick) is refused.
    let token = sign_bytes(
        key_a(),
        "RS256",
        format!(r#"{{"alg":"RS256","kid":"{kid}","alg":"none"}}"#).as_bytes(),
        &serde_json::to_vec(&claims()).unwrap(),
    );
    expect_reason(&v, &token, Reason::TokenInvalid).await;
}

#[tokio::test]
async fn hs256_with_the_rsa_public_key_as_secret_is_refused() {
    let k = key_a();
    let n = unb64(k.public_jwk["n"].as_str().unwrap());
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("PEM text", k.public_pem.as_bytes().to_vec()),
        ("PEM text, trimmed", k.public_pem.trim().as_bytes().to_vec()),
        ("SPKI DER", pem_body_der(&k.public_pem)),
        ("JWK n bytes", n),
        ("JWK n text", k.public_jwk["n"].as_str().unwrap().as_bytes().to_vec()),
        ("JWKS document", k.jwks().into_bytes()),
    ];
    for v in [verifier(), pem_verifier()] {
        for (what, secret) in &secrets {
            for alg in ["HS256", "HS384", "HS512"] {
                let input = format!("{}.{}", b64json(&header(alg, &k.kid)), b64json(&claims()));
                let token = format!("{input}.{}", b64(hmac_sign(alg, secret, &input)));
                let err = v.verify(&token).await.expect_err(what);
                assert_eq!(err.reason(), Reason::TokenInvalidAlgorithm, "{what} {alg}: {err}");
                assert_no_leak(&err, &token);
            }
        }
        // The same MAC under a header claiming RS256 is just a wrong signature.
        let input = format!("{}.{}", b64json(&header_a()), b64json(&claims()));
        let token = format!("{input}.{}", b64(hmac_sign("HS256", k.public_pem.as_bytes(), &input)));
        expect_reason(&v, &token, Reason::TokenInvalidSignature).await;
    }
}

#[tokio::test]
async fn rs384_and_rs512_accepted_by_default_and_refused_when_not_allowed() {
    let k = key_a();
    let unpinned = Verifier::builder().jwks_json(unpinned_jwks()).unwrap().clock(clock()).build().unwrap();
    let only256 = Verifier::builder()
        .jwks_json(unpinned_jwks())
        .unwrap()
        .clock(clock())
        .algorithms([Algorithm::RS256])
        .build()
        .unwrap();
    let only256_pem = Verifier::builder()
        .jwt_key(&k.public_pem)
        .unwrap()
        .clock(clock())
        .algorithms([Algorithm::RS256])
        .build()
        .unwrap();
    let pem = pem_verifier();
    let pinned = verifier();
    for alg in ["RS384", "RS512"] {
        let token = k.sign_raw(&header(alg, &k.kid), &claims());
        expect_ok(&unpinned, &token).await;
        expect_ok(&pem, &token).await;
        expect_reason(&only256, &token, Reason::TokenInvalidAlgorithm).await;
        expect_reason(&only256_pem, &token, Reason::TokenInvalidAlgorithm).await;
        // The test keys' JWKs say `alg: RS256`: the key refuses any other algorithm, before the signature.
        expect_reason(&pinned, &token, Reason::TokenInvalidAlgorithm).await;
        let foreign = key_b().sign_raw(&header(alg, &k.kid), &claims());
        expect_reason(&pinned, &foreign, Reason::TokenInvalidAlgorithm).await;
    }
    // RS256 still passes the restricted verifiers; RS256 refused when only RS512 is allowed.
    let token = k.sign(&claims());
    expect_ok(&only256, &token).await;
    expect_ok(&only256_pem, &token).await;
    let only512 = Verifier::builder()
        .jwks_json(unpinned_jwks())
        .unwrap()
        .clock(clock())
        .algorithms([Algorithm::RS512])
        .build()
        .unwrap();
    expect_reason(&only512, &token, Reason::TokenInvalidAlgorithm).await;
    // Header says RS384, signature made with RS256 (or RS512): the header's hash is used, so the signature fails.
    let p = serde_json::to_vec(&claims()).unwrap();
    for (claimed, used) in [("RS384", "RS256"), ("RS512", "RS256"), ("RS256", "RS512"), ("RS512", "RS384")] {
        let h = serde_json::to_vec(&header(claimed, &k.kid)).unwrap();
        let token = sign_bytes(k, used, &h, &p);
        expect_reason(&unpinned, &token, Reason::TokenInvalidSignature).await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Key selection
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn colliding_kid_from_another_instance_fails_the_signature() {
    // key_b belongs to another Clerk instance; its token claims key_a's kid.
    let forged = key_b().sign_raw(&header_a(), &claims());
    expect_reason(&verifier(), &forged, Reason::TokenInvalidSignature).await;
    expect_reason(&pem_verifier(), &forged, Reason::TokenInvalidSignature).await;
    // With its own kid, the other instance's token is simply not for us.
    let own = key_b().sign(&claims());
    expect_reason(&verifier(), &own, Reason::JwkKidMismatch).await;
    // PEM mode answers every kid with the one key: the signature decides.
    expect_reason(&pem_verifier(), &own, Reason::TokenInvalidSignature).await;
}

#[tokio::test]
async fn unknown_missing_or_odd_kid_with_static_jwks_is_a_kid_mismatch() {
    let v = verifier();
    for kid in ["ins_unknown", "", "INS_TEST_A", "ins_test_a ", "ins_test_a\u{0}", &"k".repeat(500)] {
        let token = key_a().sign_raw(&header("RS256", kid), &claims());
        expect_reason(&v, &token, Reason::JwkKidMismatch).await;
    }
    let no_kid = key_a().sign_raw(&json!({"alg": "RS256", "typ": "JWT"}), &claims());
    expect_reason(&v, &no_kid, Reason::JwkKidMismatch).await;
    // PEM (networkless `jwtKey`) mode needs no kid.
    expect_ok(&pem_verifier(), &no_kid).await;
    // A kid of the wrong JSON type makes the header malformed.
    let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": 42}), &claims());
    expect_reason(&v, &token, Reason::TokenInvalid).await;
}

#[tokio::test]
async fn key_selecting_header_fields_are_ignored() {
    // A live JWKS endpoint serving the attacker's key (the attacker's own emulated instance, key_b): nothing may
    // ever fetch it, nor anything else it serves.
    let attacker = emulator(key_b()).await;
    let url = attacker.jwks_url();
    let backend_url = format!("{}{BACKEND_JWKS}", attacker.api_url());
    // The instance (key_a) emulated too, for a verifier that does fetch keys: it may fetch from there only.
    let instance = emulator(key_a()).await;
    let (a, b) = (key_a(), key_b());
    let x5c = json!([STANDARD.encode(pem_body_der(&b.public_pem))]);
    let v = verifier();
    let remote = Verifier::builder()
        .secret_key(instance.secret_key())
        .unwrap()
        .api_url(&instance.api_url())
        .unwrap()
        .clock(clock())
        .build()
        .unwrap();
    let pem = pem_verifier();

    // The instance's own token carrying every pointer elsewhere still verifies with the instance key.
    let h = json!({"alg": "RS256", "kid": a.kid, "typ": "JWT", "jku": url, "x5u": backend_url, "jwk": b.public_jwk,
                   "x5c": x5c});
    let token = a.sign_raw(&h, &claims());
    expect_ok(&v, &token).await;
    expect_ok(&remote, &token).await;
    expect_ok(&pem, &token).await;

    // The attacker's token, its key embedded in every way the JOSE header allows.
    let embedded = |kid: Option<&str>| {
        let mut h =
            json!({"alg": "RS256", "typ": "JWT", "jku": url, "x5u": backend_url, "jwk": b.public_jwk, "x5c": x5c});
        if let Some(kid) = kid {
            h["kid"] = json!(kid);
        }
        b.sign_raw(&h, &claims())
    };
    for jwks_verifier in [&v, &remote] {
        expect_reason(jwks_verifier, &embedded(Some(&b.kid)), Reason::JwkKidMismatch).await;
        expect_reason(jwks_verifier, &embedded(None), Reason::JwkKidMismatch).await;
        expect_reason(jwks_verifier, &embedded(Some(&a.kid)), Reason::TokenInvalidSignature).await;
    }
    expect_reason(&pem, &embedded(Some(&b.kid)), Reason::TokenInvalidSignature).await;
    expect_reason(&pem, &embedded(None), Reason::TokenInvalidSignature).await;
    // The embedded JWK with key_a's kid inside it changes nothing either.
    let mut jwk = b.public_jwk.clone();
    jwk["kid"] = json!(a.kid);
    let token = b.sign_raw(&json!({"alg": "RS256", "kid": a.kid, "jwk": jwk}), &claims());
    expect_reason(&v, &token, Reason::TokenInvalidSignature).await;
    expect_reason(&remote, &token, Reason::TokenInvalidSignature).await;

    // Both header URLs point at the attacker's emulator, which logs every request it gets.
    assert_eq!(attacker.request_count(FRONTEND_JWKS), 0, "a header URL was fetched");
    assert_eq!(attacker.request_count(BACKEND_JWKS), 0, "a header URL was fetched");
    assert!(attacker.requests().is_empty(), "a header URL was fetched: {:?}", attacker.requests());
    assert_eq!(v.key_fetch_count(), 0);
    // The fetching verifier got its keys from its own instance only, with its secret key: the initial fetch and
    // one unknown-kid refresh for the attacker's kid (further unknown kids are rate-limited; the clock stands still).
    assert_eq!(statuses(&instance, BACKEND_JWKS), [200, 200]);
    assert_eq!(instance.requests().len(), 2);
    assert_eq!(remote.key_fetch_count(), 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Size bound
// ---------------------------------------------------------------------------------------------------------------

/// Two validly signed tokens around `target`: the longest not above it and the next one (above it), padded by a
/// claim one character at a time.
fn tokens_around(target: usize) -> (String, String) {
    let base = key_a().sign(&set(claims(), "pad", json!(""))).len();
    let mut n = (target.saturating_sub(base) * 3 / 4).saturating_sub(8);
    let mut under = None;
    loop {
        let t = key_a().sign(&set(claims(), "pad", json!("x".repeat(n))));
        if t.len() > target {
            return (under.expect("the first candidate is already over the target"), t);
        }
        under = Some(t);
        n += 1;
    }
}

#[tokio::test]
async fn oversized_tokens_are_refused_before_decoding() {
    let v = verifier();
    // Just under the default bound (8 KiB): verifies. One more padding byte: refused, although validly signed.
    let (near, over) = tokens_around(DEFAULT_MAX_TOKEN_BYTES);
    assert!(near.len() <= DEFAULT_MAX_TOKEN_BYTES && near.len() > DEFAULT_MAX_TOKEN_BYTES - 4, "{}", near.len());
    assert!(over.len() > DEFAULT_MAX_TOKEN_BYTES && over.len() <= DEFAULT_MAX_TOKEN_BYTES + 3, "{}", over.len());
    expect_ok(&v, &near).await;
    expect_reason(&v, &over, Reason::TokenInvalid).await;
    // Any junk above the bound, whatever its shape.
    for junk in [
        "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1),
        ".".repeat(DEFAULT_MAX_TOKEN_BYTES + 1),
        format!("{near}A"),
        format!("{}.{}.{}", "A".repeat(4 << 20), "B".repeat(4 << 20), "C".repeat(4 << 20)),
        "é".repeat(DEFAULT_MAX_TOKEN_BYTES),
    ] {
        if junk.len() > DEFAULT_MAX_TOKEN_BYTES {
            expect_reason(&v, &junk, Reason::TokenInvalid).await;
        }
    }

    // A custom bound is honoured to the byte.
    let token = key_a().sign(&claims());
    let exact = builder().max_token_bytes(token.len()).build().unwrap();
    expect_ok(&exact, &token).await;
    let one_less = builder().max_token_bytes(token.len() - 1).build().unwrap();
    expect_reason(&one_less, &token, Reason::TokenInvalid).await;
    let tiny = builder().max_token_bytes(16).build().unwrap();
    expect_reason(&tiny, &token, Reason::TokenInvalid).await;
    // A raised bound lets a big (valid) token through.
    let big = key_a().sign(&set(claims(), "pad", json!("x".repeat(20_000))));
    expect_reason(&v, &big, Reason::TokenInvalid).await;
    let roomy = builder().max_token_bytes(64 * 1024).build().unwrap();
    expect_ok(&roomy, &big).await;
    // A zero bound is a configuration error, not a verifier that refuses everything.
    assert!(builder().max_token_bytes(0).build().is_err());
}

#[tokio::test]
async fn payloads_on_both_sides_of_the_stack_buffer_verify() {
    // A payload is decoded on the stack up to 2 KiB and on the heap beyond; both sides of the boundary verify and
    // keep every byte of their claims.
    let v = verifier();
    let decoded_len = |t: &str| URL_SAFE_NO_PAD.decode(segments(t).1).unwrap().len();
    let base = decoded_len(&key_a().sign(&set(claims(), "pad", json!(""))));
    for target in [2047, 2048, 2049] {
        let pad = "x".repeat(target - base);
        let token = key_a().sign(&set(claims(), "pad", json!(pad)));
        assert_eq!(decoded_len(&token), target);
        let auth = expect_ok(&v, &token).await;
        assert_eq!(auth.claim("pad"), Some(json!(pad)), "payload of {target} bytes");
        assert_eq!(auth.token(), token);
    }
}

#[tokio::test]
async fn oversized_header_or_signature_segment_is_malformed() {
    // Within the total bound, but a JOSE header over 1 KiB or a signature longer than RSA-8192's are refused.
    let roomy = builder().max_token_bytes(1 << 20).build().unwrap();
    let h = json!({"alg": "RS256", "kid": key_a().kid, "typ": "JWT", "pad": "x".repeat(2000)});
    let token = key_a().sign_raw(&h, &claims());
    expect_reason(&roomy, &token, Reason::TokenInvalid).await;
    let good = key_a().sign(&claims());
    let (h, p, _) = segments(&good);
    for len in [1100, 2048, 100_000] {
        let token = format!("{h}.{p}.{}", b64(vec![0x5au8; len]));
        expect_reason(&roomy, &token, Reason::TokenInvalid).await;
    }
    // A huge payload (under a raised bound) with a bad signature is just a bad signature.
    let huge = key_b().sign_raw(&header_a(), &set(claims(), "pad", json!("y".repeat(600_000))));
    expect_reason(&roomy, &huge, Reason::TokenInvalidSignature).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Compact-form damage
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_base64_in_each_segment() {
    let v = verifier();
    let token = key_a().sign(&claims());
    let (h, p, s) = segments(&token);
    let damage = |seg: &str| -> Vec<String> {
        let mid = seg.len() / 2;
        vec![
            format!("{}!{}", &seg[..mid], &seg[mid + 1..]),
            format!("{}+{}", &seg[..mid], &seg[mid + 1..]),
            format!("{}/{}", &seg[..mid], &seg[mid + 1..]),
            format!("{} {}", &seg[..mid], &seg[mid + 1..]),
            format!("{}\n{}", &seg[..mid], &seg[mid..]),
            format!("{}%3D", &seg[..seg.len() - 1]),
            format!("{}é{}", &seg[..mid], &seg[mid + 1..]),
            format!("{}\u{0}", seg),
            format!(" {seg}"),
            // Standard-alphabet base64 of the same bytes (differs only if it contains `+` or `/`).
            STANDARD.encode(unb64(seg)).trim_end_matches('=').replace('-', "+").replace('_', "/"),
        ]
    };
    for bad in damage(h) {
        if bad != h {
            expect_reason(&v, &format!("{bad}.{p}.{s}"), Reason::TokenInvalid).await;
        }
    }
    for bad in damage(p) {
        if bad != p {
            expect_reason(&v, &format!("{h}.{bad}.{s}"), Reason::TokenInvalid).await;
        }
    }
    for bad in damage(s) {
        if bad != s {
            expect_reason(&v, &format!("{h}.{p}.{bad}"), Reason::TokenInvalid).await;
        }
    }
    // Impossible lengths (1 mod 4).
    let cut = |seg: &str| seg[..(seg.len() - 1) / 4 * 4 + 1].to_owned();
    expect_reason(&v, &format!("{}.{p}.{s}", cut(h)), Reason::TokenInvalid).await;
    expect_reason(&v, &format!("{h}.{}.{s}", cut(p)), Reason::TokenInvalid).await;
    expect_reason(&v, &format!("{h}.{p}.{}", cut(s)), Reason::TokenInvalid).await;
    // Non-canonical trailing bits: the 256-byte signature encodes to 342 chars whose last char carries 4 zero
    // bits; setting them gives a different string for "the same" bytes, which a strict decoder refuses.
    assert_eq!(s.len() % 4, 2);
    let last = s.as_bytes()[s.len() - 1];
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
    let noncanonical = ALPHABET[idx | 1] as char;
    assert_ne!(noncanonical as u8, last);
    expect_reason(&v, &format!("{h}.{p}.{}{noncanonical}", &s[..s.len() - 1]), Reason::TokenInvalid).await;
}

#[tokio::test]
async fn padding_in_segments_is_refused() {
    let v = verifier();
    let token = key_a().sign(&claims());
    let (h, p, s) = segments(&token);
    // A correctly padded signature (256 bytes → 342 chars + "==") is still not base64url-without-padding.
    let padded_sig = URL_SAFE_NO_PAD.encode(unb64(s)) + "==";
    assert_eq!(base64::engine::general_purpose::URL_SAFE.encode(unb64(s)), padded_sig);
    for bad in [
        format!("{h}=.{p}.{s}"),
        format!("{h}==.{p}.{s}"),
        format!("{h}.{p}=.{s}"),
        format!("{h}.{p}==.{s}"),
        format!("{h}.{p}.{padded_sig}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}.{s}==="),
        format!("{h}.{p}.="),
        format!("={h}.{p}.{s}"),
    ] {
        expect_reason(&v, &bad, Reason::TokenInvalid).await;
    }
}

#[tokio::test]
async fn wrong_segment_counts_and_empty_segments() {
    let v = verifier();
    let token = key_a().sign(&claims());
    let (h, p, s) = segments(&token);
    let cases = [
        String::new(),
        " ".into(),
        ".".into(),
        "..".into(),
        "...".into(),
        "....".into(),
        "a".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        h.into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{h}.{p}.{s}"),
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}.{s}.{h}.{p}"),
        format!("{h}.{p}.{s}.."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        format!("{h}.."),
        format!("..{s}"),
        format!("Bearer {token}"),
        format!("{token} "),
        format!("{token}\n"),
    ];
    for bad in &cases {
        expect_reason(&v, bad, Reason::TokenInvalid).await;
    }
}

#[tokio::test]
async fn non_object_json_header_or_payload_is_malformed() {
    let v = verifier();
    let good_h = serde_json::to_vec(&header_a()).unwrap();
    let good_p = serde_json::to_vec(&claims()).unwrap();
    let not_objects: [&[u8]; 14] = [
        b"[]",
        br#"[{"alg":"RS256"}]"#,
        br#""RS256""#,
        b"1",
        b"-0.5e3",
        b"null",
        b"true",
        b"{",
        b"}",
        br#"{"alg":"RS256""#,
        b"\xef\xbb\xbf{}",
        b"{}{}",
        b"{} x",
        b"not json",
    ];
    for bad in not_objects {
        let token = sign_bytes(key_a(), "RS256", bad, &good_p);
        expect_reason(&v, &token, Reason::TokenInvalid).await;
        // The payload shape is checked before the key, the signature or any claim.
        let token = sign_bytes(key_a(), "RS256", &good_h, bad);
        expect_reason(&v, &token, Reason::TokenInvalid).await;
        let token = sign_bytes(key_b(), "RS256", &good_h, bad);
        expect_reason(&v, &token, Reason::TokenInvalid).await;
    }
    // Invalid UTF-8 in a member the verifier reads: refused.
    let h = [&br#"{"alg":"RS256","kid":"ins_test_a"#[..], b"\xff\xfe", b"\"}"].concat();
    expect_reason(&v, &sign_bytes(key_a(), "RS256", &h, &good_p), Reason::TokenInvalid).await;
    let p = [&br#"{"exp":1700000060,"sub":"user_1"#[..], b"\xc3\x28", b"\"}"].concat();
    expect_one_of(
        &v,
        &sign_bytes(key_a(), "RS256", &good_h, &p),
        &[Reason::TokenInvalid, Reason::TokenVerificationFailed],
    )
    .await;
    // Invalid UTF-8 in a member nobody reads (signed bytes): serde_json skips ignored strings without validating
    // them, so this is tolerated, as the official JS SDK (TextDecoder + JSON.parse) tolerates it. Either outcome is
    // acceptable; a panic or another reason is not.
    let h = [&br#"{"alg":"RS256","kid":"ins_test_a","x":""#[..], b"\xff\xfe", b"\"}"].concat();
    let p = [&br#"{"exp":1700000060,"sub":"user_1","x":""#[..], b"\xc3\x28", b"\"}"].concat();
    for token in [sign_bytes(key_a(), "RS256", &h, &good_p), sign_bytes(key_a(), "RS256", &good_h, &p)] {
        if let Err(err) = v.verify(&token).await {
            assert_eq!(err.reason(), Reason::TokenInvalid, "{err}");
        }
    }
    // Whitespace around a JSON object is still a JSON object.
    let h = [&b" \n\t"[..], &good_h, b" "].concat();
    let p = [&b"\r\n "[..], &good_p, b"\n"].concat();
    expect_ok(&v, &sign_bytes(key_a(), "RS256", &h, &p)).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Claim types and presence
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn claim_types_and_required_claims() {
    let v = verifier();
    let c = claims();
    let failed = Reason::TokenVerificationFailed;
    let cases: Vec<(&str, Value)> = vec![
        ("exp as a string", set(c.clone(), "exp", json!((NOW + 60).to_string()))),
        ("exp as a bool", set(c.clone(), "exp", json!(true))),
        ("exp as an array", set(c.clone(), "exp", json!([NOW + 60]))),
        ("exp null", set(c.clone(), "exp", Value::Null)),
        ("exp missing", unset(c.clone(), "exp")),
        ("exp beyond i64 ms", set(c.clone(), "exp", json!(u64::MAX))),
        ("exp i64::MIN", set(c.clone(), "exp", json!(i64::MIN))),
        ("exp 1e300", set(c.clone(), "exp", json!(1e300))),
        ("sub missing", unset(c.clone(), "sub")),
        ("sub null", set(c.clone(), "sub", Value::Null)),
        ("sub as a number", set(c.clone(), "sub", json!(12345))),
        ("sub as an object", set(c.clone(), "sub", json!({"id": "user_1"}))),
        ("nbf as a string", set(c.clone(), "nbf", json!(NOW.to_string()))),
        ("iat as a string", set(c.clone(), "iat", json!(NOW.to_string()))),
        ("sub and exp missing", unset(unset(c.clone(), "sub"), "exp")),
    ];
    for (what, claims) in cases {
        let token = key_a().sign(&claims);
        let err = v.verify(&token).await.expect_err(what);
        assert_eq!(err.reason(), failed, "{what}: {err}");
        assert_no_leak(&err, &token);
    }
    // A duplicated `sub` (a parser-differential trick) is refused rather than resolved either way.
    let mut p = serde_json::to_string(&claims()).unwrap();
    p.insert_str(1, r#""sub":"user_attacker","#);
    let token = sign_bytes(key_a(), "RS256", &serde_json::to_vec(&header_a()).unwrap(), p.as_bytes());
    expect_reason(&v, &token, failed).await;
    // Numeric edge values that parse: a negative exp is long expired, a fractional one compares in ms.
    expect_reason(&v, &key_a().sign(&set(c.clone(), "exp", json!(-1))), Reason::TokenExpired).await;
    expect_reason(&v, &key_a().sign(&set(c.clone(), "exp", json!(0))), Reason::TokenExpired).await;
    expect_ok(&v, &key_a().sign(&set(c.clone(), "exp", json!(NOW as f64 + 30.5)))).await;
    // Only `sub` and `exp` are required.
    let minimal = json!({"sub": "user_1", "exp": NOW + 60});
    let auth = expect_ok(&v, &key_a().sign(&minimal)).await;
    assert_eq!(auth.user_id(), "user_1");
}

// ---------------------------------------------------------------------------------------------------------------
// Time: exp, nbf, iat and the clock skew
// ---------------------------------------------------------------------------------------------------------------

fn timed(exp: f64, nbf: Option<f64>, iat: Option<f64>) -> String {
    let mut c = json!({"sub": "user_1", "exp": exp});
    if let Some(nbf) = nbf {
        c["nbf"] = json!(nbf);
    }
    if let Some(iat) = iat {
        c["iat"] = json!(iat);
    }
    key_a().sign(&c)
}

#[tokio::test]
async fn skew_boundaries_default_five_seconds() {
    let v = verifier();
    let now = NOW as f64;
    // exp: expired when exp <= now - skew.
    expect_reason(&v, &timed(now - 5.0, None, None), Reason::TokenExpired).await;
    expect_reason(&v, &timed(now - 6.0, None, None), Reason::TokenExpired).await;
    expect_reason(&v, &timed(now - 3600.0, None, None), Reason::TokenExpired).await;
    expect_ok(&v, &timed(now - 4.0, None, None)).await;
    expect_ok(&v, &timed(now - 4.999, None, None)).await;
    expect_ok(&v, &timed(now, None, None)).await;
    // nbf: not active yet when nbf > now + skew.
    expect_reason(&v, &timed(now + 60.0, Some(now + 6.0), None), Reason::TokenNotActiveYet).await;
    expect_reason(&v, &timed(now + 60.0, Some(now + 5.001), None), Reason::TokenNotActiveYet).await;
    expect_ok(&v, &timed(now + 60.0, Some(now + 5.0), None)).await;
    // iat: in the future when iat > now + skew.
    expect_reason(&v, &timed(now + 60.0, None, Some(now + 6.0)), Reason::TokenIatInTheFuture).await;
    expect_reason(&v, &timed(now + 60.0, None, Some(now + 5.001)), Reason::TokenIatInTheFuture).await;
    expect_ok(&v, &timed(now + 60.0, None, Some(now + 5.0))).await;
    // Order: exp, then nbf, then iat.
    expect_reason(&v, &timed(now - 10.0, Some(now + 10.0), Some(now + 10.0)), Reason::TokenExpired).await;
    expect_reason(&v, &timed(now + 60.0, Some(now + 10.0), Some(now + 10.0)), Reason::TokenNotActiveYet).await;
}

#[tokio::test]
async fn zero_skew_is_honoured() {
    let v = builder().clock_skew(Duration::ZERO).build().unwrap();
    let now = NOW as f64;
    expect_reason(&v, &timed(now, None, None), Reason::TokenExpired).await;
    expect_ok(&v, &timed(now + 1.0, None, None)).await;
    expect_ok(&v, &timed(now + 0.001, None, None)).await;
    expect_reason(&v, &timed(now + 60.0, Some(now + 1.0), None), Reason::TokenNotActiveYet).await;
    expect_reason(&v, &timed(now + 60.0, Some(now + 0.001), None), Reason::TokenNotActiveYet).await;
    expect_ok(&v, &timed(now + 60.0, Some(now), None)).await;
    expect_reason(&v, &timed(now + 60.0, None, Some(now + 1.0)), Reason::TokenIatInTheFuture).await;
    expect_ok(&v, &timed(now + 60.0, None, Some(now))).await;
    // The same tokens pass with the default 5 s skew.
    let d = verifier();
    expect_ok(&d, &timed(now, None, None)).await;
    expect_ok(&d, &timed(now + 60.0, Some(now + 1.0), None)).await;
    expect_ok(&d, &timed(now + 60.0, None, Some(now + 1.0))).await;
}

#[tokio::test]
async fn custom_skew_is_honoured() {
    let v = builder().clock_skew(Duration::from_secs(60)).build().unwrap();
    let now = NOW as f64;
    expect_reason(&v, &timed(now - 60.0, None, None), Reason::TokenExpired).await;
    expect_ok(&v, &timed(now - 59.0, None, None)).await;
    expect_ok(&v, &timed(now + 120.0, Some(now + 60.0), Some(now + 60.0))).await;
    expect_reason(&v, &timed(now + 120.0, Some(now + 61.0), None), Reason::TokenNotActiveYet).await;
    expect_reason(&v, &timed(now + 120.0, None, Some(now + 61.0)), Reason::TokenIatInTheFuture).await;
}

#[tokio::test]
async fn cached_tokens_still_expire() {
    // The verified-token cache must re-check exp with the same skew.
    let clock = clock();
    let v = Verifier::builder().jwks_json(key_a().jwks()).unwrap().clock(clock.clone()).build().unwrap();
    let token = timed(NOW as f64 + 10.0, None, None);
    expect_ok(&v, &token).await;
    expect_ok(&v, &token).await;
    clock.set_secs(NOW as u64 + 15);
    expect_reason(&v, &token, Reason::TokenExpired).await;
    clock.set_secs(NOW as u64 + 14);
    expect_ok(&v, &token).await;
}

// ---------------------------------------------------------------------------------------------------------------
// azp, aud, iss
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn authorized_parties() {
    let v = builder().authorized_parties(["https://app.example.com", "http://localhost:3000"]).build().unwrap();
    let c = claims();
    expect_ok(&v, &key_a().sign(&c)).await;
    expect_ok(&v, &key_a().sign(&set(c.clone(), "azp", json!("http://localhost:3000")))).await;
    for azp in [
        json!("https://evil.example.com"),
        json!(""),
        json!("https://app.example.com/"),
        json!("HTTPS://APP.EXAMPLE.COM"),
        json!("https://app.example.com.evil.com"),
        Value::Null,
    ] {
        expect_reason(&v, &key_a().sign(&set(c.clone(), "azp", azp)), Reason::TokenInvalidAuthorizedParties).await;
    }
    expect_reason(&v, &key_a().sign(&unset(c.clone(), "azp")), Reason::TokenInvalidAuthorizedParties).await;
    // Not configured: not checked.
    let open = verifier();
    expect_ok(&open, &key_a().sign(&set(c.clone(), "azp", json!("https://evil.example.com")))).await;
    expect_ok(&open, &key_a().sign(&unset(c.clone(), "azp"))).await;
    // An empty list configures nothing either.
    let empty = builder().authorized_parties(Vec::<String>::new()).build().unwrap();
    expect_ok(&empty, &key_a().sign(&unset(c, "azp"))).await;
}

#[tokio::test]
async fn audience() {
    let v = builder().audience(["https://api.example.com", "urn:clerk:backend"]).build().unwrap();
    let c = claims();
    let with_aud = |aud: Value| key_a().sign(&set(c.clone(), "aud", aud));
    // Overlap, string or array.
    expect_ok(&v, &with_aud(json!("https://api.example.com"))).await;
    expect_ok(&v, &with_aud(json!("urn:clerk:backend"))).await;
    expect_ok(&v, &with_aud(json!(["https://other.example.com", "urn:clerk:backend"]))).await;
    // No aud in the token: not checked.
    expect_ok(&v, &key_a().sign(&c)).await;
    // Mismatch.
    for aud in [
        json!("https://other.example.com"),
        json!("https://api.example.com/"),
        json!(["https://other.example.com", "urn:other"]),
        json!(["HTTPS://API.EXAMPLE.COM"]),
    ] {
        expect_reason(&v, &with_aud(aud), Reason::TokenVerificationFailed).await;
    }
    // An `aud` that is neither a string nor an array of strings.
    expect_reason(&v, &with_aud(json!(42)), Reason::TokenVerificationFailed).await;
    expect_reason(&v, &with_aud(json!([1, 2])), Reason::TokenVerificationFailed).await;
    // No expected audience: any aud passes.
    let open = verifier();
    expect_ok(&open, &with_aud(json!("https://other.example.com"))).await;
    expect_ok(&open, &with_aud(json!(["a", "b"]))).await;
}

#[tokio::test]
async fn strict_issuer() {
    let c = claims(); // iss = https://clerk.example.com
    let evil = key_a().sign(&set(c.clone(), "iss", json!("https://clerk.evil.com")));
    let trailing = key_a().sign(&set(c.clone(), "iss", json!("https://clerk.example.com/")));
    let http = key_a().sign(&set(c.clone(), "iss", json!("http://clerk.example.com")));
    let missing = key_a().sign(&unset(c.clone(), "iss"));
    let good = key_a().sign(&c);

    let one_of = builder()
        .issuer(IssuerCheck::OneOf(vec![
            "https://proxy.example.com/__clerk".into(),
            "https://clerk.example.com".into(),
        ]))
        .build()
        .unwrap();
    let pk = format!("pk_test_{}", STANDARD.encode("clerk.example.com$"));
    let derived = builder().publishable_key(&pk).unwrap().issuer(IssuerCheck::Derived).build().unwrap();
    let derived_domain = builder().domain("clerk.example.com").unwrap().issuer(IssuerCheck::Derived).build().unwrap();
    for v in [&one_of, &derived, &derived_domain] {
        expect_ok(v, &good).await;
        for bad in [&evil, &trailing, &http, &missing] {
            expect_reason(v, bad, Reason::TokenInvalidIssuer).await;
        }
    }
    let proxied = key_a().sign(&set(c.clone(), "iss", json!("https://proxy.example.com/__clerk")));
    expect_ok(&one_of, &proxied).await;
    expect_reason(&derived, &proxied, Reason::TokenInvalidIssuer).await;
    // Off by default: the official SDKs do not check iss.
    expect_ok(&verifier(), &evil).await;
    expect_ok(&verifier(), &missing).await;
    // Misconfiguration is a build error.
    assert!(builder().issuer(IssuerCheck::Derived).build().is_err());
    assert!(builder().issuer(IssuerCheck::OneOf(vec![])).build().is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// Token kinds: cat, typ, sts
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn header_cat() {
    let v = verifier();
    let kid = &key_a().kid;
    for cat in ["cl_B7d4PD111AAA", "cl_I7d4PD111III"] {
        let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": "JWT", "cat": cat}), &claims());
        expect_ok(&v, &token).await;
    }
    for cat in ["cl_B7d4PD333AAA", "", "cl_b7d4pd111aaa", "cl_B7d4PD111AAA ", "session"] {
        let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": "JWT", "cat": cat}), &claims());
        expect_reason(&v, &token, Reason::TokenTypeMismatch).await;
    }
    // An M2M token is refused as a type mismatch even when signed by a stranger: the header is judged first.
    let token = key_b().sign_raw(&json!({"alg": "RS256", "kid": kid, "cat": "cl_B7d4PD333AAA"}), &claims());
    expect_reason(&v, &token, Reason::TokenTypeMismatch).await;
    // M2M-shaped claims with a session header are a session token as far as the header goes.
    let m2m_claims = json!({"sub": "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "exp": NOW + 60, "iat": NOW});
    let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "cat": "cl_B7d4PD333AAA"}), &m2m_claims);
    expect_reason(&v, &token, Reason::TokenTypeMismatch).await;
}

#[tokio::test]
async fn a_remembered_header_is_judged_as_a_fresh_one() {
    // The verifier remembers the header segment of the last token it verified and does not parse that segment again;
    // after any of these tokens, each of them must get the answer a verifier that never saw it gives. The token cache
    // is off, so that every call goes through the header.
    let kid = &key_a().kid;
    let headers = [
        json!({"alg": "RS256", "kid": kid, "typ": "JWT"}),
        json!({"alg": "RS256", "kid": kid}),
        json!({"alg": "RS384", "kid": kid, "typ": "JWT"}),
        json!({"alg": "RS256", "kid": kid, "typ": "at+jwt"}),
        json!({"alg": "RS256", "kid": kid, "typ": "foo"}),
        json!({"alg": "RS256", "kid": kid, "cat": "cl_B7d4PD333AAA"}),
        json!({"alg": "RS256", "kid": kid, "cat": "cl_B7d4PD111AAA"}),
        json!({"alg": "none", "kid": kid, "typ": "JWT"}),
        json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
        json!({"alg": "RS256", "kid": "ins_someone_else", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": kid, "typ": "JWT", "x": "a\\b"}),
    ];
    let answer = |r: Result<clerk_core::SessionAuth, VerifyError>| {
        r.map(|a| a.user_id().as_str().to_owned()).map_err(|e| e.reason())
    };
    let no_cache = || builder().token_cache(clerk_core::TokenCacheConfig::disabled()).build().unwrap();
    let seen = no_cache();
    let mut verified = 0;
    for first in &headers {
        verified += usize::from(seen.verify(&key_a().sign_raw(first, &claims())).await.is_ok());
        for h in &headers {
            let token = key_a().sign_raw(h, &claims());
            let fresh = answer(no_cache().verify(&token).await);
            assert_eq!(answer(seen.verify(&token).await), fresh, "{h} after {first}");
            // A copy with a broken signature is refused the same way, and publishes nothing.
            let (hs, ps, _) = segments(&token);
            let forged = format!("{hs}.{ps}.{}", b64([7u8; 256]));
            assert_eq!(answer(seen.verify(&forged).await), answer(no_cache().verify(&forged).await), "{h} forged");
        }
    }
    // Verified (and so remembered): `typ` JWT, no `typ`, a session `cat`, an extra member (RS384: the JWKS pins RS256).
    assert_eq!(verified, 4);
}

#[tokio::test]
async fn header_typ() {
    let v = verifier();
    let kid = &key_a().kid;
    expect_ok(&v, &key_a().sign_raw(&json!({"alg": "RS256", "kid": kid}), &claims())).await;
    expect_ok(&v, &key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}), &claims())).await;
    for typ in ["at+jwt", "application/at+jwt", "AT+JWT"] {
        let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": typ}), &claims());
        expect_reason(&v, &token, Reason::TokenTypeMismatch).await;
    }
    for typ in ["foo", "jwt", "JWS", "", "JWT ", "application/jwt", "JOSE"] {
        let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": typ}), &claims());
        expect_reason(&v, &token, Reason::TokenInvalid).await;
    }
    let token = key_a().sign_raw(&json!({"alg": "RS256", "kid": kid, "typ": 1}), &claims());
    expect_reason(&v, &token, Reason::TokenInvalid).await;
}

#[tokio::test]
async fn pending_sessions() {
    let pending = key_a().sign(&set(claims(), "sts", json!("pending")));
    expect_reason(&verifier(), &pending, Reason::SessionTokenPending).await;
    let accepting = builder().pending_sessions(PendingSessions::Accept).build().unwrap();
    let auth = expect_ok(&accepting, &pending).await;
    assert_eq!(*auth.session_status(), SessionStatus::Pending);
    // Active and absent sts are active.
    let auth = expect_ok(&verifier(), &key_a().sign(&claims())).await;
    assert_eq!(*auth.session_status(), SessionStatus::Active);
    let auth = expect_ok(&verifier(), &key_a().sign(&unset(claims(), "sts"))).await;
    assert_eq!(*auth.session_status(), SessionStatus::Active);
    // A pending session is still checked for everything else first.
    let expired_pending = key_a().sign(&set(set(claims(), "sts", json!("pending")), "exp", json!(NOW - 60)));
    expect_reason(&accepting, &expired_pending, Reason::TokenExpired).await;
    expect_reason(&verifier(), &expired_pending, Reason::TokenExpired).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Tampering
// ---------------------------------------------------------------------------------------------------------------

fn flip_char(seg: &str, at: usize) -> String {
    let mut b = seg.as_bytes().to_vec();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

#[tokio::test]
async fn tampering_with_any_segment_is_detected() {
    let v = verifier();
    let token = key_a().sign(&claims());
    expect_ok(&v, &token).await;
    let (h, p, s) = segments(&token);

    // Character flips: whatever the damage, never a success.
    let header_reasons = [
        Reason::TokenInvalid,
        Reason::TokenInvalidSignature,
        Reason::TokenInvalidAlgorithm,
        Reason::JwkKidMismatch,
        Reason::TokenTypeMismatch,
    ];
    for at in 0..h.len() {
        expect_one_of(&v, &format!("{}.{p}.{s}", flip_char(h, at)), &header_reasons).await;
    }
    for at in (0..p.len()).step_by(7).chain([p.len() - 1]) {
        expect_one_of(
            &v,
            &format!("{h}.{}.{s}", flip_char(p, at)),
            &[Reason::TokenInvalid, Reason::TokenInvalidSignature],
        )
        .await;
    }
    for at in 0..s.len() {
        expect_one_of(
            &v,
            &format!("{h}.{p}.{}", flip_char(s, at)),
            &[Reason::TokenInvalid, Reason::TokenInvalidSignature],
        )
        .await;
    }

    // Tampering that keeps everything well-formed is a signature failure.
    let payload: Value = serde_json::from_slice(&unb64(p)).unwrap();
    let exp = payload["exp"].as_i64().unwrap();
    let tampered_payloads = [
        set(payload.clone(), "exp", json!(exp + 1)),
        set(payload.clone(), "exp", json!(exp + 86_400 * 365)),
        set(payload.clone(), "sub", json!("user_2bVftRtFezPdchfaz9999999998")),
        set(payload.clone(), "azp", json!("https://evil.example.com")),
        set(payload.clone(), "o", json!({"id": "org_x", "rol": "admin", "per": "manage", "fpm": "1"})),
        unset(payload.clone(), "nbf"),
    ];
    for tp in &tampered_payloads {
        expect_reason(&v, &format!("{h}.{}.{s}", b64json(tp)), Reason::TokenInvalidSignature).await;
    }
    // Same JSON, re-serialised differently (whitespace): still different signed bytes.
    let pretty = serde_json::to_vec_pretty(&payload).unwrap();
    expect_reason(&v, &format!("{h}.{}.{s}", b64(pretty)), Reason::TokenInvalidSignature).await;
    // One digit of exp changed in place.
    let raw = String::from_utf8(unb64(p)).unwrap();
    let exp_text = exp.to_string();
    let bumped = format!("{}{}", &exp_text[..exp_text.len() - 1], (exp % 10 + 1) % 10);
    let digit_changed = raw.replacen(&exp_text, &bumped, 1);
    assert_ne!(digit_changed, raw);
    expect_reason(&v, &format!("{h}.{}.{s}", b64(digit_changed)), Reason::TokenInvalidSignature).await;
    // Header tampering that keeps it valid.
    for th in [
        json!({"alg": "RS256", "kid": key_a().kid}),
        json!({"kid": key_a().kid, "alg": "RS256", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": key_a().kid, "typ": "JWT", "cat": "cl_B7d4PD111AAA"}),
    ] {
        expect_reason(&v, &format!("{}.{p}.{s}", b64json(&th)), Reason::TokenInvalidSignature).await;
    }
    // Signature bytes: every bit of a few bytes, truncation, extension, zeroes.
    let sig = unb64(s);
    for at in [0, 1, 127, 128, sig.len() - 2, sig.len() - 1] {
        for bit in 0..8 {
            let mut bad = sig.clone();
            bad[at] ^= 1 << bit;
            expect_reason(&v, &format!("{h}.{p}.{}", b64(&bad)), Reason::TokenInvalidSignature).await;
        }
    }
    for bad in [
        sig[..sig.len() - 1].to_vec(),
        sig[1..].to_vec(),
        [&sig[..], &[0]].concat(),
        [&[0], &sig[..]].concat(),
        [&sig[..], &sig[..]].concat(),
        vec![0; sig.len()],
        vec![0xff; sig.len()],
        vec![0],
    ] {
        expect_reason(&v, &format!("{h}.{p}.{}", b64(&bad)), Reason::TokenInvalidSignature).await;
    }
    // Appending base64 characters to the signature segment.
    for suffix in ["A", "AA", "AAAA"] {
        expect_one_of(&v, &format!("{token}{suffix}"), &[Reason::TokenInvalid, Reason::TokenInvalidSignature]).await;
    }
    // Splicing: another genuine token's signature.
    let other = key_a().sign(&set(claims(), "jti", json!("another")));
    let (_, _, other_s) = segments(&other);
    expect_reason(&v, &format!("{h}.{p}.{other_s}"), Reason::TokenInvalidSignature).await;
    // The original is still fine (and nothing above poisoned the token cache).
    expect_ok(&v, &token).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Order of the checks (clerk-behaviour.md §2)
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn checks_run_in_clerks_order() {
    let v = builder()
        .authorized_parties(["https://app.example.com"])
        .audience(["https://api.example.com"])
        .issuer(IssuerCheck::OneOf(vec!["https://clerk.example.com".into()]))
        .build()
        .unwrap();
    let (a, b) = (key_a(), key_b());
    let c = claims();
    // Size before anything.
    let big_bad = format!("{}.{}", "!".repeat(DEFAULT_MAX_TOKEN_BYTES), "x");
    expect_reason(&v, &big_bad, Reason::TokenInvalid).await;
    // Header alg before key lookup and signature.
    let t = b.sign_raw(&header("HS256", "ins_unknown"), &c);
    expect_reason(&v, &t, Reason::TokenInvalidAlgorithm).await;
    // typ / cat before key lookup and signature.
    let t = b.sign_raw(&json!({"alg": "RS256", "kid": "ins_unknown", "typ": "foo"}), &c);
    expect_reason(&v, &t, Reason::TokenInvalid).await;
    let t = b.sign_raw(&json!({"alg": "RS256", "kid": "ins_unknown", "cat": "cl_B7d4PD333AAA"}), &c);
    expect_reason(&v, &t, Reason::TokenTypeMismatch).await;
    // Key before signature.
    let t = b.sign_raw(&header("RS256", "ins_unknown"), &c);
    expect_reason(&v, &t, Reason::JwkKidMismatch).await;
    // Signature before any claim: an expired, sub-less, wrong-azp/aud/iss, pending forgery is a bad signature.
    let awful = json!({"exp": NOW - 3600, "nbf": NOW + 3600, "azp": "https://evil.com", "aud": "x", "iss": "y",
                       "sts": "pending"});
    let t = b.sign_raw(&header_a(), &awful);
    expect_reason(&v, &t, Reason::TokenInvalidSignature).await;
    let t = b.sign_raw(&header_a(), &set(c.clone(), "exp", json!("soon")));
    expect_reason(&v, &t, Reason::TokenInvalidSignature).await;
    // Claims: sub/exp presence and types, then times, then azp, aud, iss, pending.
    let t = a.sign_raw(&header_a(), &awful);
    expect_reason(&v, &t, Reason::TokenVerificationFailed).await;
    let t = a.sign(&set(awful.clone(), "sub", json!("user_1")));
    expect_reason(&v, &t, Reason::TokenExpired).await;
    let t = a.sign(&set(set(awful.clone(), "sub", json!("user_1")), "exp", json!(NOW + 60)));
    expect_reason(&v, &t, Reason::TokenNotActiveYet).await;
    let mut fine_times = set(set(awful.clone(), "sub", json!("user_1")), "exp", json!(NOW + 60));
    fine_times = set(fine_times, "nbf", json!(NOW));
    expect_reason(&v, &a.sign(&fine_times), Reason::TokenInvalidAuthorizedParties).await;
    fine_times = set(fine_times, "azp", json!("https://app.example.com"));
    expect_reason(&v, &a.sign(&fine_times), Reason::TokenVerificationFailed).await;
    fine_times = set(fine_times, "aud", json!("https://api.example.com"));
    expect_reason(&v, &a.sign(&fine_times), Reason::TokenInvalidIssuer).await;
    fine_times = set(fine_times, "iss", json!("https://clerk.example.com"));
    expect_reason(&v, &a.sign(&fine_times), Reason::SessionTokenPending).await;
    fine_times = set(fine_times, "sts", json!("active"));
    expect_ok(&v, &a.sign(&fine_times)).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors never carry the token or claim values
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn errors_never_contain_the_token_or_claims() {
    let v = builder().authorized_parties(["https://app.example.com"]).build().unwrap();
    let secretish = "user_SECRET_SUBJECT_0123456789";
    let c = set(set(claims(), "sub", json!(secretish)), "azp", json!("https://attacker.example/SECRET_AZP"));
    let tokens = [
        key_a().sign(&c),                                                   // azp refused
        key_b().sign_raw(&header_a(), &c),                                  // bad signature
        key_a().sign(&set(c.clone(), "exp", json!(NOW - 60))),              // expired
        key_a().sign_raw(&header("RS256", "ins_SECRET_KID_987654321"), &c), // unknown kid
        key_a().sign_raw(&json!({"alg": "HS256_SECRET_ALG", "kid": key_a().kid}), &c),
        format!("{}x", key_a().sign(&c)),
        "SECRET_NOT_A_TOKEN_AT_ALL_0123456789".to_owned(),
    ];
    for token in &tokens {
        let err = v.verify(token).await.unwrap_err();
        assert_no_leak(&err, token);
        for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            assert!(!text.contains("SECRET"), "{text}");
            assert!(!text.contains("attacker"), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------------------------

fn runner(cases: u32) -> TestRunner {
    // No persistence file: this suite must not write into the source tree.
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Verifies on a current-thread runtime built once per test thread (outside the per-case cost).
fn verify_blocking(v: &Verifier, token: &str) -> Result<clerk_core::SessionAuth, VerifyError> {
    thread_local! {
        static LOCAL: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    }
    LOCAL.with(|rt| rt.block_on(v.verify(token)))
}

fn must_fail(v: &Verifier, token: &str) -> Result<VerifyError, TestCaseError> {
    match verify_blocking(v, token) {
        Ok(_) => Err(TestCaseError::fail(format!("verified: {token:?}"))),
        Err(err) => {
            if token.len() >= 24 {
                let texts = [err.to_string(), format!("{err:?}")];
                for t in texts {
                    prop_assert!(!t.contains(token), "error leaks the token: {}", t);
                }
            }
            Ok(err)
        }
    }
}

fn prop_verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(verifier)
}

fn prop_token() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| key_a().sign(&claims()))
}

#[test]
fn prop_arbitrary_bytes_never_verify() {
    let v = prop_verifier();
    runner(512)
        .run(&prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
            let s = String::from_utf8_lossy(&bytes);
            must_fail(v, &s)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn prop_arbitrary_strings_never_verify() {
    let v = prop_verifier();
    runner(512)
        .run(&any::<String>(), |s| {
            must_fail(v, &s)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn prop_dot_heavy_strings_never_verify() {
    let v = prop_verifier();
    let dotty = prop_oneof![
        "[.A-Za-z0-9_=-]{0,64}",
        "[.]{0,16}",
        prop::collection::vec(prop_oneof![4 => Just('.'), 1 => any::<char>()], 0..128)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        prop::collection::vec("[A-Za-z0-9_-]{0,6}", 0..12).prop_map(|parts| parts.join(".")),
    ];
    runner(512)
        .run(&dotty, |s| {
            let err = must_fail(v, &s)?;
            if s.matches('.').count() != 2 {
                prop_assert_eq!(err.reason(), Reason::TokenInvalid);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn prop_base64url_triples_never_verify() {
    let v = prop_verifier();
    let seg = |max: usize| proptest::string::string_regex(&format!("[A-Za-z0-9_-]{{0,{max}}}")).unwrap();
    runner(512)
        .run(&(seg(200), seg(600), seg(700)), |(h, p, s)| {
            must_fail(v, &format!("{h}.{p}.{s}"))?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn prop_valid_header_random_payload_and_signature_never_verify() {
    // A well-formed header for the instance key gets the input past step 2: the payload shape or the signature
    // must then refuse it.
    let v = prop_verifier();
    let h = b64json(&header_a());
    let payload = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..300),
        Just(serde_json::to_vec(&claims()).unwrap()),
        "\\{\"sub\":\"[a-z_0-9]{0,20}\",\"exp\":[0-9]{1,12}\\}".prop_map(String::into_bytes),
    ];
    let sig = prop_oneof![prop::collection::vec(any::<u8>(), 1..600), prop::collection::vec(any::<u8>(), 256..=256),];
    runner(512)
        .run(&(payload, sig), |(p, s)| {
            let token = format!("{h}.{}.{}", b64(&p), b64(&s));
            let err = must_fail(v, &token)?;
            prop_assert!(
                matches!(err.reason(), Reason::TokenInvalid | Reason::TokenInvalidSignature),
                "{:?}",
                err.reason()
            );
            Ok(())
        })
        .unwrap();
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
    Swap(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0".to_vec());
    prop_oneof![
        4 => (any::<Index>(), ch.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        2 => (any::<Index>(), ch).prop_map(|(i, c)| Edit::Insert(i, c)),
        2 => any::<Index>().prop_map(Edit::Delete),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => any::<Index>().prop_map(Edit::Swap),
    ]
}

fn apply(token: &str, edits: &[Edit]) -> String {
    let mut b = token.as_bytes().to_vec();
    for e in edits {
        match e {
            Edit::Replace(i, c) if !b.is_empty() => {
                let at = i.index(b.len());
                b[at] = *c;
            }
            Edit::Insert(i, c) => {
                let at = i.index(b.len() + 1);
                b.insert(at, *c);
            }
            Edit::Delete(i) if !b.is_empty() => {
                let at = i.index(b.len());
                b.remove(at);
            }
            Edit::Truncate(i) => {
                let at = i.index(b.len() + 1);
                b.truncate(at);
            }
            Edit::Swap(i) if b.len() >= 2 => {
                let at = i.index(b.len() - 1);
                b.swap(at, at + 1);
            }
            _ => {}
        }
    }
    String::from_utf8(b).unwrap()
}

#[test]
fn prop_mutated_tokens_never_verify_unless_identical() {
    let v = prop_verifier();
    let token = prop_token();
    verify_blocking(v, token).unwrap();
    runner(512)
        .run(&prop::collection::vec(edit(), 1..4), |edits| {
            let mutated = apply(token, &edits);
            if mutated == token {
                prop_assert!(verify_blocking(v, &mutated).is_ok());
            } else {
                must_fail(v, &mutated)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn prop_bit_flips_in_decoded_segments_never_verify() {
    let v = prop_verifier();
    let token = prop_token();
    let (h, p, s) = segments(token);
    let parts = [unb64(h), unb64(p), unb64(s)];
    runner(512)
        .run(&(0..3usize, any::<Index>(), 0..8u8), |(seg, at, bit)| {
            let mut parts = parts.clone();
            let at = at.index(parts[seg].len());
            parts[seg][at] ^= 1 << bit;
            let mutated = format!("{}.{}.{}", b64(&parts[0]), b64(&parts[1]), b64(&parts[2]));
            let err = must_fail(v, &mutated)?;
            if seg == 2 {
                prop_assert_eq!(err.reason(), Reason::TokenInvalidSignature);
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------------------------
// RSA-8192: the largest key size accepted
// ---------------------------------------------------------------------------------------------------------------

/// A throwaway RSA-8192 key (generating one takes tens of seconds, so it is fixed here). TEST ONLY.
const RSA_8192_TEST_KEY: &str = r"-----BEGIN PRIVATE KEY-----
MIISQgIBADANBgkqhkiG9w0BAQEFAASCEiwwghIoAgEAAoIEAQCsQ3WwN1Re6EWP
nMRoFisgAP/eaWHRVXwffzcCXJL5tU0fWxHX6EpsWEPkX1uZd+kdmG74FYyQJqvi
lRs0i5GTXLzP/oXnjvlpwSbuTo3PYeWhwAjPpcZxR/I7+Rs3KR/Bq7gn3Hq1nBSZ
PLgF7ASC3wfc5Z6RlqgRY8amK0ig85DZTTPK2NgXgdLi92Dw7RZrtszTYKCFURfp
QyOt9fmI7mU3sYXVwwncQ2lVeB0nm67R+3MUWjAL+cbSXn9DtRMO/4Fp5Ut3FB2/
J1/hESSMMt3YxS1LXHstHqkcu2vW4bDnLtsT+eivTT+/YUGctnRMxMMWSa2sYuZC
k2hWwbWouDVizMQ3G3qCh7oTgmFf7qNIcIOD79/Jk49ZWWlbBY8gPnMYs8REKyPd
li148eICHeSkgNvezRFkbyTdvzRfEPnCblE/xEQ4X9UI6ZjHG9ze3HuE79JyK5cg
Qdx8lL3Y3RWnUYV4jYwTbhitn8WZYqg+YxT5/JKXWpovuoiyNv2GDBW5JokzoIHf
Z00qRjw7JxdPGuC8HjdD8e0zTk1wM0O+BNBwXdS4YDC7ByS4nB40hlcxAD/N8qs/
cEIcYENWmeVw5PBzJ4W/T9LS1Gp0Ev9U0PClJ6wOpzenDiqQkN+Odzp0qBMSHJw/
lp+3s9HfclcqF0MsJW10WeoORAJihg5IU88KZ+7qnd+0raIiaVSjxhEhJ4Cbfx40
yOvPkgeCtgF5ijv2hj1RP1OqqbpdrKulUT/YI6zPr3IeyYNHv7+steRlQi1xkb7U
IsOlQP61sLWpwqmGCXqPsmwbJR7b6kvbxx/Tz90PhuWYntGNBZpECZlm5WP1txzs
OMyKiHVDcCmigcGKZR/3zDoWW78FRQdKX7Mvpfs4aVyhUBfwAqk0W3GCzE7uGHN1
qdOQ2vQlN7Wd9/zW+uP7DYmlPoUoMWUnOCm8iqXoylOhKNk/AEQFO3jgeJe3pXQC
wGzYd3goYNFYZaP6wekdagqdccy9GKcZPhTFVkKL5vwYv0Qo9CzON5d/IwCa6/mH
JllfiQKVDSflBLXUUTgifbxOKEiPpjCm4ibwm7J2KgVb6ccZR+jVLI0nZGbxAsO/
5yDcZfETqpABv9DrFx8wJzQwk0RYFoWyfGzsbi0spFJlSk5VkBDXOr+COXlUbYIl
NhW4kbaSH8cab3Q4eX3vlG1it1E+7fL6jzWP5dcVSdpxwlKShItz2gk4xbQNpO2B
3JXaKErwFqfn7KN6MO/IKUTngmxXgtE7tqKvK2MQVhYz/xS8mGe74rXThZHP6Ahx
k15fDk5dc1+jVhi2d0dxpSN46Y6HLarScjQNNt1rmwCrumCDopDZYWITJuG+OWbi
lWXRKZIPAgMBAAECggQAKXnupriTuGw9f2gUBCm+RWzoLoF6G2B1S9IiCRAIFVaZ
VKDlSXJ1JOQVqLFrCScNemI+6b2qg/TDswEKtVqbePs9vOjADfJnTBbFDGDelR2x
oAHwPSrhfln/0X/XlS7yJfv2Eabs5rhHX2P2vPpIVchkiMPCq7Q2EEXRSSYnzRUH
/cIwY7lVQkewYpSEg03adaHkbEqaK69MTg4r05FjfRxFQ6UbH85fm+ihPoJ2ppg9
/fIIkdBrPB7uR62X/9Hj3lsXqksaofe2d9V/qN2rSpRexPgowTnpsIHu3uujefAK
W4d1GTi1VSwI2sgMd7KYivlfLYkc52JCpan/V9A5MH/13q2F2uzjUPVkEJl2X5ZC
O0lX6RcC73J3c+Bq1Q8gGHfg14RFD9LBRnOHzFSVAcR3zkH2bo06kE+QdVG5xt/7
+tv79RoJAPfV/9jav6oOQpycovPpXDLxpsMk1twrX8FPmuMue0m9fdom1/sdpSJT
dv39SXmORCH8+Nv1WM+TuEhFnLhSFZuiWYtyUWjqzKVLX/ENRk4SKWphHdbPH2JA
f8qB82QsOR5z7Tw5k7eHMEdeS/6O3kP9Bn+9cz6cSAgy7b05xcgw1FDgZoHdhcgj
MSVDo8hLDZYmeLMY/YjcQt2jNf5X5Sb9WfQmzaDeuem6YfiK5GC4m2igycGHP3g4
9NrBsbRqhrZTUbIX8FsAvpA6+taApygVACmLYZ93r09gO9WiOVOWLbhIm0fE6X5w
HmBnQPNOuQmdnToenYjTdMO8iHT0Div1+MWHRg/QocJwfBaUKlZffP8lkTQiqPcE
CznzPHG1I2go24mGo7LFtevyPCSLovS01DTF64+d3iSMsT9EbTWkve1FItWzvwjz
xoI9lwkZ4aenZxwCB4q2ZeHaQ7qsHTUsRsk6aysrYsR9PfArWq+DOw1pyi7q+EIO
Sw7yJTINFeCc0NRU23oEMPpZUbjJ+qx3+MrydhIf1JE6+cWKMhw6umHrjPwizWUS
ZRrrEDZLAQLKH5HajntBEUOVuGc7BNf3Yk8eZthPDYeab1xwG92uuafYae0uB0Eu
d5pD9o46suwcuPnQ/Ptfgo3HFEN9kXVM/Fs9qg2wP7pq4xqdBDi3yfUeh/nMOq4w
oMmMt0atm4wiYQ9QhOOreNbj6J9T7Hpv7amrz/ZlX/cqKFo2SJcjtiWHoCm5nTzC
7rNxQpAmA+odwhPXgsuoJiYk0RlCkqc7ffHTxBJr717oc72nydHQort/59wSOfGS
jqrpNEofPL5zi9pw58ApFBYzz49EzNEaaIIW7Bzl2v8/YwjQGTMOvgoR8Elp0BWM
chFY7xWKkzZeHbf/iMVyFDdfMYVcc8MQjQ6V77Y7SQKCAgEA5zu1rNhqEfY8wudE
xkFsfsuhkVb0NfC2zy9BG0NsQ0v6m6m6G7DqmiEcyeiaejRviVfICmyrFd9HhrqJ
Yz5hXYf7TQVJ8rwKGCM2W95+rXJuzefQ9UkXt2Arq+831o2DopfP18hXSacXX2CS
guJbiQMnp7fY8kBLFXBINFH+iBYSTliDdNJiHlPR7s6WOQh1tzUPgpnavWWLCzwT
K/SD1zlXCgruTmvl4Bx55Wr9FbjvKZIUmMht3eCC9JwqbZtByuvqXvkIYXVkKGHH
4ByvbyldABgLZqTyfvUstVeSdC6y1X6wiJOXDrlaefZCE2fX3uO+IqV28fUSBv5p
wKXXzRpzrRYhlJ6unff2kOb1s5QnoYPLs6/Se6IbYnnKrTw70fdCiOhvbzJ1YHii
AQbzpEV8sCEJthJVESRFKCuVfyRu33+yoHnB/PbQAHU21AsiYwJ3ZXzoccNUSDzT
NjVYhofRjn7UoIe+Ot3bqk3od9yz2Mip5cpktehyWif+MMRXXNBEl0+TTM0TvA/5
m1hYCug2JEYmOFJbGH/ya9jE9jNm/ju/oRwew1Sgwd6UJraqhwSmdayJCPEY8FCf
MiF/CKhzstcIti8nvyn+0kQRqoDZlZ7gr1vZ6efOR4jG1XjTMPFRbhufTVvD1xCV
9GKFRqVfv0o1JBGNqiQj2ehZOukCggIBAL621QJRCrNIQfZ1JYl2wa66acwpR2i3
/iTij1NQnhd+OGIqiZOt0r2itu4PLi2CAB2DBlbLSVoSGtz2mYDfZjQK7iUgEsNG
9TLTnhn9sM8drraAmkd36p5orgsLvGtSvv+afISoZxG5D9+2j7tN4hKa30wOSNsz
1rPo52K8AYcigZuhiVU8jqjnjo1fn3QUum+nrIyNWLAp0XGQA00vaCxP2KOAlI1h
QDxwd842pgbBfd2eqhevyoVLpdUNWZuI3QijrrmB9ExioPntx6hFTc+ox8MYCKzc
DP7pqMmA1h+26ymHIyTd9Sns1uOZAQUMSAun2LwW+dx2xwTqP2pHb3p0YJZIchRi
h5OsFsNN65Mc2vrsJbPqZtyiirKkIaUmeQhKdSSVyRFRViXCJrPZAWG1R8uI/ldE
kJG0N0KwlNWvwXWLBe1edfIaHJpJpxzMVZwhKwp0v4Ols3V/jN1xHN729lD9XwOE
9mVhRM1U94CFmhnrhlKf/oivtVtCSztgz5wWYQovyLH6641jgIsvpFrQBJI6Vowk
pcK4e0npJZ3LkujLzUw5yQfE3jPbpJt/3ZhR0xJgQ2cxOk3dwur3S/FswZEoSkRX
dnDjPt0S83VC3UoKjjLyrxUdY0AQblsIR6oT6UOjFBN+PBmuYa/G/iScSMUGy7rA
k7BY3ZAwCFo3AoICAAk5+bLO49SZpa0FO1pJzAF3MJgzBwWL+E9mDEwBMbWxt2s0
p4dpVMMXpSVtUZSkuPqa9RFtapox0ZHPqaG7IHlx7pYRKvUziZeS+B1MUHOtSDyR
DmZrJzYa8UMoBWtbNDBtrE5o4QrATw9wNAhi7dIWvSNVE6P+6sANPeRQjT5y2wIj
SAOGTYH2SD8mIRpfewr3ZAoLB45dGeI14HH1jLkuwYlWDFI2vfJmUHrV/Qk72tcm
zAmYncGnrrIB9TNwaXymUzC88ReqbneqByarHljqJprVWscat85XDBSkTOSz5FDe
gD7C3NkqjjCloddSYmuzXKfXQFrBM5nx1thoBadacdkrM+XROxh0h3MatB0ZQUeR
kbQ2xMhIHJ2eTHcDG0PygMYjuCaQtdxGk/hEhb49Q49nkhKgwqIvd072Bj4PfxkN
6Fu83/+u/Xe3NZvaYeHffFIhXMkFSTykqKzWDhU4ICV2bBeHsxB4P8aY2zjFJqv0
vcq8e65CeyWbyOm7O90pNkNvWmpLGIl9fbE0Ijc1MsvZvLasmpPsrwicmqdUP7zP
N4M/Mv8KRmvV7MVqrn06s0Wov8MKk7srDF8ctQvsZMlzCRbz5Lsc+tz6+FV8VLJC
p6Z3nMdXh4SVMZHdA1hFmMEy+vVEPxk6wTECKV07RgnE9T/eL2/lh0Svn7fZAoIC
AQClbRQBaWidsIy/CkhgH6nLNRl2JUwysn55YigufZxUBoFD7V/ewIUvRwfkITjN
8pjFAJUsDjN3NIMmraTjG2ScuepuO47q4g7oYpUeOGb4kOeumIi6e3MAqw5kuG5c
ra7NKiTeMPEOd3ckd0ffkaQKvVn5r95UfXe8IMcsZqXwoObJp2nnjJq2Ofz19j7q
wtwg49GRLT4DuJJbLi8e8YMsBKqG0I6KwBOnGWtibRbAf2/9H5as6ygBTWfwER9s
AWCxEMILWYUeCONXR4DLHipreRylxqAnyMxhBS8Kcn3JjrIXGIhMf1ccYbrYOyye
Q1PvAE3IgSmEqWbihYoyVvqEvpPVZ8vEkN7HIhuwl1NDDWGJC/N8R1OoCDnE0Qf6
KBAON/+6l06Mff/6ypkloZNIPKWlEBSGgAvixu60I1VGsahenBOtHSWztiCfWEnj
ef68aizaagCBYebzgYsfvfDsGk34XH7hH6FWuPOkJBJ34euUli6yVuPDjp4CJdP6
EnSjEOplmqM8dsmBoBCtKssmlo+Qg5f1AgjiiYEv0FN3t1CcK8PNXcZZvdN8KgZz
d4swh7FNnEB7L0FCr5xWkeHG7a5NiiQ5eaBcNVGfE8QoL7Khedx0pvtlllM0C8yd
m+YFyjWpHLjaW8IoCJHllfd2rDWW6dkoCclRyxOM8Y0dKwKCAgAr+2duIAp/AGhp
Ae0iQEHRYszy1vpfCxWkZczMeZGkEPz43NneNnw0PzE7BbIt7zp2Xdpp8NdNheb7
vVPIWXxINGp6Om6Zf4ReWNPEqgGyKXIXp3CdSFkhBM2jRh0bd8TTdcP2biHM43PT
JfGEaXnGedZOEN9osMrswEDq3xyyzqhKNzb5fz8bp4KKsxUxJsOOk986jT3jTVsI
VqgT+KCOigbkZ6bgDFbE3MRIQSBKQZcsxDMXwEs9cCwoxZ5w7Xy5I9v22RtQyOrS
pSux4yCayipaPjvIJLsitoxcSlu1wgWeq+pPBHRC+BRhyoGM1qFpiCoQUQWsXXiu
Vq7wNmr96KodwH3NJD94hesBMr73nsFbDXj4V/5SUOehMWWZ5m/AqR5cOsJ1nT+u
yDZn76A1VmW0JGaLWnAjxm/q3POX9PN2WpR/0D1gJ1m0F8jr8Vs74TutSyS625ul
aeUNmjuanwGjgUSx9GNINV+O3hBN0IXyuFEaATLFB1iu2inrGyYL46V6NVYktpaq
2K+HmtTDanA2lnPcGWvi5fG5rYRT7U92IJ23kLNGSfEBLDYgPVlsjEqgifaxWeiV
OedCfMAlrzw+8GdIfXzwxQzDDvHalZADby+QqvECBsAHbJDsea/doJVcPc9GcCuA
TpLVM3sxYc/SGtyeQNmxNFU5UStb+g==
-----END PRIVATE KEY-----";

fn key_8192() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| TestKey::from_private_pem("ins_test_8192", RSA_8192_TEST_KEY.as_bytes(), 8192))
}

#[tokio::test]
async fn rsa_8192_tokens_verify_and_tampering_is_detected() {
    let k = key_8192();
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().clock(clock()).build().unwrap();
    let token = k.sign(&claims());
    let (h, p, s) = segments(&token);
    assert_eq!(unb64(s).len(), 1024);
    expect_ok(&v, &token).await;
    let mut sig = unb64(s);
    sig[1023] ^= 1;
    expect_reason(&v, &format!("{h}.{p}.{}", b64(&sig)), Reason::TokenInvalidSignature).await;
    let pem = Verifier::builder().jwt_key(&k.public_pem).unwrap().clock(clock()).build().unwrap();
    expect_ok(&pem, &token).await;
}

#[tokio::test]

async fn rsa_8192_signature_with_extra_bytes_is_refused() {
    let k = key_8192();
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().clock(clock()).build().unwrap();
    let token = k.sign(&claims());
    expect_ok(&v, &token).await;
    let (h, p, s) = segments(&token);
    let sig = unb64(s);
    // A different token string (one or two extra signature bytes) must not verify.
    let mut forged = vec![format!("{token}A"), format!("{token}AA")];
    for extra in [&[0u8][..], &[0xff], &[0x12, 0x34]] {
        forged.push(format!("{h}.{p}.{}", b64([&sig[..], extra].concat())));
    }
    let mut accepted = Vec::new();
    for (i, f) in forged.iter().enumerate() {
        assert_ne!(f, &token);
        match v.verify(f).await {
            Ok(_) => accepted.push(i),
            Err(err) => assert!(
                matches!(err.reason(), Reason::TokenInvalidSignature | Reason::TokenInvalid),
                "{err} ({:?})",
                err.reason()
            ),
        }
    }
    assert!(accepted.is_empty(), "forged variants {accepted:?} of {} verified", forged.len());
}
