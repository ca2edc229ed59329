//! clerk-core accepts the emulator's keys and tokens unchanged, over real loopback HTTP.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use clerk_core::{Check, Reason, Verifier};
use clerk_testing::{ClaimsVersion, Emulator};

#[tokio::test]
async fn backend_api_frontend_api_and_pem_all_verify() {
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("ada@example.com").unwrap();
    let token =
        clerk.session_token(&user).unwrap().organization("org_1", "acme", "admin", &["org:reports:read"]).mint();

    let bapi =
        Verifier::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let auth = bapi.verify(&token).await.unwrap();
    assert_eq!(auth.user_id(), user.as_str());
    assert!(auth.has(Check::Role("org:admin")));
    assert!(auth.has(Check::Permission("org:reports:read")));
    assert_eq!(clerk.request_count("/v1/jwks"), 1);

    let fapi = Verifier::builder().jwks_url(&clerk.jwks_url()).unwrap().build().unwrap();
    fapi.verify(&token).await.unwrap();
    assert_eq!(clerk.request_count("/.well-known/jwks.json"), 1);

    let pem = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    pem.verify(&token).await.unwrap();

    // The publishable key names the emulator as Frontend API.
    let pk = Verifier::builder().publishable_key(clerk.publishable_key()).unwrap().build().unwrap();
    pk.verify(&token).await.unwrap();
}

#[tokio::test]
async fn helper_tokens_fail_with_the_right_reason() {
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("bob@example.com").unwrap();
    let v = Verifier::builder()
        .jwt_key(&clerk.jwt_public_key())
        .unwrap()
        .authorized_parties(["http://localhost:3000"])
        .build()
        .unwrap();
    let t = |b: clerk_testing::TokenBuilder| b.mint();
    let tb = || clerk.session_token(&user).unwrap();
    assert!(v.verify(&t(tb())).await.is_ok());
    assert!(v.verify(&t(tb().version(ClaimsVersion::V1))).await.is_ok());
    assert_eq!(v.verify(&t(tb().expired(Duration::from_secs(60)))).await.unwrap_err().reason(), Reason::TokenExpired);
    assert_eq!(
        v.verify(&t(tb().not_yet_valid(Duration::from_secs(120)))).await.unwrap_err().reason(),
        Reason::TokenNotActiveYet
    );
    assert_eq!(
        v.verify(&t(tb().authorized_party("https://evil.example"))).await.unwrap_err().reason(),
        Reason::TokenInvalidAuthorizedParties
    );
    assert_eq!(
        v.verify(&t(tb().signed_by(clerk.foreign_key().unwrap()))).await.unwrap_err().reason(),
        Reason::TokenInvalidSignature
    );
    assert_eq!(v.verify(&t(tb().m2m_category())).await.unwrap_err().reason(), Reason::TokenTypeMismatch);
    assert_eq!(v.verify(&t(tb().pending())).await.unwrap_err().reason(), Reason::SessionTokenPending);
    let a = v.verify(&t(tb().actor("user_admin"))).await.unwrap();
    assert_eq!(a.actor().unwrap().sub, "user_admin");
}
