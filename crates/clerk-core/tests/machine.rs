//! Machine tokens: classification ([`TokenType::of`]) on good and hostile input, M2M and OAuth JWTs verified against
//! the emulator's keys, and the type confusions both ways (session ↔ machine). Tokens come from the `clerk-testing`
//! emulator: its machine helpers and its `TokenBuilder` (josekit, independent of the verifier).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_core::{MachineAuth, Reason, TokenFormat, TokenType, TokenTypes, Verifier};
use clerk_testing::{CAT_M2M, Emulator, MachineTokenFormat};
use proptest::prelude::*;
use serde_json::{Value, json};

const JWKS: &str = "/v1/jwks";

struct Setup {
    clerk: Emulator,
    user: String,
    machine: String,
    verifier: Verifier,
}

async fn setup() -> Setup {
    let clerk = Emulator::start().await.unwrap();
    let user = clerk.create_user("machine@example.com").unwrap();
    let (machine, _secret) = clerk.create_machine("worker").unwrap();
    let verifier = backend_verifier(&clerk, Verifier::builder());
    Setup { clerk, user, machine, verifier }
}

fn backend_verifier(clerk: &Emulator, b: clerk_core::VerifierBuilder) -> Verifier {
    b.secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap()
}

fn reason<T: std::fmt::Debug>(r: Result<T, clerk_core::VerifyError>) -> Reason {
    r.unwrap_err().reason()
}

/// An M2M JWT minted with the emulator's `TokenBuilder`: a session-shaped token whose subject is a machine.
fn m2m_builder(s: &Setup) -> clerk_testing::TokenBuilder {
    s.clerk.session_token(&s.user).unwrap().claim("sub", json!(s.machine)).without_claim("sid")
}

fn oauth_builder(s: &Setup) -> clerk_testing::TokenBuilder {
    s.clerk.session_token(&s.user).unwrap().header("typ", json!("at+jwt")).without_claim("sid")
}

