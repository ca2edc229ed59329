//! Machine authentication over real HTTP: machines, API keys, M2M tokens (opaque and JWT, created with a machine
//! secret key or the instance secret key) and OAuth access tokens, each answer validated against Clerk's OpenAPI spec;
//! revoked, expired and unknown tokens refused as the spec documents (404).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

#[path = "seed_ops/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::Arc;

use bytes::Bytes;
use clerk_core::{HttpTransport, HyperTransport, TokenType, Verifier};
use clerk_testing::{EmulatorError, MachineTokenFormat};
use serde_json::{Value, json};
use support::{Answer, Api, assert_matches_spec, operation};

/// Sends `op_id` to its path with `Bearer {key}` and an optional JSON body.
async fn send(api: &Api, key: &str, op_id: &str, path_and_query: &str, body: Option<Value>) -> Answer {
    static T: std::sync::OnceLock<Arc<HyperTransport>> = std::sync::OnceLock::new();
    let transport = T.get_or_init(|| Arc::new(HyperTransport::new().unwrap()));
    let (_, method, _) = operation(op_id);
    let mut req = http::Request::builder()
        .method(method.as_str())
        .uri(format!("{}/v1{path_and_query}", api.clerk.api_url()))
        .header("authorization", format!("Bearer {key}"));
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Bytes::from(b.to_string())
        }
        None => Bytes::new(),
    };
    let resp = transport.send(req.body(bytes).unwrap()).await.unwrap();
    Answer { status: resp.status().as_u16(), content_type: String::new(), bytes: resp.into_body() }
}

/// Sends and asserts the status, and that the body is what the spec documents for it.
async fn expect(api: &Api, key: &str, op_id: &str, path: &str, body: Option<Value>, status: u16) -> Value {
    let a = send(api, key, op_id, path, body).await;
    let v = a.json();
    assert_eq!(a.status, status, "{op_id} {path}: {v}");
    assert_matches_spec(op_id, status, &v);
    v
}

