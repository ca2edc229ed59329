//! The shared policy through the axum layer: requirement combinations, and the failure behind a refusal reaching a
//! handler that asks for it (`Result<ClerkAuth, ClerkRejection>`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use clerk_axum::{Authenticator, ClerkAuth, ClerkLayer, ClerkRejection, RequireLayer, Requirement};
use clerk_core::{Reverification, Verifier};
use clerk_testing::{Emulator, Fault};
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

async fn call(app: &axum::Router, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn local_layer(clerk: &Emulator) -> ClerkLayer {
    let verifier = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    ClerkLayer::new(Authenticator::builder().verifier(verifier).build().unwrap())
}

#[tokio::test]
async fn requirements_combine_with_any_and_all() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("policy@example.com").unwrap();
    let ok = || async { "ok" };
    let app = axum::Router::new()
        .route(
            "/any",
            get(ok).route_layer(RequireLayer::new(Requirement::any([
                Requirement::role("org:admin"),
                Requirement::permission("org:billing:manage"),
            ]))),
        )
        .route(
            "/all",
            get(ok).route_layer(RequireLayer::new(Requirement::all([
                Requirement::role("org:admin"),
                Requirement::permission("org:reports:read"),
            ]))),
        )
        .route(
            "/billing-fresh",
            get(ok).route_layer(RequireLayer::new(Requirement::all([
                Requirement::permission("org:billing:manage"),
                Requirement::Reverification(Reverification::Strict),
            ]))),
        )
        .layer(local_layer(&clerk));
    let token = |role: &str, perms: &[&str]| {
        clerk.session_token(&uid).unwrap().organization("org_1", "acme", role, perms).claim("fva", json!([0, 0])).mint()
    };
    let admin = token("org:admin", &[]);
    let biller = token("org:member", &["org:billing:manage"]);
    let member = token("org:member", &[]);
    let admin_reports = token("org:admin", &["org:reports:read"]);

    assert_eq!(call(&app, "/any", Some(&admin)).await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(call(&app, "/any", Some(&biller)).await.0, StatusCode::OK);
    assert_eq!(call(&app, "/any", Some(&member)).await, (StatusCode::FORBIDDEN, "Forbidden".to_owned()));
    assert_eq!(call(&app, "/any", None).await.0, StatusCode::UNAUTHORIZED);

    assert_eq!(call(&app, "/all", Some(&admin)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "/all", Some(&biller)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "/all", Some(&admin_reports)).await.0, StatusCode::OK);

    // Verified just now: let through. Verified long ago: the reverification answer Clerk's frontends read.
    assert_eq!(call(&app, "/billing-fresh", Some(&biller)).await.0, StatusCode::OK);
    let stale = clerk
        .session_token(&uid)
        .unwrap()
        .organization("org_1", "acme", "org:member", &["org:billing:manage"])
        .claim("fva", json!([600, 600]))
        .mint();
    let (status, body) = call(&app, "/billing-fresh", Some(&stale)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["clerk_error"]["reason"], "reverification-error");
    assert_eq!(body["clerk_error"]["metadata"]["reverification"]["level"], "second_factor");
    // Without the permission, a plain 403: reverifying would not help.
    let stale_member = clerk
        .session_token(&uid)
        .unwrap()
        .organization("org_1", "acme", "org:member", &[])
        .claim("fva", json!([600, 600]));
    assert_eq!(
        call(&app, "/billing-fresh", Some(&stale_member.mint())).await,
        (StatusCode::FORBIDDEN, "Forbidden".to_owned())
    );
}

/// What a handler sees when it asks for every outcome.
async fn outcome(auth: Result<ClerkAuth, ClerkRejection>) -> String {
    match auth {
        Ok(auth) => format!("signed-in {}", auth.user_id()),
        Err(rejection) => match rejection.failure() {
            Some(failure) => format!("{} {}", rejection.status().as_u16(), failure.reason()),
            None => format!("{} signed-out", rejection.status().as_u16()),
        },
    }
}

#[tokio::test]
async fn the_failure_reason_reaches_a_handler_that_asks() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("reason@example.com").unwrap();
    let app = axum::Router::new().route("/who", get(outcome)).layer(local_layer(&clerk).optional());
    let valid = clerk.session_token(&uid).unwrap().mint();
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    let forged = clerk.session_token(&uid).unwrap().signed_by(clerk.foreign_key().unwrap()).mint();

    assert_eq!(call(&app, "/who", Some(&valid)).await.1, format!("signed-in {uid}"));
    assert_eq!(call(&app, "/who", Some(&expired)).await.1, "401 token-expired");
    assert_eq!(call(&app, "/who", Some(&forged)).await.1, "401 token-invalid-signature");
    assert_eq!(call(&app, "/who", Some("not-a-token")).await.1, "401 token-invalid");
    assert_eq!(call(&app, "/who", None).await.1, "401 signed-out");

    // An outage: the keys cannot be loaded (a fresh verifier against the Backend API, which fails).
    let client = clerk_api::Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(clerk_api::RetryPolicy::none())
        .build()
        .unwrap();
    let remote = ClerkLayer::new(client.authenticator().unwrap().build().unwrap()).optional();
    let app = axum::Router::new().route("/who", get(outcome)).layer(remote);
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    assert_eq!(call(&app, "/who", Some(&valid)).await.1, "503 jwk-remote-failed-to-load");
}

