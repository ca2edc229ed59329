//! Machine authentication through clerk-core's `Authenticator` and this client, against the emulator over loopback: every kind (API key,
//! M2M opaque and JWT, OAuth opaque and JWT) accepted where configured and refused elsewhere without a single request;
//! revocation biting on the next request (no positive cache); the negative cache; outages answered 503.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use clerk_api::{Client, MachineVerifyError, RetryPolicy};
use clerk_core::{
    Authenticator, Failure, FetchUser, Reason, TokenFormat, TokenOrigin, TokenType, TokenTypes, Verifier,
};
use clerk_testing::{Emulator, Fault, MachineTokenFormat};
use serde_json::json;

const API_KEY_VERIFY: &str = "/v1/api_keys/verify";
const M2M_VERIFY: &str = "/v1/m2m_tokens/verify";
const OAUTH_VERIFY: &str = "/v1/oauth_applications/access_tokens/verify";

fn bearer(token: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h
}

fn cookie(token: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("cookie", format!("__session={token}").parse().unwrap());
    h
}

fn client_with_key(clerk: &Emulator, secret_key: &str) -> Client {
    Client::builder()
        .secret_key(secret_key)
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn client(clerk: &Emulator) -> Client {
    client_with_key(clerk, clerk.secret_key())
}

const MISMATCH: Failure = Failure::Token(Reason::TokenTypeMismatch);
const INVALID: Failure = Failure::Token(Reason::TokenInvalid);

/// One token of every kind, with its id.
struct Tokens {
    user: String,
    machine: String,
    session: String,
    api_key: (String, String),
    m2m_opaque: (String, String),
    m2m_jwt: (String, String),
    oauth_opaque: (String, String),
    oauth_jwt: (String, String),
}

impl Tokens {
    fn mint(clerk: &Emulator) -> Self {
        let user = clerk.create_user("machines@example.com").unwrap();
        let (machine, _) = clerk.create_machine("worker").unwrap();
        let (other, _) = clerk.create_machine("reports").unwrap();
        Self {
            session: clerk.session_token(&user).unwrap().mint(),
            api_key: clerk.create_api_key(&user, &["read", "write"]).unwrap(),
            m2m_opaque: clerk.m2m_token(&machine, &[&other], MachineTokenFormat::Opaque).unwrap(),
            m2m_jwt: clerk.m2m_token(&machine, &[&other], MachineTokenFormat::Jwt).unwrap(),
            oauth_opaque: clerk.oauth_access_token(&user, &["email"], MachineTokenFormat::Opaque).unwrap(),
            oauth_jwt: clerk.oauth_access_token(&user, &["email"], MachineTokenFormat::Jwt).unwrap(),
            user,
            machine,
        }
    }

    fn machine_tokens(&self) -> [(TokenType, TokenFormat, &(String, String)); 5] {
        [
            (TokenType::ApiKey, TokenFormat::Opaque, &self.api_key),
            (TokenType::M2mToken, TokenFormat::Opaque, &self.m2m_opaque),
            (TokenType::M2mToken, TokenFormat::Jwt, &self.m2m_jwt),
            (TokenType::OAuthToken, TokenFormat::Opaque, &self.oauth_opaque),
            (TokenType::OAuthToken, TokenFormat::Jwt, &self.oauth_jwt),
        ]
    }
}

#[tokio::test]
async fn every_kind_is_accepted_where_configured() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let auth = client(&clerk).authenticator().unwrap().accepts(TokenTypes::ALL).build().unwrap();
    assert_eq!(auth.accepted_types(), TokenTypes::ALL);

    for (kind, format, (id, token)) in t.machine_tokens() {
        let a = auth.authenticate(&bearer(token)).await.unwrap().unwrap();
        assert_eq!(a.token_type(), kind, "{kind} {format:?}");
        assert!(a.session().is_none() && a.user().is_none());
        assert_eq!(a.origin(), TokenOrigin::Header);
        let m = a.machine().unwrap();
        assert_eq!((m.token_type(), m.format(), m.id()), (kind, format, id.as_str()));
        match kind {
            TokenType::ApiKey => {
                assert_eq!(m.user_id().unwrap(), t.user.as_str());
                assert_eq!(m.scopes(), ["read", "write"]);
                assert_eq!(m.name(), Some("emulator-api-key"));
            }
            TokenType::M2mToken => assert_eq!(m.machine_id().unwrap(), t.machine.as_str()),
            _ => {
                assert_eq!(m.user_id().unwrap(), t.user.as_str());
                assert_eq!(m.scopes(), ["email"]);
                assert!(m.client_id().is_some());
            }
        }
        assert!(!format!("{a:?}").contains(token.as_str()), "Debug never shows the token");
    }
    // Opaque tokens asked the Backend API, JWTs did not.
    assert_eq!(clerk.request_count(API_KEY_VERIFY), 1);
    assert_eq!(clerk.request_count(M2M_VERIFY), 1);
    assert_eq!(clerk.request_count(OAUTH_VERIFY), 1);

    // Session tokens keep working, with the user fetch for them only.
    let fetching =
        client(&clerk).authenticator().unwrap().accepts(TokenTypes::ALL).fetch_user(FetchUser::Always).build().unwrap();
    let a = fetching.authenticate(&bearer(&t.session)).await.unwrap().unwrap();
    assert_eq!(a.token_type(), TokenType::SessionToken);
    assert_eq!(a.session().unwrap().user_id().as_str(), t.user);
    assert!(a.user().is_some() && a.machine().is_none());
    let a = fetching.authenticate(&bearer(&t.api_key.1)).await.unwrap().unwrap();
    assert!(a.user().is_none(), "no user fetch for machine tokens");
}