#[tokio::test]
async fn api_keys_are_created_verified_listed_and_revoked() {
    let api = Api::start().await;
    let sk = api.clerk.secret_key().to_owned();
    let user = api.user("keys@example.com").await;

    let created = expect(
        &api,
        &sk,
        "createApiKey",
        "/api_keys",
        Some(json!({"name": "ci-deploy", "subject": user, "scopes": ["read", "write"], "claims": {"tier": "gold"}})),
        200,
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ak_") && id.starts_with("ak_") && secret != id);
    assert_eq!(TokenType::of(&secret), TokenType::ApiKey);

    let verified = expect(&api, &sk, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": secret})), 200).await;
    assert_eq!(verified["id"], id.as_str());
    assert_eq!(verified["subject"], user.as_str());
    assert_eq!(verified["scopes"], json!(["read", "write"]));
    assert_eq!(verified["claims"], json!({"tier": "gold"}));
    assert!(verified["last_used_at"].is_number());
    assert!(verified.get("secret").is_none(), "verification never answers the secret");

    let listed = expect(&api, &sk, "getApiKeys", &format!("/api_keys?subject={user}"), None, 200).await;
    assert_eq!(listed["total_count"], 1);
    expect(&api, &sk, "getApiKey", &format!("/api_keys/{id}"), None, 200).await;

    // Unknown secrets and malformed subjects.
    expect(&api, &sk, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": "ak_unknown"})), 404).await;
    let bad = json!({"name": "bad-subject", "subject": "user_short"});
    expect(&api, &sk, "createApiKey", "/api_keys", Some(bad), 400).await;

    // Revocation bites on the next verification.
    let revoked = expect(
        &api,
        &sk,
        "revokeApiKey",
        &format!("/api_keys/{id}/revoke"),
        Some(json!({"revocation_reason": "leaked"})),
        200,
    )
    .await;
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["revocation_reason"], "leaked");
    expect(&api, &sk, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": secret})), 404).await;
    let listed = expect(&api, &sk, "getApiKeys", &format!("/api_keys?subject={user}"), None, 200).await;
    assert_eq!(listed["total_count"], 0, "revoked keys are invalid");
    let all = format!("/api_keys?subject={user}&include_invalid=true");
    assert_eq!(expect(&api, &sk, "getApiKeys", &all, None, 200).await["total_count"], 1);
    let missing = format!("/api_keys/ak_{}/revoke", "0".repeat(32));
    expect(&api, &sk, "revokeApiKey", &missing, Some(json!({})), 404).await;

    // Expiry (set by the helper, no sleeping), and the helper-made keys.
    let (hid, hsecret) = api.clerk.create_api_key(&user, &["read"]).unwrap();
    expect(&api, &sk, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": hsecret})), 200).await;
    api.clerk.expire_machine_token(&hid).unwrap();
    let v = send(&api, &sk, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": hsecret}))).await;
    assert_eq!(v.status, 404);

    // The Backend API still wants the instance secret key.
    let a = send(&api, &hsecret, "verifyApiKey", "/api_keys/verify", Some(json!({"secret": hsecret}))).await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn machines_mint_m2m_tokens_with_their_secret_key() {
    let api = Api::start().await;
    let sk = api.clerk.secret_key().to_owned();
    let target = expect(&api, &sk, "CreateMachine", "/machines", Some(json!({"name": "billing"})), 200).await;
    let target_id = target["id"].as_str().unwrap().to_owned();
    let target_key = target["secret_key"].as_str().unwrap().to_owned();
    let caller = expect(
        &api,
        &sk,
        "CreateMachine",
        "/machines",
        Some(json!({"name": "cron", "scoped_machines": [target_id], "default_token_ttl": 600})),
        200,
    )
    .await;
    let caller_id = caller["id"].as_str().unwrap().to_owned();
    let caller_key = caller["secret_key"].as_str().unwrap().to_owned();
    assert!(caller_id.starts_with("mch_") && caller_key.starts_with("ak_"));
    assert_eq!(caller["scoped_machines"][0]["id"], target_id.as_str());
    expect(&api, &sk, "GetMachine", &format!("/machines/{caller_id}"), None, 200).await;
    assert_eq!(expect(&api, &sk, "ListMachines", "/machines", None, 200).await["total_count"], 2);
    let key = expect(&api, &sk, "GetMachineSecretKey", &format!("/machines/{caller_id}/secret_key"), None, 200).await;
    assert_eq!(key["secret"], caller_key.as_str());

    // Minted with the machine's own secret key: the subject is that machine, the scopes its scoped machines.
    let m2m =
        expect(&api, &caller_key, "createM2MToken", "/m2m_tokens", Some(json!({"claims": {"job": "nightly"}})), 201)
            .await;
    let token = m2m["token"].as_str().unwrap().to_owned();
    let token_id = m2m["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("mt_") && token_id.starts_with("mt_"));
    assert_eq!(m2m["subject"], caller_id.as_str());
    assert_eq!(m2m["scopes"], json!([target_id]));
    assert!(m2m["expiration"].as_i64().unwrap() - m2m["created_at"].as_i64().unwrap() == 600_000);

    // Verified with the instance key, and with the key of the machine it grants access to; not with another's.
    let body = Some(json!({"token": token}));
    let v = expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", body.clone(), 200).await;
    assert_eq!(v["claims"], json!({"job": "nightly"}));
    assert!(v.get("token").is_none());
    expect(&api, &target_key, "verifyM2MToken", "/m2m_tokens/verify", body.clone(), 200).await;
    expect(&api, &caller_key, "verifyM2MToken", "/m2m_tokens/verify", body.clone(), 404).await;

    // Listing: a machine key sees its own machine's tokens only.
    let listed =
        expect(&api, &caller_key, "getM2MTokens", &format!("/m2m_tokens?subject={caller_id}"), None, 200).await;
    assert_eq!(listed["total_count"], 1);
    expect(&api, &caller_key, "getM2MTokens", &format!("/m2m_tokens?subject={target_id}"), None, 403).await;

    // Revocation: refused by the next verification.
    let revoke = format!("/m2m_tokens/{token_id}/revoke");
    expect(&api, &target_key, "revokeM2MToken", &revoke, Some(json!({})), 404).await;
    let r =
        expect(&api, &caller_key, "revokeM2MToken", &revoke, Some(json!({"revocation_reason": "rotated"})), 200).await;
    assert_eq!(r["revoked"], true);
    expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", body, 404).await;
    let listed = format!("/m2m_tokens?subject={caller_id}&revoked=true");
    assert_eq!(expect(&api, &sk, "getM2MTokens", &listed, None, 200).await["total_count"], 1);
    expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", Some(json!({"token": "mt_unknown"})), 404).await;
}

#[tokio::test]
async fn m2m_jwts_and_the_instance_key() {
    let api = Api::start().await;
    let sk = api.clerk.secret_key().to_owned();
    // No machine yet: the instance key mints for a default machine.
    let t = expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(json!({})), 201).await;
    let default_machine = t["subject"].as_str().unwrap().to_owned();
    assert!(default_machine.starts_with("mch_"));
    let (machine, _) = api.clerk.create_machine("newest").unwrap();
    let t = expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(json!({})), 201).await;
    assert_eq!(t["subject"], machine.as_str(), "the most recently created machine");

    // JWT format: verifiable locally against the JWKS, and by the Backend API; stateless, so not revocable.
    let body = json!({"token_format": "jwt", "seconds_until_expiration": 120, "claims": {"region": "eu"}});
    let jwt = expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(body), 201).await;
    let token = jwt["token"].as_str().unwrap().to_owned();
    assert_eq!(TokenType::of(&token), TokenType::M2mToken);
    let verifier = Verifier::builder()
        .secret_key(api.clerk.secret_key())
        .unwrap()
        .api_url(&api.clerk.api_url())
        .unwrap()
        .build()
        .unwrap();
    let auth = verifier.verify_machine_jwt(&token).await.unwrap();
    assert_eq!(auth.id(), jwt["id"].as_str().unwrap());
    assert_eq!(auth.subject(), machine);
    assert_eq!(auth.claims().unwrap()["region"], "eu");
    let v = expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", Some(json!({"token": token})), 200).await;
    assert_eq!(v["id"], jwt["id"]);
    let revoke = format!("/m2m_tokens/{}/revoke", jwt["id"].as_str().unwrap());
    expect(&api, &sk, "revokeM2MToken", &revoke, Some(json!({})), 404).await;
    let listed = expect(&api, &sk, "getM2MTokens", &format!("/m2m_tokens?subject={machine}"), None, 200).await;
    assert_eq!(listed["total_count"], 1, "JWT-format tokens are not stored");

    // Server-side reuse of opaque tokens.
    let reuse = json!({"seconds_until_expiration": 600, "min_remaining_ttl_seconds": 60});
    let a = expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(reuse.clone()), 201).await;
    let b = expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(reuse), 201).await;
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["token"], b["token"]);
    let too_long = json!({"seconds_until_expiration": 60, "min_remaining_ttl_seconds": 60});
    expect(&api, &sk, "createM2MToken", "/m2m_tokens", Some(too_long), 400).await;

    // Helper-minted tokens verify the same way.
    let (id, opaque) = api.clerk.m2m_token(&machine, &[&default_machine], MachineTokenFormat::Opaque).unwrap();
    let v = expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", Some(json!({"token": opaque})), 200).await;
    assert_eq!(v["scopes"], json!([default_machine]));
    api.clerk.revoke_machine_token(&id).unwrap();
    expect(&api, &sk, "verifyM2MToken", "/m2m_tokens/verify", Some(json!({"token": opaque})), 404).await;
    let (jwt_id, _) = api.clerk.m2m_token(&machine, &[], MachineTokenFormat::Jwt).unwrap();
    assert!(matches!(api.clerk.revoke_machine_token(&jwt_id), Err(EmulatorError::NotFound { .. })));
    assert!(matches!(
        api.clerk.m2m_token("mch_unknown", &[], MachineTokenFormat::Opaque),
        Err(EmulatorError::NotFound { kind: "machine" })
    ));

    // A machine secret key does not open the rest of the Backend API.
    let (_, machine_key) = api.clerk.create_machine("intruder").unwrap();
    assert_eq!(send(&api, &machine_key, "GetUserList", "/users", None).await.status, 401);
}

#[tokio::test]
async fn oauth_access_tokens_verify_until_revoked_or_expired() {
    let api = Api::start().await;
    let sk = api.clerk.secret_key().to_owned();
    let user = api.user("oauth@example.com").await;
    let path = "/oauth_applications/access_tokens/verify";

    let (id, opaque) = api.clerk.oauth_access_token(&user, &["email", "profile"], MachineTokenFormat::Opaque).unwrap();
    assert!(opaque.starts_with("oat_") && id.starts_with("oat_"));
    let v = expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": opaque})), 200).await;
    assert_eq!(v["subject"], user.as_str());
    assert_eq!(v["scopes"], json!(["email", "profile"]));
    // The deprecated `secret` field still works.
    expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"secret": opaque})), 200).await;
    expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({})), 400).await;
    expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": "oat_unknown"})), 404).await;

    api.clerk.revoke_machine_token(&id).unwrap();
    expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": opaque})), 404).await;

    // JWT access tokens: RFC 9068 header; expired ones answer `{"active": false}`, as the spec documents.
    let (jid, jwt) = api.clerk.oauth_access_token(&user, &["email"], MachineTokenFormat::Jwt).unwrap();
    assert_eq!(TokenType::of(&jwt), TokenType::OAuthToken);
    let v = expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": jwt})), 200).await;
    assert_eq!(v["id"], jid.as_str());
    api.clerk.expire_machine_token(&jid).unwrap();
    let v = expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": jwt})), 200).await;
    assert_eq!(v, json!({"active": false}));
    let (oid, opaque) = api.clerk.oauth_access_token(&user, &[], MachineTokenFormat::Opaque).unwrap();
    api.clerk.expire_machine_token(&oid).unwrap();
    expect(&api, &sk, "verifyOAuthAccessToken", path, Some(json!({"access_token": opaque})), 404).await;

    assert!(matches!(
        api.clerk.oauth_access_token("user_unknown", &[], MachineTokenFormat::Opaque),
        Err(EmulatorError::NotFound { kind: "user" })
    ));
    assert!(matches!(api.clerk.create_api_key("nobody", &[]), Err(EmulatorError::Invalid(_))));
    assert!(matches!(api.clerk.revoke_machine_token("oat_nope"), Err(EmulatorError::NotFound { .. })));
    assert!(matches!(api.clerk.expire_machine_token("ak_nope"), Err(EmulatorError::NotFound { .. })));
}
