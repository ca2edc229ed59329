//! The axum example's contract against the emulator: in-process (`oneshot`) and over a real socket.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, dead_code)]

#[path = "../examples/axum.rs"]
mod example;

use std::time::Duration;

use axum::body::Body;
use clerk_api::{Client, RetryPolicy};
use clerk_axum::{Authenticator, ClerkLayer};
use clerk_testing::{Emulator, Fault};
use http::{Request, StatusCode, header};
use serde_json::Value;
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

async fn get(
    app: &axum::Router,
    path: &str,
    auth: Option<&str>,
    cookie: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::get(path);
    if let Some(t) = auth {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn contract_in_process() {
    let clerk = Emulator::start().await.unwrap();
    let app = example::app(layer(&clerk), None);
    let uid = clerk.create_user("ada@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();

    assert_eq!(get(&app, "/health", None, None).await.2, "ok");

    let (s, h, body) = get(&app, "/me", None, None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");

    let (s, _, body) = get(&app, "/me", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    let me: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["user_id"], uid.as_str());
    assert!(me["org_id"].is_null());
    assert_eq!(me["org_permissions"], serde_json::json!([]));

    let (s, _, _) = get(&app, "/me", None, Some(&format!("__session={token}"))).await;
    assert_eq!(s, StatusCode::OK, "cookie");

    let (s, _, body) = get(&app, "/user", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    let user: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["email_addresses"][0]["email_address"], "ada@example.com");

    let (_, _, body) = get(&app, "/optional", None, None).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), serde_json::json!({"signed_in": false, "user_id": null}));
    let (_, _, body) = get(&app, "/optional", Some(&token), None).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["signed_in"], true);

    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    let (s, h, body) = get(&app, "/me", Some(&expired), None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    assert_eq!(h[header::WWW_AUTHENTICATE], r#"Bearer error="invalid_token""#);
    // Optional mode: present but invalid is rejected, as axum's optional extractors do.
    assert_eq!(get(&app, "/optional", Some(&expired), None).await.0, StatusCode::UNAUTHORIZED);
    let wrong_azp = clerk.session_token(&uid).unwrap().authorized_party("https://evil.example").mint();
    assert_eq!(get(&app, "/me", Some(&wrong_azp), None).await.0, StatusCode::UNAUTHORIZED);

    // Guards: 401 signed out, 403 without the role, 200 with it.
    assert_eq!(get(&app, "/org-admin", None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&app, "/org-admin", Some(&token), None).await.0, StatusCode::FORBIDDEN);
    let admin = clerk.session_token(&uid).unwrap().organization("org_1", "acme", "admin", &[]).mint();
    assert_eq!(get(&app, "/org-admin", Some(&admin), None).await.0, StatusCode::OK);

    // The Backend API is down: /user answers 503, not 401; /me (no fetch) still works.
    clerk.faults().inject("GetUser", Fault::Status(500));
    assert_eq!(get(&app, "/user", Some(&token), None).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(get(&app, "/me", Some(&token), None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn keys_unavailable_is_503_not_401() {
    let clerk = Emulator::start().await.unwrap();
    clerk.faults().inject("/v1/jwks", Fault::DropConnection);
    let app = example::app(layer(&clerk), None);
    let uid = clerk.create_user("down@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let (s, h, _) = get(&app, "/me", Some(&token), None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn over_a_real_socket() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("sock@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, example::app(layer(&clerk), None)).into_future());
    let transport = clerk_core::HyperTransport::new().unwrap();
    use clerk_core::HttpTransport as _;
    let send = |t: Option<String>| {
        let mut req = http::Request::get(format!("http://{addr}/me"));
        if let Some(t) = t {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        transport.send(req.body(bytes::Bytes::new()).unwrap())
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    let resp = send(Some(token)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["user_id"], uid.as_str());
    server.abort();
}

/// The layer records its outcome as one request extension (one insert per request), whatever the outcome.
#[tokio::test]
async fn the_layer_adds_one_extension() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("ext@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let count = axum::routing::get(|req: axum::extract::Request| async move { req.extensions().len().to_string() });
    let plain = axum::Router::new().route("/", count.clone());
    let layered = axum::Router::new().route("/", count).layer(layer(&clerk).optional());
    let base: usize = get(&plain, "/", None, None).await.2.parse().unwrap();
    for auth in [None, Some(token.as_str()), Some("garbage-token-0123456789")] {
        let n: usize = get(&layered, "/", auth, None).await.2.parse().unwrap();
        assert_eq!(n, base + 1, "{auth:?}");
    }
}

/// A token verified once is decided by the layer at once afterwards (no boxed future): it must answer exactly as
/// the first time, in both modes and through a guard, and refuse it the same way once it has expired.
#[tokio::test]
async fn cached_tokens_are_answered_as_the_first_time() {
    use axum::routing::get as route;
    use clerk_axum::{ClerkAuth, RequireLayer};
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("cache@example.com").unwrap();
    let clock = clerk_core::TestClock::at_secs(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
    );
    let verifier =
        clerk_core::Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().clock(clock.clone()).build().unwrap();
    let layer = ClerkLayer::new(Authenticator::builder().verifier(verifier).build().unwrap());
    let routes = || {
        axum::Router::new()
            .route("/me", route(|auth: ClerkAuth| async move { auth.user_id().to_string() }))
            .route("/maybe", route(|auth: Option<ClerkAuth>| async move { format!("{}", auth.is_some()) }))
            .route("/admin", route(|| async { "admin" }).route_layer(RequireLayer::role("org:admin")))
    };
    let required = routes().layer(layer.clone());
    let optional = routes().layer(layer.optional());
    let member = clerk
        .session_token(&uid)
        .unwrap()
        .lifetime(Duration::from_secs(60))
        .organization("org_1", "acme", "org:member", &[])
        .mint();

    for round in ["first (verified)", "second (cached)", "third (cached)"] {
        for app in [&required, &optional] {
            assert_eq!(get(app, "/me", Some(&member), None).await.2, uid, "{round}");
            assert_eq!(get(app, "/maybe", Some(&member), None).await.2, "true", "{round}");
            assert_eq!(get(app, "/admin", Some(&member), None).await.0, StatusCode::FORBIDDEN, "{round}");
        }
    }

    clock.advance(Duration::from_secs(120));
    for _ in 0..2 {
        let (s, h, body) = get(&required, "/me", Some(&member), None).await;
        assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"");
        // Optional mode lets it through to the extractors, which refuse it: present but invalid.
        assert_eq!(get(&optional, "/maybe", Some(&member), None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(get(&optional, "/admin", Some(&member), None).await.0, StatusCode::UNAUTHORIZED);
    }
}

/// A service that must be readied before each call, as tower's contract says: a clone is not ready, `poll_ready`
/// makes it ready, and `call` spends the readiness (so calling a service that was not readied fails the test).
#[derive(Default)]
struct MustBeReady {
    ready: bool,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Clone for MustBeReady {
    fn clone(&self) -> Self {
        Self { ready: false, calls: std::sync::Arc::clone(&self.calls) }
    }
}

impl tower::Service<axum::extract::Request> for MustBeReady {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.ready = true;
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: axum::extract::Request) -> Self::Future {
        assert!(std::mem::take(&mut self.ready), "called without poll_ready");
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::future::ready(Ok(axum::response::IntoResponse::into_response("inner")))
    }
}

/// `Clerk<S>` honours tower's readiness contract on every path: a token decided in `call` (cached), one verified in
/// the response future, and refusals of both kinds; the inner service is only ever called once readied, and once per
/// request that gets through.
#[tokio::test]
async fn the_service_calls_its_inner_service_only_once_readied() {
    use tower::{Layer as _, Service as _, ServiceExt as _};
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("ready@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let inner = MustBeReady::default();
    let calls = std::sync::Arc::clone(&inner.calls);
    let clerk_layer = layer(&clerk);
    let mut svc = clerk_layer.layer(inner);
    let request = |auth: Option<&str>| {
        let mut r = Request::get("/");
        if let Some(t) = auth {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        r.body(Body::empty()).unwrap()
    };
    // Verified twice in the future (the cache admits a token on its second pass), then decided in `call`.
    let expected = [(Some(token.as_str()), 200), (None, 401), (Some(&token), 200), (Some("not-a-token"), 401)]
        .into_iter()
        .chain(std::iter::repeat_n((Some(token.as_str()), 200), 3));
    let mut through = 0;
    for (i, (auth, status)) in expected.enumerate() {
        let resp = svc.ready().await.unwrap().call(request(auth)).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "request {i}");
        through += usize::from(status == 200);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), through, "request {i}");
    }
    assert_eq!(
        clerk_layer.authenticator().verifier().cached_tokens(),
        1,
        "the token is cached: the last three requests were decided in `call`"
    );
}