#[tokio::test]
async fn kinds_not_accepted_are_refused_without_a_request() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let session_only = client(&clerk).authenticator().unwrap().build().unwrap();
    assert_eq!(session_only.accepted_types(), TokenTypes::SESSION);
    clerk.clear_requests();
    for (kind, _, (_, token)) in t.machine_tokens() {
        assert_eq!(session_only.authenticate(&bearer(token)).await.unwrap_err(), MISMATCH, "{kind}");
    }
    // Machine-only: a session token is the mismatch.
    let machine_only = session_only.accepting(TokenTypes::MACHINE);
    assert_eq!(machine_only.authenticate(&bearer(&t.session)).await.unwrap_err(), MISMATCH);
    assert_eq!(machine_only.authenticate(&bearer("not-a-token")).await.unwrap_err(), MISMATCH);
    // API keys only: every other kind is refused.
    let api_keys = session_only.accepting(TokenTypes::only(TokenType::ApiKey));
    for (kind, _, (_, token)) in t.machine_tokens().into_iter().filter(|(k, _, _)| *k != TokenType::ApiKey) {
        assert_eq!(api_keys.authenticate(&bearer(token)).await.unwrap_err(), MISMATCH, "{kind}");
    }
    let m2m_only = session_only.accepting(TokenTypes::SESSION.with(TokenType::M2mToken));
    assert_eq!(m2m_only.authenticate(&bearer(&t.oauth_jwt.1)).await.unwrap_err(), MISMATCH);
    assert!(clerk.requests().is_empty(), "no key fetch, no verification call: {:?}", clerk.requests());

    // The same authenticators accept what they list.
    assert!(api_keys.authenticate(&bearer(&t.api_key.1)).await.unwrap().is_some());
    assert!(m2m_only.authenticate(&bearer(&t.m2m_jwt.1)).await.unwrap().is_some());
    assert!(m2m_only.authenticate(&bearer(&t.session)).await.unwrap().is_some());
}

#[tokio::test]
async fn machine_tokens_come_from_the_header_only() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let all = client(&clerk).authenticator().unwrap().accepts(TokenTypes::ALL).build().unwrap();
    clerk.clear_requests();
    // In a cookie, a machine token is a session token, and fails as one.
    assert_eq!(all.authenticate(&cookie(&t.api_key.1)).await.unwrap_err(), INVALID);
    assert_eq!(all.authenticate(&cookie(&t.m2m_jwt.1)).await.unwrap_err(), MISMATCH);
    assert!(clerk.requests().is_empty());
    // A machine-only endpoint does not read cookies at all: signed out.
    let machine_only = all.accepting(TokenTypes::MACHINE);
    assert!(machine_only.authenticate(&cookie(&t.session)).await.unwrap().is_none());
    assert!(machine_only.authenticate(&http::HeaderMap::new()).await.unwrap().is_none());
    // The session cookie still works where sessions are accepted.
    let a = all.authenticate(&cookie(&t.session)).await.unwrap().unwrap();
    assert_eq!(a.origin(), TokenOrigin::Cookie);
    // Unreadable credentials stay `token-invalid`.
    let mut bad = http::HeaderMap::new();
    bad.insert("authorization", "Bearer".parse().unwrap());
    assert_eq!(machine_only.authenticate(&bad).await.unwrap_err().reason(), INVALID.reason());
}