fn segments(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

#[tokio::test]
async fn m2m_jwts_from_the_emulator_verify() {
    let s = setup().await;
    let (other, _) = s.clerk.create_machine("reporting").unwrap();
    let (id, token) = s.clerk.m2m_token(&s.machine, &[&other], MachineTokenFormat::Jwt).unwrap();
    assert_eq!(TokenType::of(&token), TokenType::M2mToken);
    let (header, payload) = segments(&token);
    assert_eq!(header["cat"], CAT_M2M);
    assert_eq!(payload["sub"], s.machine.as_str());

    let auth = s.verifier.verify_machine_jwt(&token).await.unwrap();
    assert_eq!(auth.token_type(), TokenType::M2mToken);
    assert_eq!(auth.format(), TokenFormat::Jwt);
    assert_eq!(auth.id(), id);
    assert!(id.starts_with("mt_"));
    assert_eq!(auth.subject(), s.machine);
    assert_eq!(auth.machine_id().unwrap(), s.machine.as_str());
    assert!(auth.user_id().is_none() && auth.org_id().is_none());
    assert_eq!(auth.scopes(), std::slice::from_ref(&other));
    assert!(auth.has_scope(&other));
    // As the JS SDK: `scopes` is a custom claim, the structural claims are not.
    let claims = auth.claims().unwrap();
    assert_eq!(claims["scopes"], other.as_str());
    assert!(!claims.contains_key("sub") && !claims.contains_key("exp") && !claims.contains_key("jti"));
    assert_eq!(auth.raw()["sub"], s.machine.as_str());
    assert!(auth.expires_at_ms().unwrap() > 0);
    assert!(!format!("{auth:?}").contains(&token));
    assert_eq!(s.clerk.request_count(JWKS), 1);
}

#[tokio::test]
async fn m2m_jwts_scopes_and_custom_claims() {
    let s = setup().await;
    // Scopes as a space-separated `scopes` string (the JS SDK's reading), else `aud`.
    let t = m2m_builder(&s).claim("scopes", json!("mch_a  mch_b")).claim("tier", json!("gold")).mint();
    let a = s.verifier.verify_machine_jwt(&t).await.unwrap();
    assert_eq!(a.scopes(), ["mch_a", "mch_b"]);
    assert_eq!(a.claims().unwrap()["tier"], "gold");
    let t = m2m_builder(&s).claim("aud", json!(["mch_c"])).mint();
    assert_eq!(s.verifier.verify_machine_jwt(&t).await.unwrap().scopes(), ["mch_c"]);
    // No `jti`: the id is empty, as in the JS SDK.
    let t = m2m_builder(&s).without_claim("jti").mint();
    assert_eq!(s.verifier.verify_machine_jwt(&t).await.unwrap().id(), "");
    // Custom claims never fail a machine token, whatever their type (a session token would refuse `org_id: 5`).
    let t = m2m_builder(&s).claim("org_id", json!(5)).claim("aud", json!(7)).claim("scopes", json!(9)).mint();
    let a = s.verifier.verify_machine_jwt(&t).await.unwrap();
    assert!(a.scopes().is_empty());
    let session = s.clerk.session_token(&s.user).unwrap().claim("org_id", json!(5)).mint();
    assert_eq!(reason(s.verifier.verify(&session).await), Reason::TokenVerificationFailed);
    // The registered claims stay strict.
    let t = m2m_builder(&s).claim("exp", json!("soon")).mint();
    assert_eq!(reason(s.verifier.verify_machine_jwt(&t).await), Reason::TokenVerificationFailed);
    let t = m2m_builder(&s).without_claim("exp").mint();
    assert_eq!(reason(s.verifier.verify_machine_jwt(&t).await), Reason::TokenVerificationFailed);
    // An M2M JWT with the "ignore" category verifies; with the session category it is not an M2M token.
    let t = m2m_builder(&s).header("cat", json!("cl_I7d4PD111III")).mint();
    assert!(s.verifier.verify_machine_jwt(&t).await.is_ok());
    let t = m2m_builder(&s).header("cat", json!("cl_B7d4PD111AAA")).mint();
    assert_eq!(reason(s.verifier.verify_machine_jwt(&t).await), Reason::TokenTypeMismatch);
}

#[tokio::test]
async fn oauth_jwts_verify() {
    let s = setup().await;
    let (id, token) = s.clerk.oauth_access_token(&s.user, &["read", "write"], MachineTokenFormat::Jwt).unwrap();
    assert_eq!(TokenType::of(&token), TokenType::OAuthToken);
    let a = s.verifier.verify_machine_jwt(&token).await.unwrap();
    assert_eq!(a.token_type(), TokenType::OAuthToken);
    assert_eq!(a.format(), TokenFormat::Jwt);
    assert_eq!(a.id(), id);
    assert_eq!(a.user_id().unwrap(), s.user.as_str());
    assert_eq!(a.scopes(), ["read", "write"]);
    assert!(a.client_id().is_some_and(|c| !c.is_empty()));
    assert!(a.claims().is_none());

    // `scp` (an array) wins over `scope`, as in the JS SDK; `application/at+jwt` is the same type.
    let t = oauth_builder(&s)
        .header("typ", json!("application/at+jwt"))
        .claim("scp", json!(["admin"]))
        .claim("scope", json!("read"))
        .mint();
    assert_eq!(s.verifier.verify_machine_jwt(&t).await.unwrap().scopes(), ["admin"]);
    // An OAuth token stamped with the M2M category is not an OAuth token.
    let t = oauth_builder(&s).m2m_category().mint();
    assert_eq!(reason(s.verifier.verify_machine_jwt(&t).await), Reason::TokenTypeMismatch);
    // A machine subject makes an M2M token, whose `typ` must then be JWT.
    let t = oauth_builder(&s).claim("sub", json!(s.machine)).mint();
    assert_eq!(TokenType::of(&t), TokenType::M2mToken);
    assert_eq!(reason(s.verifier.verify_machine_jwt(&t).await), Reason::TokenInvalid);
}

#[tokio::test]
async fn expired_forged_and_tampered_machine_jwts_are_refused() {
    let s = setup().await;
    let v = &s.verifier;
    for b in [m2m_builder(&s), oauth_builder(&s)] {
        let t = b.expired(Duration::from_secs(60)).mint();
        assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenExpired);
    }
    let t = m2m_builder(&s).not_yet_valid(Duration::from_secs(120)).mint();
    assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenNotActiveYet);
    // Another instance's key under this instance's kid.
    let foreign = s.clerk.foreign_key().unwrap();
    let t = m2m_builder(&s).signed_by(foreign.clone()).mint();
    assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenInvalidSignature);
    let t = oauth_builder(&s).signed_by(foreign).mint();
    assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenInvalidSignature);
    // Tampered: another machine in the payload, the signature of the original.
    let (_, good) = s.clerk.m2m_token(&s.machine, &[], MachineTokenFormat::Jwt).unwrap();
    let (_, mut payload) = segments(&good);
    payload["sub"] = json!("mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk");
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert_eq!(reason(v.verify_machine_jwt(&tampered).await), Reason::TokenInvalidSignature);
    // `alg: none`, HS256: refused in the header.
    let t = m2m_builder(&s).header("alg", json!("HS256")).mint();
    assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenInvalidAlgorithm);
    // Too large.
    let t = m2m_builder(&s).claim("pad", json!("x".repeat(9000))).mint();
    assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenInvalid);
}

