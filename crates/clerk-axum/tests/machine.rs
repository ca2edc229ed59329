//! Machine tokens through `ClerkLayer::accepting` / `machine`, `ClerkMachine`, `Option<ClerkMachine>` and the guards,
//! in-process against the emulator.
#![allow(missing_docs, clippy::unwrap_used)]

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use clerk_api::{Client, RetryPolicy};
use clerk_axum::{Authenticator, ClerkAuth, ClerkLayer, ClerkMachine, RequireLayer, TokenType, TokenTypes};
use clerk_testing::{Emulator, Fault, MachineTokenFormat};
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn layer(clerk: &Emulator) -> ClerkLayer {
    let client = Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let verifier = client.verifier().authorized_parties(["http://localhost:3000"]).build().unwrap();
    ClerkLayer::new(Authenticator::builder().verifier(verifier).backend_api(client).build().unwrap())
}

async fn machine(m: ClerkMachine) -> Json<Value> {
    Json(json!({ "token_type": m.token_type().as_str(), "id": m.id(), "subject": m.subject(), "scopes": m.scopes() }))
}

async fn maybe_machine(m: Option<ClerkMachine>) -> Json<Value> {
    Json(json!({ "machine": m.map(|m| m.subject().to_owned()) }))
}

async fn me(auth: ClerkAuth) -> String {
    auth.user_id().to_string()
}

async fn get_(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let challenge = resp.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

const INVALID: Option<&str> = Some(r#"Bearer error="invalid_token""#);

#[tokio::test]
async fn machine_routes_take_machine_tokens_and_session_routes_refuse_them() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("ada@example.com").unwrap();
    let session = clerk.session_token(&uid).unwrap().mint();
    let (mch, _) = clerk.create_machine("worker").unwrap();
    let (ak_id, ak) = clerk.create_api_key(&uid, &["read"]).unwrap();
    let (_, mt_jwt) = clerk.m2m_token(&mch, &[], MachineTokenFormat::Jwt).unwrap();
    let (oat_id, oat) = clerk.oauth_access_token(&uid, &["email"], MachineTokenFormat::Opaque).unwrap();

    let clerk_layer = layer(&clerk);
    assert_eq!(clerk_layer.accepted_types(), TokenTypes::SESSION);
    assert_eq!(clerk_layer.clone().machine().accepted_types(), TokenTypes::MACHINE);
    let app = Router::new()
        .merge(Router::new().route("/me", get(me)).layer(clerk_layer.clone()))
        .merge(Router::new().route("/machine", get(machine)).layer(clerk_layer.clone().machine()))
        .merge(Router::new().route("/maybe", get(maybe_machine)).layer(clerk_layer.clone().machine().optional()));

    let (s, _, body) = get_(&app, "/machine", Some(&ak)).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, json!({"token_type": "api_key", "id": ak_id, "subject": uid, "scopes": ["read"]}));
    let (s, _, body) = get_(&app, "/machine", Some(&oat)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["id"], oat_id.as_str());
    let (s, _, body) = get_(&app, "/machine", Some(&mt_jwt)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["subject"], mch.as_str());

    // The required machine layer: a session token is refused by the layer; no token at all too.
    assert_eq!(
        get_(&app, "/machine", Some(&session)).await,
        (StatusCode::UNAUTHORIZED, INVALID.map(Into::into), "Unauthorized".into())
    );
    assert_eq!(
        get_(&app, "/machine", None).await,
        (StatusCode::UNAUTHORIZED, Some("Bearer".into()), "Unauthorized".into())
    );
    // Machine tokens on a session route.
    for token in [&ak, &oat, &mt_jwt] {
        assert_eq!(
            get_(&app, "/me", Some(token)).await,
            (StatusCode::UNAUTHORIZED, INVALID.map(Into::into), "Unauthorized".into())
        );
    }
    assert_eq!(get_(&app, "/me", Some(&session)).await.0, StatusCode::OK);

    // Option<ClerkMachine> behind an optional machine layer: absent → None, valid → Some, refused → 401.
    assert_eq!(get_(&app, "/maybe", None).await.2, r#"{"machine":null}"#);
    assert_eq!(get_(&app, "/maybe", Some(&ak)).await.2, format!(r#"{{"machine":"{uid}"}}"#));
    assert_eq!(get_(&app, "/maybe", Some(&session)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get_(&app, "/maybe", Some("ak_not_a_real_key_0123456789")).await.0, StatusCode::UNAUTHORIZED);

    // Revocation takes effect on the next request (valid opaque tokens are never cached).
    clerk.revoke_machine_token(&ak_id).unwrap();
    assert_eq!(get_(&app, "/machine", Some(&ak)).await.0, StatusCode::UNAUTHORIZED);

    // The Backend API cannot verify opaque tokens: 503, not 401.
    clerk.faults().inject("*", Fault::Status(500));
    let (s, _, body) = get_(&app, "/machine", Some(&oat)).await;
    assert_eq!((s, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"));
}

#[tokio::test]
async fn extractors_refuse_the_other_kind_when_a_layer_accepts_both() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("ada@example.com").unwrap();
    let session = clerk.session_token(&uid).unwrap().mint();
    let admin = clerk.session_token(&uid).unwrap().organization("org_1", "acme", "admin", &[]).mint();
    let (_, ak) = clerk.create_api_key(&uid, &[]).unwrap();

    let all = layer(&clerk).accepting(TokenTypes::ALL);
    assert!(all.accepted_types().contains(TokenType::ApiKey) && all.accepted_types().contains(TokenType::SessionToken));
    let app = Router::new()
        .route("/me", get(me))
        .route("/machine", get(machine))
        .route("/admin", get(|| async { "admin" }).route_layer(RequireLayer::role("org:admin")))
        .layer(all);

    assert_eq!(get_(&app, "/me", Some(&session)).await.0, StatusCode::OK);
    assert_eq!(get_(&app, "/machine", Some(&ak)).await.0, StatusCode::OK);
    // The layer accepts both; the extractors do not: 401 invalid_token, nothing said.
    assert_eq!(
        get_(&app, "/me", Some(&ak)).await,
        (StatusCode::UNAUTHORIZED, INVALID.map(Into::into), "Unauthorized".into())
    );
    assert_eq!(
        get_(&app, "/machine", Some(&session)).await,
        (StatusCode::UNAUTHORIZED, INVALID.map(Into::into), "Unauthorized".into())
    );
    // Guards: a machine token is signed in but meets no session requirement: 403.
    assert_eq!(get_(&app, "/admin", Some(&admin)).await.0, StatusCode::OK);
    assert_eq!(get_(&app, "/admin", Some(&ak)).await, (StatusCode::FORBIDDEN, None, "Forbidden".into()));
    assert_eq!(get_(&app, "/admin", None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn extractors_without_the_layer_answer_500() {
    let app = Router::new().route("/machine", get(machine)).route("/maybe", get(maybe_machine));
    assert_eq!(get_(&app, "/machine", None).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(get_(&app, "/maybe", None).await.0, StatusCode::INTERNAL_SERVER_ERROR);
}