#[tokio::test]
async fn revocation_bites_on_the_next_request() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let auth = client(&clerk).authenticator().unwrap().accepts(TokenTypes::MACHINE).build().unwrap();
    for ((id, token), path) in
        [(&t.api_key, API_KEY_VERIFY), (&t.m2m_opaque, M2M_VERIFY), (&t.oauth_opaque, OAUTH_VERIFY)]
    {
        for _ in 0..3 {
            auth.authenticate(&bearer(token)).await.unwrap().unwrap();
        }
        assert_eq!(clerk.request_count(path), 3, "every request asks the Backend API: no positive cache");
        clerk.revoke_machine_token(id).unwrap();
        assert_eq!(auth.authenticate(&bearer(token)).await.unwrap_err(), INVALID);
        assert_eq!(clerk.request_count(path), 4);
    }
    // Expired, and unknown.
    let (id, key) = clerk.create_api_key(&t.user, &[]).unwrap();
    auth.authenticate(&bearer(&key)).await.unwrap().unwrap();
    clerk.expire_machine_token(&id).unwrap();
    assert_eq!(auth.authenticate(&bearer(&key)).await.unwrap_err(), INVALID);
    assert_eq!(auth.authenticate(&bearer("ak_made_up")).await.unwrap_err(), INVALID);
    // JWT forms are judged by their signature and `exp`.
    let expired =
        clerk.session_token(&t.user).unwrap().claim("sub", json!(t.machine)).expired(Duration::from_secs(60)).mint();
    let expected = Failure::Token(Reason::TokenExpired);
    assert_eq!(auth.authenticate(&bearer(&expired)).await.unwrap_err(), expected);
    let forged =
        clerk.session_token(&t.user).unwrap().header("typ", json!("at+jwt")).signed_by(clerk.foreign_key().unwrap());
    let expected = Failure::Token(Reason::TokenInvalidSignature);
    assert_eq!(auth.authenticate(&bearer(&forged.mint())).await.unwrap_err(), expected);
}

#[tokio::test]
async fn the_negative_cache_spares_the_backend_api() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let cached = client(&clerk)
        .authenticator()
        .unwrap()
        .accepts(TokenTypes::MACHINE)
        .machine_negative_cache(100, Duration::from_secs(60))
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(cached.authenticate(&bearer("ak_bogus")).await.unwrap_err(), INVALID);
    }
    assert_eq!(clerk.request_count(API_KEY_VERIFY), 1);
    assert_eq!(cached.machine_negative_cache_len(), 1);
    // Shared by per-route copies.
    let api_only = cached.accepting(TokenTypes::only(TokenType::ApiKey));
    assert_eq!(api_only.authenticate(&bearer("ak_bogus")).await.unwrap_err(), INVALID);
    assert_eq!(clerk.request_count(API_KEY_VERIFY), 1);
    // A revoked token joins the cache; valid tokens never do.
    cached.authenticate(&bearer(&t.m2m_opaque.1)).await.unwrap().unwrap();
    assert_eq!(cached.machine_negative_cache_len(), 1);
    clerk.revoke_machine_token(&t.m2m_opaque.0).unwrap();
    assert_eq!(cached.authenticate(&bearer(&t.m2m_opaque.1)).await.unwrap_err(), INVALID);
    assert_eq!(cached.authenticate(&bearer(&t.m2m_opaque.1)).await.unwrap_err(), INVALID);
    assert_eq!(clerk.request_count(M2M_VERIFY), 2);
    assert_eq!(cached.machine_negative_cache_len(), 2);

    // Without the cache (the default), every refusal asks again.
    let uncached = client(&clerk).authenticator().unwrap().accepts(TokenTypes::MACHINE).build().unwrap();
    uncached.authenticate(&bearer("ak_bogus")).await.unwrap_err();
    uncached.authenticate(&bearer("ak_bogus")).await.unwrap_err();
    assert_eq!(clerk.request_count(API_KEY_VERIFY), 3);
    assert_eq!(uncached.machine_negative_cache_len(), 0);

    // Long TTLs are refused.
    let long = client(&clerk).authenticator().unwrap().machine_negative_cache(10, Duration::from_secs(3600));
    assert!(long.build().is_err());
}