#[tokio::test]
async fn type_confusions_are_refused_before_any_key_work() {
    let s = setup().await;
    let v = &s.verifier;
    let session = s.clerk.session_token(&s.user).unwrap().mint();
    let (_, m2m) = s.clerk.m2m_token(&s.machine, &[], MachineTokenFormat::Jwt).unwrap();
    // An M2M JWT minted with a plain header (no `cat`): only its machine subject tells it apart.
    let m2m_plain = m2m_builder(&s).mint();
    let (_, oauth) = s.clerk.oauth_access_token(&s.user, &["read"], MachineTokenFormat::Jwt).unwrap();

    // Session → machine verifier; machine → session verifier: all `token-type-mismatch`, no key fetched.
    assert_eq!(reason(v.verify_machine_jwt(&session).await), Reason::TokenTypeMismatch);
    for machine in [&m2m, &m2m_plain, &oauth] {
        assert_eq!(reason(v.verify(machine).await), Reason::TokenTypeMismatch);
    }
    assert_eq!(s.clerk.request_count(JWKS), 0, "type mismatches cost no key fetch");
    assert_eq!(v.cached_tokens(), 0);

    // Claims of the wrong type do not hide the machine subject.
    let broken = m2m_builder(&s).claim("exp", json!("soon")).mint();
    assert_eq!(reason(v.verify(&broken).await), Reason::TokenTypeMismatch);
    // A forged M2M JWT is still refused as a type mismatch by the session verifier (it never reaches RSA).
    let forged = m2m_builder(&s).signed_by(s.clerk.foreign_key().unwrap()).mint();
    assert_eq!(reason(v.verify(&forged).await), Reason::TokenTypeMismatch);

    // Opaque machine tokens cannot be verified locally.
    let (_, key) = s.clerk.create_api_key(&s.user, &["read"]).unwrap();
    assert_eq!(reason(v.verify_machine_jwt(&key).await), Reason::TokenInvalid);
    assert_eq!(reason(v.verify(&key).await), Reason::TokenInvalid);

    // And the right verifier accepts each.
    assert!(v.verify(&session).await.is_ok());
    assert!(v.verify_machine_jwt(&m2m).await.is_ok());
    assert!(v.verify_machine_jwt(&oauth).await.is_ok());
}

#[tokio::test]
async fn machine_tokens_in_a_cookie_are_session_tokens_and_fail() {
    let s = setup().await;
    let (_, opaque) = s.clerk.m2m_token(&s.machine, &[], MachineTokenFormat::Opaque).unwrap();
    let (_, jwt) = s.clerk.m2m_token(&s.machine, &[], MachineTokenFormat::Jwt).unwrap();
    for (token, want) in [(opaque, Reason::TokenInvalid), (jwt, Reason::TokenTypeMismatch)] {
        let mut h = http::HeaderMap::new();
        h.insert("cookie", format!("__session={token}").parse().unwrap());
        assert_eq!(s.verifier.verify_request(&h).await.unwrap_err().reason(), want);
    }
}