/// `ClerkUser` loads the user once per request, however many extractors ask, and reuses the user the layer loaded
/// (`FetchUser::Always`).
#[tokio::test]
async fn the_user_is_loaded_once_per_request() {
    use clerk_axum::{ClerkUser, FetchUser};
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("once@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let user_path = format!("/v1/users/{uid}");
    let client = clerk_api::Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(clerk_api::RetryPolicy::none())
        .build()
        .unwrap();
    let twice = |a: ClerkUser, b: ClerkUser| async move { format!("{} {}", a.user.id, b.user.id) };
    for fetch in [FetchUser::Never, FetchUser::Always] {
        let layer = ClerkLayer::new(client.authenticator().unwrap().fetch_user(fetch).build().unwrap());
        let app = axum::Router::new().route("/", get(twice)).layer(layer);
        clerk.clear_requests();
        assert_eq!(call(&app, "/", Some(&token)).await, (StatusCode::OK, format!("{uid} {uid}")), "{fetch:?}");
        assert_eq!(clerk.request_count(&user_path), 1, "{fetch:?}");
    }
}

/// `OptionalClerkAuth`: the same name and meaning as in clerk-actix (`None` only without credentials).
#[tokio::test]
async fn optional_clerk_auth_is_none_only_without_credentials() {
    use clerk_axum::OptionalClerkAuth;
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("optional@example.com").unwrap();
    let greet = |OptionalClerkAuth(auth): OptionalClerkAuth| async move {
        auth.map_or_else(|| "stranger".to_owned(), |a| a.user_id().to_string())
    };
    let app = axum::Router::new().route("/", get(greet)).layer(local_layer(&clerk).optional());
    assert_eq!(call(&app, "/", None).await, (StatusCode::OK, "stranger".to_owned()));
    assert_eq!(call(&app, "/", Some(&clerk.session_token(&uid).unwrap().mint())).await.1, uid);
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    assert_eq!(call(&app, "/", Some(&expired)).await.0, StatusCode::UNAUTHORIZED);
}

/// A log that tests can read.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A secret key the Backend API refuses is the app's misconfiguration, not an outage: `500` (no `Retry-After`, which
/// would promise that retrying helps), and one `error` log naming the variable to fix, not one per request.
#[tokio::test]
async fn a_refused_secret_key_is_a_server_error_logged_once() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("wrong-key@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let client = clerk_api::Client::builder()
        .secret_key("sk_test_wrongwrongwrongwrongwrongwrongwrongwr")
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(clerk_api::RetryPolicy::none())
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route("/me", get(|auth: ClerkAuth| async move { auth.user_id().to_string() }))
        .layer(ClerkLayer::new(client.authenticator().unwrap().build().unwrap()));

    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    // A global subscriber first, so that no test on a thread without one caches "never" for a callsite (tracing's
    // process-wide interest cache) before this one's thread-local subscriber is set.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::fmt().with_writer(std::io::sink).finish());
    });
    let _guard = tracing::subscriber::set_default(subscriber);
    for _ in 0..3 {
        let req = Request::get("/me").header(header::AUTHORIZATION, format!("Bearer {token}"));
        let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        assert_eq!(&body[..], b"Internal Server Error");
    }
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(errors[0].contains("CLERK_SECRET_KEY") && errors[0].contains("secret-key-invalid"), "{text}");
    assert!(!text.contains("sk_test_wrong"), "the key is never logged: {text}");
}