#[tokio::test]
async fn outages_are_503_and_are_not_cached() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let auth = client(&clerk)
        .authenticator()
        .unwrap()
        .accepts(TokenTypes::MACHINE)
        .machine_negative_cache(100, Duration::from_secs(60))
        .build()
        .unwrap();
    let unexpected = Failure::MachineTokenUnavailable { code: "unexpected-error" };
    clerk.faults().inject_times("verifyApiKey", Fault::Status(503), 1);
    assert_eq!(auth.authenticate(&bearer(&t.api_key.1)).await.unwrap_err(), unexpected);
    clerk.faults().inject_times("verifyM2MToken", Fault::DropConnection, 1);
    assert_eq!(auth.authenticate(&bearer(&t.m2m_opaque.1)).await.unwrap_err(), unexpected);
    clerk.faults().inject_times("verifyOAuthAccessToken", Fault::RateLimited { retry_after_secs: 1 }, 1);
    assert_eq!(auth.authenticate(&bearer(&t.oauth_opaque.1)).await.unwrap_err(), unexpected);
    clerk.faults().inject_times("verifyApiKey", Fault::MalformedBody, 1);
    assert_eq!(auth.authenticate(&bearer(&t.api_key.1)).await.unwrap_err(), unexpected);
    assert_eq!(auth.machine_negative_cache_len(), 0, "an outage says nothing about the token");
    // Back up: accepted.
    assert!(auth.authenticate(&bearer(&t.api_key.1)).await.unwrap().is_some());

    // A secret key Clerk refuses is our configuration problem, not the caller's bad token.
    let wrong = client_with_key(&clerk, "sk_test_wrongwrongwrongwrongwrongwrongwrongwr");
    let auth = Authenticator::builder()
        .verifier(Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap())
        .backend_api(wrong)
        .accepts(TokenTypes::MACHINE)
        .build()
        .unwrap();
    let expected = Failure::MachineTokenUnavailable { code: "secret-key-invalid" };
    assert_eq!(auth.authenticate(&bearer(&t.api_key.1)).await.unwrap_err(), expected);

    // Machine JWTs while the keys cannot be loaded: 503 too.
    let fresh = client(&clerk).authenticator().unwrap().accepts(TokenTypes::ALL).build().unwrap();
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    let expected = Failure::KeysUnavailable(Reason::JwkRemoteFailedToLoad);
    assert_eq!(fresh.authenticate(&bearer(&t.m2m_jwt.1)).await.unwrap_err(), expected);

    // No client: opaque tokens cannot be verified; JWTs still can.
    let verifier_only = Authenticator::builder()
        .verifier(Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap())
        .accepts(TokenTypes::MACHINE)
        .build()
        .unwrap();
    let expected = Failure::NoBackendApi;
    assert_eq!(verifier_only.authenticate(&bearer(&t.api_key.1)).await.unwrap_err(), expected);
    assert!(verifier_only.authenticate(&bearer(&t.oauth_jwt.1)).await.unwrap().is_some());
}

#[tokio::test]
async fn the_client_verifies_opaque_tokens() {
    let clerk = Emulator::start().await.unwrap();
    let t = Tokens::mint(&clerk);
    let c = client(&clerk);
    let a = c.verify_machine_token(&t.api_key.1).await.unwrap();
    assert_eq!((a.token_type(), a.format(), a.id()), (TokenType::ApiKey, TokenFormat::Opaque, t.api_key.0.as_str()));
    assert_eq!(a.raw()["object"], "api_key");
    assert!(a.expires_at_ms().is_none());
    let m = c.verify_machine_token(&t.m2m_opaque.1).await.unwrap();
    assert!(m.expires_at_ms().is_some_and(|e| e > 0));
    assert_eq!(m.raw()["object"], "machine_to_machine_token");
    let o = c.verify_machine_token(&t.oauth_opaque.1).await.unwrap();
    assert_eq!(o.raw()["object"], "clerk_idp_oauth_access_token");

    let e = c.verify_machine_token(&t.session).await.unwrap_err();
    assert!(matches!(e, MachineVerifyError::NotOpaque) && e.is_invalid());
    let e = c.verify_machine_token("oat_unknown").await.unwrap_err();
    assert!(matches!(e, MachineVerifyError::Invalid { token_type: TokenType::OAuthToken }));
    assert_eq!(e.code(), "token-invalid");
    clerk.faults().inject_times("verifyM2MToken", Fault::Status(500), 1);
    let e = c.verify_machine_token(&t.m2m_opaque.1).await.unwrap_err();
    assert!(matches!(e, MachineVerifyError::Unavailable(_)) && !e.is_invalid());
    assert_eq!(e.code(), "unexpected-error");
    assert!(!e.to_string().contains(&t.m2m_opaque.1));
}
