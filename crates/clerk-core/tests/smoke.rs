//! End-to-end smoke tests: tokens minted with josekit verified by clerk-core, networkless and over loopback HTTP.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use clerk_core::{Check, Reason, Verifier};
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

    let v = Verifier::builder().jwt_key(&k.public_pem).unwrap().build().unwrap();
    assert!(v.verify(&token).await.is_ok());

    let other = key_b().sign(&session_claims(now_secs()));
    let v = Verifier::builder().jwt_key(&k.public_pem).unwrap().build().unwrap();
    assert_eq!(v.verify(&other).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
}

#[tokio::test]
async fn verifies_over_loopback_backend_api() {
    let k = key_a();
    let server = JwksServer::start(Mode::Jwks(k.jwks())).await;
    let v =
        Verifier::builder().secret_key("sk_test_loopback").unwrap().api_url(&server.url()).unwrap().build().unwrap();
    let token = k.sign(&session_claims(now_secs()));
    let auth = v.verify(&token).await.unwrap();
    assert_eq!(auth.session_id().unwrap(), "sess_2bVftP1rQemOu4CPj9999999999");
    assert_eq!(server.hits(), 1);
    assert_eq!(server.last_auth.lock().unwrap().as_deref(), Some("Bearer sk_test_loopback"));
    // Second verification: no new fetch.
    v.verify(&k.sign(&session_claims(now_secs()))).await.unwrap();
    assert_eq!(server.hits(), 1);
}
