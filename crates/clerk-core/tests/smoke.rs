//! End-to-end smoke tests: tokens minted with josekit (and by the `clerk-testing` emulator) verified by clerk-core,
//! networkless and over loopback HTTP against the emulator.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::time::Duration;

use base64::Engine as _;

use clerk_core::{Check, IssuerCheck, Reason, Verifier};
use clerk_testing::Emulator;
use support::*;

#[tokio::test]
async fn verifies_a_josekit_token_with_static_jwks_and_pem() {
    let k = key_a();
    let token = k.sign(&session_claims(now_secs()));
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().build().unwrap();
    let auth = v.verify(&token).await.unwrap();
    assert_eq!(auth.user_id(), "user_2bVftRtFezPdchfaz9999999999");
    assert_eq!(auth.org_role(), Some("org:admin"));
    assert!(auth.has(Check::Permission("org:projects:revoke")));
    assert_eq!(auth.token(), token);
    // The payload exactly as signed (the auth object keeps it behind the token, in one buffer).
    let payload = token.split('.').nth(1).unwrap();
    assert_eq!(auth.raw_claims(), base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap());
    assert_eq!(auth.claims()["sid"], "sess_2bVftP1rQemOu4CPj9999999999");

    let v = Verifier::builder().jwt_key(&k.public_pem).unwrap().build().unwrap();
    assert!(v.verify(&token).await.is_ok());

    let other = key_b().sign(&session_claims(now_secs()));
    let v = Verifier::builder().jwt_key(&k.public_pem).unwrap().build().unwrap();
    assert_eq!(v.verify(&other).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
}

/// The plain-shaped payloads Clerk issues are read by clerk-core's own claims reader; anything else (escapes, line
/// breaks, fractional dates) by serde_json. Both must give the same auth object.
#[tokio::test]
async fn payloads_outside_the_plain_shape_verify_the_same() {
    let k = key_a();
    let now = now_secs();
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().build().unwrap();
    let header = serde_json::json!({"alg": "RS256", "kid": k.kid, "typ": "JWT"});
    let claims = session_claims(now);
    let plain = v.verify(&k.sign(&claims)).await.unwrap();

    let mut escaped = claims.clone();
    escaped["note"] = "say \"hi\"\n".into();
    let pretty = serde_json::to_vec_pretty(&claims).unwrap();
    let mut fractional = claims.clone();
    fractional["exp"] = serde_json::json!(now as f64 + 60.5);
    let mut unicode_escape = serde_json::to_string(&claims).unwrap();
    unicode_escape = unicode_escape.replace("\"sts\":\"active\"", "\"sts\":\"\\u0061ctive\"");
    assert!(unicode_escape.contains(r#""sts":"\u0061ctive""#));
    for (what, token) in [
        ("escaped custom claim", k.sign(&escaped)),
        ("pretty-printed", k.sign_bytes(&header, &pretty)),
        ("fractional exp", k.sign(&fractional)),
        ("\\u escape in sts", k.sign_bytes(&header, unicode_escape.as_bytes())),
    ] {
        let auth = v.verify(&token).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(auth.user_id(), plain.user_id(), "{what}");
        assert_eq!(auth.session_id(), plain.session_id(), "{what}");
        assert_eq!(auth.session_status(), plain.session_status(), "{what}");
        assert_eq!(auth.organization(), plain.organization(), "{what}");
        assert_eq!(auth.features(), plain.features(), "{what}");
        assert_eq!(auth.factor_verification_age(), plain.factor_verification_age(), "{what}");
        assert_eq!(auth.authorized_party(), plain.authorized_party(), "{what}");
        assert_eq!(auth.issued_at(), plain.issued_at(), "{what}");
    }
    let auth = v.verify(&k.sign(&fractional)).await.unwrap();
    assert_eq!(auth.expires_at(), now + 60, "a fractional exp floors to the second");
    // A duplicate claim is refused whichever reader sees it first.
    let dup = serde_json::to_string(&claims).unwrap().replacen('{', r#"{"sub":"user_other","#, 1);
    let err = v.verify(&k.sign_bytes(&header, dup.as_bytes())).await.unwrap_err();
    assert_eq!(err.reason(), Reason::TokenVerificationFailed);
}

#[tokio::test]
async fn verifies_over_loopback_backend_api() {
    let k = key_a();
    let clerk = emulator(k).await;
    let v =
        Verifier::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let token = k.sign(&session_claims(now_secs()));
    let auth = v.verify(&token).await.unwrap();
    assert_eq!(auth.session_id().unwrap(), "sess_2bVftP1rQemOu4CPj9999999999");
    assert_eq!(clerk.request_count(BACKEND_JWKS), 1);
    // The emulator answers `/v1/jwks` only to `Bearer <its secret key>` (else 401): the 200 proves it was sent.
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [200]);
    assert_eq!(clerk.requests().len(), 1, "only the JWKS was requested");
    // Second verification: no new fetch.
    v.verify(&k.sign(&session_claims(now_secs()))).await.unwrap();
    assert_eq!(clerk.request_count(BACKEND_JWKS), 1);
}

/// Tokens the emulator mints (its own key, its own claims) verify through each of the emulator's key sources, and
/// the official SDKs' refusals come out with their reason codes.
#[tokio::test]
async fn verifies_emulator_minted_tokens_from_every_key_source() {
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("ada@example.com").unwrap();
    let builder = clerk.session_token(&user).unwrap().organization("org_1", "acme", "admin", &["org:projects:read"]);
    let claims = builder.claims();
    let token = builder.mint();

    // Backend API (secret key).
    let backend =
        Verifier::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let auth = backend.verify(&token).await.unwrap();
    assert_eq!(auth.user_id().as_str(), user);
    assert_eq!(Some(auth.session_id().unwrap().as_str()), claims["sid"].as_str());
    assert_eq!(auth.org_role(), Some("org:admin"));
    assert!(auth.has(Check::Permission("org:projects:read")));
    assert!(!auth.has(Check::Permission("org:projects:delete")));
    assert_eq!(backend.loaded_kids(), vec![clerk.instance_id().to_owned()]);

    // Frontend API (publishable key only), with the issuer derived from the publishable key.
    let frontend = Verifier::builder()
        .publishable_key(clerk.publishable_key())
        .unwrap()
        .issuer(IssuerCheck::Derived)
        .authorized_parties(["http://localhost:3000"])
        .build()
        .unwrap();
    assert_eq!(frontend.verify(&token).await.unwrap().user_id().as_str(), user);

    // Networkless, with the JWT public key.
    let pem = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    assert_eq!(pem.verify(&token).await.unwrap().user_id().as_str(), user);

    assert_eq!(clerk.request_count(BACKEND_JWKS), 1);
    assert_eq!(clerk.request_count(FRONTEND_JWKS), 1);

    // Refusals.
    let expired = clerk.session_token(&user).unwrap().expired(Duration::from_secs(600)).mint();
    assert_eq!(backend.verify(&expired).await.unwrap_err().reason(), Reason::TokenExpired);
    let wrong_azp = clerk.session_token(&user).unwrap().authorized_party("https://evil.example.net").mint();
    assert_eq!(frontend.verify(&wrong_azp).await.unwrap_err().reason(), Reason::TokenInvalidAuthorizedParties);
    let forged = clerk.session_token(&user).unwrap().signed_by(clerk.foreign_key().unwrap()).mint();
    assert_eq!(backend.verify(&forged).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
    assert_eq!(pem.verify(&forged).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
    // None of them cost a fetch.
    assert_eq!(clerk.request_count(BACKEND_JWKS), 1);
    assert_eq!(clerk.request_count(FRONTEND_JWKS), 1);

    // A secret key the instance does not know: the emulator answers 401, the verifier says so.
    let wrong_key = Verifier::builder()
        .secret_key("sk_test_not_this_instance")
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(wrong_key.verify(&token).await.unwrap_err().reason(), Reason::SecretKeyInvalid);
    assert_eq!(statuses(&clerk, BACKEND_JWKS), [200, 401]);
}

/// The middlewares box one `verify` future per request: it holds almost nothing across its only await (key
/// loading, itself boxed), so it stays small. A regression here (a decode buffer or the claims held across the
/// await) makes every request move kilobytes.
#[test]
fn the_verify_future_is_small() {
    let k = key_a();
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().build().unwrap();
    let size = std::mem::size_of_val(&v.verify("a.b.c"));
    assert!(size <= 256, "Verifier::verify's future is {size} bytes");
    // The machine-JWT path has the same structure: its decode buffers (~1.2 KB) never live in the future.
    let size = std::mem::size_of_val(&v.verify_machine_jwt("a.b.c"));
    assert!(size <= 256, "Verifier::verify_machine_jwt's future is {size} bytes");
}

/// With the `native-roots` feature the default transport trusts the platform's store (or falls back to the
/// compiled-in roots) and still carries requests.
#[cfg(feature = "native-roots")]
#[tokio::test]
async fn the_default_transport_builds_with_native_roots() {
    use clerk_core::HttpTransport as _;
    let clerk = clerk_testing::Emulator::start().await.unwrap();
    let transport = clerk_core::HyperTransport::new().unwrap();
    let request = http::Request::get(format!("{}/v1/jwks", clerk.api_url()))
        .header("authorization", format!("Bearer {}", clerk.secret_key()))
        .body(bytes::Bytes::new())
        .unwrap();
    assert_eq!(transport.send(request).await.unwrap().status(), 200);
}