#[tokio::test]
async fn session_rules_do_not_apply_to_machine_tokens_but_the_audience_does() {
    let s = setup().await;
    // Authorized parties: a session token with another `azp` is refused; machine tokens do not carry one that
    // matters (the JS SDK does not check it on machine tokens).
    let v = backend_verifier(&s.clerk, Verifier::builder().authorized_parties(["https://only.example.com"]));
    let session = s.clerk.session_token(&s.user).unwrap().mint();
    assert_eq!(reason(v.verify(&session).await), Reason::TokenInvalidAuthorizedParties);
    assert!(v.verify_machine_jwt(&m2m_builder(&s).mint()).await.is_ok());
    assert!(v.verify_machine_jwt(&oauth_builder(&s).mint()).await.is_ok());
    // Pending sessions are a session rule.
    assert!(v.verify_machine_jwt(&m2m_builder(&s).pending().mint()).await.is_ok());
    // The audience is checked when configured and present.
    let v = backend_verifier(&s.clerk, Verifier::builder().audience(["https://api.example.com"]));
    let ok = oauth_builder(&s).claim("aud", json!(["https://api.example.com"])).mint();
    assert!(v.verify_machine_jwt(&ok).await.is_ok());
    let other = oauth_builder(&s).claim("aud", json!("https://elsewhere.example.com")).mint();
    assert_eq!(reason(v.verify_machine_jwt(&other).await), Reason::TokenVerificationFailed);
    assert!(v.verify_machine_jwt(&oauth_builder(&s).mint()).await.is_ok(), "no aud: not checked");
}

#[tokio::test]
async fn machine_jwts_share_the_key_store() {
    let s = setup().await;
    let (_, first) = s.clerk.m2m_token(&s.machine, &[], MachineTokenFormat::Jwt).unwrap();
    s.verifier.verify_machine_jwt(&first).await.unwrap();
    assert_eq!(s.verifier.key_fetch_count(), 1);
    // A session token verifies from the keys the machine token loaded.
    s.verifier.verify(&s.clerk.session_token(&s.user).unwrap().mint()).await.unwrap();
    assert_eq!(s.verifier.key_fetch_count(), 1);
    // Rotation: an unknown kid triggers the refresh, as for session tokens.
    s.clerk.rotate_keys().unwrap();
    let (_, rotated) = s.clerk.oauth_access_token(&s.user, &[], MachineTokenFormat::Jwt).unwrap();
    s.verifier.verify_machine_jwt(&rotated).await.unwrap();
    assert_eq!(s.verifier.key_fetch_count(), 2);
    // Networkless, with the PEM key.
    let pem = Verifier::builder().jwt_key(&s.clerk.jwt_public_key()).unwrap().build().unwrap();
    assert!(pem.verify_machine_jwt(&rotated).await.is_ok());
}

