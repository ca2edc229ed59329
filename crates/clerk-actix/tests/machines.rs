//! Machine tokens: the example's `GET /machine` with every kind the emulator issues (opaque and JWT), session routes
//! refusing them, `ClerkMachine` / `OptionalClerkMachine` against `ClerkAuth` behind a middleware accepting every
//! kind, guards, revocation, outages, and the `token-type-mismatch` reason in `tracing`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, dead_code)]

#[path = "../examples/actix.rs"]
mod example;

use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{App, test, web};
use clerk_actix::{
    Authenticator, Clerk, ClerkAuth, ClerkMachine, OptionalClerkAuth, OptionalClerkMachine, Require, TokenTypes,
};
use clerk_api::{Client, RetryPolicy};
use clerk_testing::{Emulator, Fault, MachineTokenFormat};
use serde_json::{Value, json};

fn authenticator(clerk: &Emulator) -> Authenticator {
    let client = Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let verifier = client.verifier().authorized_parties(["http://localhost:3000"]).build().unwrap();
    Authenticator::builder().verifier(verifier).backend_api(client).build().unwrap()
}

async fn get<S, B>(app: &S, path: &str, auth: Option<&str>) -> (StatusCode, HeaderMap, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri(path);
    if let Some(t) = auth {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = test::read_body(resp).await;
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn challenge(h: &HeaderMap) -> &str {
    h.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Every kind of machine token the emulator issues, with what `/machine` must answer.
struct Machines {
    uid: String,
    session: String,
    /// (what, token, expected JSON)
    tokens: Vec<(&'static str, String, Value)>,
    api_key_id: String,
    api_key: String,
}

fn machines(clerk: &Emulator) -> Machines {
    let uid = clerk.create_user("machines@example.com").unwrap();
    let session = clerk.session_token(&uid).unwrap().mint();
    let (mch, _) = clerk.create_machine("reports").unwrap();
    let (api_key_id, api_key) = clerk.create_api_key(&uid, &["reports:read"]).unwrap();
    let (m2m_id, m2m) = clerk.m2m_token(&mch, &["mch_other"], MachineTokenFormat::Opaque).unwrap();
    let (m2m_jwt_id, m2m_jwt) = clerk.m2m_token(&mch, &["mch_other"], MachineTokenFormat::Jwt).unwrap();
    let (oat_id, oat) = clerk.oauth_access_token(&uid, &["email", "profile"], MachineTokenFormat::Opaque).unwrap();
    let (oat_jwt_id, oat_jwt) = clerk.oauth_access_token(&uid, &["email"], MachineTokenFormat::Jwt).unwrap();
    let expect = |t: &str, id: &str, sub: &str, scopes: &[&str]| json!({"token_type": t, "id": id, "subject": sub, "scopes": scopes});
    let tokens = vec![
        ("API key", api_key.clone(), expect("api_key", &api_key_id, &uid, &["reports:read"])),
        ("M2M token", m2m, expect("m2m_token", &m2m_id, &mch, &["mch_other"])),
        ("M2M JWT", m2m_jwt, expect("m2m_token", &m2m_jwt_id, &mch, &["mch_other"])),
        ("OAuth access token", oat, expect("oauth_token", &oat_id, &uid, &["email", "profile"])),
        ("OAuth JWT", oat_jwt, expect("oauth_token", &oat_jwt_id, &uid, &["email"])),
    ];
    Machines { uid, session, tokens, api_key_id, api_key }
}

#[actix_web::test]
async fn the_example_machine_route() {
    let clerk = Emulator::start().await.unwrap();
    let m = machines(&clerk);
    let mw = Clerk::new(authenticator(&clerk));
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;

    for (what, token, expected) in &m.tokens {
        let (s, h, body) = get(&app, "/machine", Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{what}: {body}");
        assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "application/json");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), *expected, "{what}");
        // ...and refused on the session routes, which are not configured for machines.
        for path in ["/me", "/optional", "/user", "/org-admin"] {
            let (s, h, body) = get(&app, path, Some(token)).await;
            assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"), "{what} on {path}");
            assert_eq!(challenge(&h), r#"Bearer error="invalid_token""#, "{what} on {path}");
        }
    }

    // A session token on /machine: 401, the token refused. No credentials, or a session cookie (never read on a
    // machine route): 401, signed out.
    let (s, h, body) = get(&app, "/machine", Some(&m.session)).await;
    assert_eq!(
        (s, body.as_str(), challenge(&h)),
        (StatusCode::UNAUTHORIZED, "Unauthorized", r#"Bearer error="invalid_token""#)
    );
    let (s, h, _) = get(&app, "/machine", None).await;
    assert_eq!((s, challenge(&h)), (StatusCode::UNAUTHORIZED, "Bearer"));
    let req =
        test::TestRequest::get().uri("/machine").insert_header((header::COOKIE, format!("__session={}", m.session)));
    let resp = test::call_service(&app, req.to_request()).await;
    assert_eq!((resp.status(), challenge(resp.headers())), (StatusCode::UNAUTHORIZED, "Bearer"));
    // Another method: 405 whatever the credentials (the middleware is in optional mode, as axum's example).
    let resp = test::call_service(&app, test::TestRequest::post().uri("/machine").to_request()).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The session routes are unchanged.
    let (s, _, body) = get(&app, "/me", Some(&m.session)).await;
    assert_eq!((s, serde_json::from_str::<Value>(&body).unwrap()["user_id"].clone()), (StatusCode::OK, json!(m.uid)));

    // Garbage and forged machine-looking tokens.
    for bad in ["ak_not_a_key", "mt_nope", "oat_nope"] {
        let (s, h, _) = get(&app, "/machine", Some(bad)).await;
        assert_eq!((s, challenge(&h)), (StatusCode::UNAUTHORIZED, r#"Bearer error="invalid_token""#), "{bad}");
    }

    // Revocation takes effect on the next request (opaque tokens are never cached).
    assert_eq!(get(&app, "/machine", Some(&m.api_key)).await.0, StatusCode::OK);
    clerk.revoke_machine_token(&m.api_key_id).unwrap();
    assert_eq!(get(&app, "/machine", Some(&m.api_key)).await.0, StatusCode::UNAUTHORIZED);

    // The Backend API cannot verify an opaque token: 503, not 401. JWT forms need only the keys.
    clerk.faults().inject("/v1/api_keys/verify", Fault::Status(500));
    clerk.faults().inject("/v1/m2m_tokens/verify", Fault::DropConnection);
    let (s, h, body) = get(&app, "/machine", Some(&m.tokens[1].1)).await;
    assert_eq!((s, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"));
    assert_eq!(h.get(header::RETRY_AFTER).unwrap(), "5");
    assert_eq!(get(&app, "/machine", Some(&m.tokens[2].1)).await.0, StatusCode::OK, "M2M JWT: no Backend API call");
}

/// Behind a middleware accepting every kind, each extractor takes its own kind and refuses the other (`401`).
#[actix_web::test]
async fn extractors_take_their_own_kind() {
    let clerk = Emulator::start().await.unwrap();
    let m = machines(&clerk);
    let admin = clerk.session_token(&m.uid).unwrap().organization("org_1", "acme", "admin", &[]).mint();
    let mw = Clerk::new(authenticator(&clerk)).accepting(TokenTypes::ALL).optional();
    let app = test::init_service(
        App::new()
            .wrap(mw)
            .route("/session", web::get().to(|a: ClerkAuth| async move { a.user_id().to_string() }))
            .route("/machine", web::get().to(|m: ClerkMachine| async move { m.subject().to_owned() }))
            .route(
                "/optional-machine",
                web::get().to(|OptionalClerkMachine(m): OptionalClerkMachine| async move {
                    m.map_or_else(|| "none".to_owned(), |m| m.token_type().to_string())
                }),
            )
            .route(
                "/optional-session",
                web::get().to(|OptionalClerkAuth(a): OptionalClerkAuth| async move { format!("{}", a.is_some()) }),
            )
            .service(
                web::resource("/admin").wrap(Require::role("org:admin")).route(web::get().to(|| async { "admin" })),
            ),
    )
    .await;
    let api_key = &m.tokens[0].1;

    assert_eq!(get(&app, "/session", Some(&m.session)).await.2, m.uid);
    assert_eq!(get(&app, "/machine", Some(api_key)).await.2, m.uid, "the API key's subject is the user");
    assert_eq!(get(&app, "/optional-machine", Some(api_key)).await.2, "api_key");
    assert_eq!(get(&app, "/optional-machine", None).await.2, "none");
    assert_eq!(get(&app, "/optional-session", None).await.2, "false");
    for (path, token) in [
        ("/session", api_key.as_str()),
        ("/optional-session", api_key.as_str()),
        ("/machine", m.session.as_str()),
        ("/optional-machine", m.session.as_str()),
    ] {
        let (s, h, body) = get(&app, path, Some(token)).await;
        assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"), "{path}");
        assert_eq!(challenge(&h), r#"Bearer error="invalid_token""#, "{path}");
    }
    let (s, h, _) = get(&app, "/machine", None).await;
    assert_eq!((s, challenge(&h)), (StatusCode::UNAUTHORIZED, "Bearer"));

    // Guards are about sessions: a machine token meets no requirement (403), whatever its subject.
    assert_eq!(get(&app, "/admin", Some(&admin)).await.2, "admin");
    let (s, _, body) = get(&app, "/admin", Some(api_key)).await;
    assert_eq!((s, body.as_str()), (StatusCode::FORBIDDEN, "Forbidden"));
}

#[actix_web::test]
async fn machine_extractors_without_the_middleware_are_500() {
    let app = test::init_service(
        App::new()
            .route("/m", web::get().to(|_: ClerkMachine| async { "" }))
            .route("/o", web::get().to(|_: OptionalClerkMachine| async { "" })),
    )
    .await;
    for path in ["/m", "/o"] {
        assert_eq!(get(&app, path, Some("ak_x")).await.0, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    }
}

/// A `tracing` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// tracing caches each callsite's interest process-wide, computed when the callsite is first hit: while only one
/// dispatcher is registered, from the hitting thread's default. A test running on another thread without a
/// subscriber would then cache "never" and this test's scoped subscriber would see nothing (tokio-rs/tracing's
/// callsite-interest race). A global default that discards everything makes every thread's answer "interested"; the
/// scoped subscriber below still gets this thread's events.
fn global_sink_subscriber() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let sink = tracing_subscriber::fmt().with_writer(std::io::sink).finish();
        let _ = tracing::subscriber::set_global_default(sink);
    });
}

/// The client learns nothing; the reason (`token-type-mismatch`) is in the `tracing` event, target `clerk::auth`.
#[actix_web::test]
async fn the_mismatch_reason_goes_to_tracing() {
    let clerk = Emulator::start().await.unwrap();
    let m = machines(&clerk);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    global_sink_subscriber();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Refused by the extractor (the middleware accepts both kinds)...
    let mw = Clerk::new(authenticator(&clerk)).accepting(TokenTypes::ALL);
    let app = test::init_service(
        App::new().wrap(mw).route("/machine", web::get().to(|m: ClerkMachine| async move { m.id().to_owned() })),
    )
    .await;
    let (s, _, body) = get(&app, "/machine", Some(&m.session)).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("clerk::auth") && log.contains("token-type-mismatch"), "{log}");
    assert!(log.contains("session_token"), "{log}");

    // ...and by the middleware (the example's /machine accepts machine tokens only).
    captured.0.lock().unwrap().clear();
    let mw = Clerk::new(authenticator(&clerk));
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;
    assert_eq!(get(&app, "/machine", Some(&m.session)).await.0, StatusCode::UNAUTHORIZED);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("token-type-mismatch"), "{log}");
    assert!(!log.contains(&m.session), "the token is never logged");
}