fn jwt(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[test]
fn token_type_of_odd_input() {
    let session = TokenType::SessionToken;
    for (input, want) in [
        ("", session),
        ("ak_", TokenType::ApiKey),
        ("mt_", TokenType::M2mToken),
        ("oat_", TokenType::OAuthToken),
        ("ak_é", TokenType::ApiKey),
        ("AK_upper", session),
        ("ak", session),
        (" ak_x", session),
        ("oa_x", session),
        ("é.é.é", session),
        ("a.b", session),
        ("a.b.c.d", session),
        ("..", session),
        ("a..c", session),
        ("a.b.", session),
        ("!!!.@@@.###", session),
        ("eyJ.eyJ.sig", session),
        ("Bearer mt_x", session),
    ] {
        assert_eq!(TokenType::of(input), want, "{input:?}");
    }
    // Machine claims in a two-segment or four-segment token: not a JWT, so not a machine JWT.
    let m2m = jwt(&json!({"alg": "RS256"}), &json!({"sub": "mch_1"}));
    assert_eq!(TokenType::of(&m2m), TokenType::M2mToken);
    let two: Vec<&str> = m2m.split('.').take(2).collect();
    assert_eq!(TokenType::of(&two.join(".")), session);
    assert_eq!(TokenType::of(&format!("{m2m}.x")), session);
    // Huge input: never decoded.
    assert_eq!(TokenType::of(&"a".repeat(1 << 20)), session);
    let huge = jwt(&json!({}), &json!({"sub": "mch_1", "pad": "x".repeat(20_000)}));
    assert_eq!(TokenType::of(&huge), session);
    let big_header = jwt(&json!({"typ": "at+jwt", "pad": "x".repeat(2000)}), &json!({}));
    assert_eq!(TokenType::of(&big_header), session);
    // Payload and header that are not JSON objects, or not base64url.
    assert_eq!(TokenType::of(&format!("{}.bm90IGpzb24.c2ln", URL_SAFE_NO_PAD.encode("{}"))), session);
    assert_eq!(TokenType::of("e30.e30=.c2ln"), session);
    assert_eq!(TokenType::of(&jwt(&json!({"typ": "at+jwt"}), &json!("mch_1"))), TokenType::OAuthToken);
    assert_eq!(TokenType::of(&jwt(&json!({"typ": "JWT"}), &json!({"sub": "user_1"}))), session);
    assert_eq!(TokenType::of(&jwt(&json!({"typ": 7}), &json!({"sub": ["mch_1"]}))), session);
}

#[test]
fn token_types_read_well() {
    let api = TokenTypes::only(TokenType::ApiKey).with(TokenType::M2mToken);
    assert_eq!(format!("{api:?}"), r#"{"api_key", "m2m_token"}"#);
    assert_eq!(TokenTypes::default(), TokenTypes::SESSION);
    let all: TokenTypes =
        [TokenType::SessionToken, TokenType::ApiKey, TokenType::M2mToken, TokenType::OAuthToken].into_iter().collect();
    assert_eq!(all, TokenTypes::ALL);
    assert_eq!(
        TokenTypes::MACHINE.iter().map(TokenType::as_str).collect::<Vec<_>>(),
        ["api_key", "m2m_token", "oauth_token"]
    );
    let _: fn(&MachineAuth) -> TokenType = MachineAuth::token_type;
}

proptest! {
    #[test]
    fn token_type_of_never_panics(s in "\\PC{0,300}") {
        let _ = TokenType::of(&s);
    }

    #[test]
    fn token_type_of_jwt_shaped_input(h in "[A-Za-z0-9_-]{0,64}", p in "[A-Za-z0-9_-]{0,64}", sig in "[A-Za-z0-9_.-]{0,16}") {
        let t = TokenType::of(&format!("{h}.{p}.{sig}"));
        prop_assert!(matches!(t, TokenType::SessionToken | TokenType::M2mToken | TokenType::OAuthToken));
    }

    #[test]
    fn machine_subjects_classify_whatever_the_rest(sub in "mch_[A-Za-z0-9]{0,30}", extra in "[a-z]{0,10}") {
        let t = jwt(&json!({"alg": "RS256", "x": extra}), &json!({"sub": sub, "extra": extra}));
        prop_assert_eq!(TokenType::of(&t), TokenType::M2mToken);
    }
}

/// A malformed `aud` (a number, an object) does not skip a configured audience check; `null` reads as absent; without
/// an expected audience the claim is a custom one and never fails the token.
#[tokio::test]
async fn a_malformed_audience_fails_a_configured_audience_check() {
    let s = setup().await;
    let v = backend_verifier(&s.clerk, Verifier::builder().audience(["https://api.example.com"]));
    for aud in [json!(5), json!({"aud": "https://api.example.com"}), json!(true), json!([5])] {
        for t in [oauth_builder(&s).claim("aud", aud.clone()).mint(), m2m_builder(&s).claim("aud", aud.clone()).mint()]
        {
            assert_eq!(reason(v.verify_machine_jwt(&t).await), Reason::TokenVerificationFailed, "aud {aud}");
            assert!(s.verifier.verify_machine_jwt(&t).await.is_ok(), "aud {aud} without an expected audience");
        }
    }
    let null = oauth_builder(&s).claim("aud", json!(null)).mint();
    assert!(v.verify_machine_jwt(&null).await.is_ok(), "aud null: absent");
}

/// RFC 7515 §4.1.11: a header naming critical extensions this verifier does not understand (it understands none) is
/// refused, for session tokens and machine JWTs, before any key work.
#[tokio::test]
async fn a_critical_header_extension_is_refused() {
    let s = setup().await;
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("b64"), json!({})] {
        let session = s.clerk.session_token(&s.user).unwrap().header("crit", crit.clone()).mint();
        let err = s.verifier.verify(&session).await.unwrap_err();
        assert_eq!(err.reason(), Reason::TokenInvalid, "crit {crit}: {err}");
        let m2m = m2m_builder(&s).header("crit", crit.clone()).mint();
        assert_eq!(reason(s.verifier.verify_machine_jwt(&m2m).await), Reason::TokenInvalid, "crit {crit}");
    }
    // `null` is no extension at all.
    let session = s.clerk.session_token(&s.user).unwrap().header("crit", json!(null)).mint();
    s.verifier.verify(&session).await.unwrap();
}
