//! The actix example's contract against the emulator: in-process (`test::init_service`) and over a real socket,
//! plus the middleware's required mode, guards and the non-ASCII `Authorization` header.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, dead_code)]

#[path = "../examples/actix.rs"]
mod example;

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{App, HttpResponse, HttpServer, test, web};
use clerk_actix::{Authenticator, Clerk, ClerkAuth, ClerkRejection, ClerkUser, FetchUser, OptionalClerkAuth, Require};
use clerk_api::{Client, RetryPolicy};
use clerk_core::Reverification;
use clerk_testing::{Emulator, Fault};
use serde_json::{Value, json};

fn authenticator(clerk: &Emulator, fetch: FetchUser) -> Authenticator {
    let client = Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let verifier = client.verifier().authorized_parties(["http://localhost:3000"]).build().unwrap();
    Authenticator::builder().verifier(verifier).backend_api(client).fetch_user(fetch).build().unwrap()
}

fn middleware(clerk: &Emulator) -> Clerk {
    Clerk::new(authenticator(clerk, FetchUser::Never))
}

async fn get<S, B>(app: &S, path: &str, auth: Option<&str>, cookie: Option<&str>) -> (StatusCode, HeaderMap, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri(path);
    if let Some(t) = auth {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    if let Some(c) = cookie {
        req = req.insert_header((header::COOKIE, c));
    }
    send(app, req).await
}

async fn send<S, B>(app: &S, req: test::TestRequest) -> (StatusCode, HeaderMap, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = test::read_body(resp).await;
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

/// A response header's value ("" when absent or not text).
fn hv<'h>(h: &'h HeaderMap, name: &header::HeaderName) -> &'h str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[actix_web::test]
async fn contract_in_process() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;
    let uid = clerk.create_user("ada@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();

    assert_eq!(get(&app, "/health", None, None).await.2, "ok");

    let (s, h, body) = get(&app, "/me", None, None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    assert_eq!(hv(&h, &header::WWW_AUTHENTICATE), "Bearer");

    let (s, h, body) = get(&app, "/me", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hv(&h, &header::CONTENT_TYPE), "application/json");
    let me: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["user_id"], uid.as_str());
    assert!(me["org_id"].is_null());
    assert_eq!(me["org_permissions"], json!([]));

    let (s, _, _) = get(&app, "/me", None, Some(&format!("__session={token}"))).await;
    assert_eq!(s, StatusCode::OK, "cookie");

    let (s, _, body) = get(&app, "/user", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    let user: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["email_addresses"][0]["email_address"], "ada@example.com");

    let (_, _, body) = get(&app, "/optional", None, None).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"signed_in": false, "user_id": null}));
    let (_, _, body) = get(&app, "/optional", Some(&token), None).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["signed_in"], true);

    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    let (s, h, body) = get(&app, "/me", Some(&expired), None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    assert_eq!(hv(&h, &header::WWW_AUTHENTICATE), r#"Bearer error="invalid_token""#);
    // Optional mode: present but invalid is rejected (OptionalClerkAuth, not actix's error-swallowing Option<T>).
    assert_eq!(get(&app, "/optional", Some(&expired), None).await.0, StatusCode::UNAUTHORIZED);
    let wrong_azp = clerk.session_token(&uid).unwrap().authorized_party("https://evil.example").mint();
    assert_eq!(get(&app, "/me", Some(&wrong_azp), None).await.0, StatusCode::UNAUTHORIZED);

    // Guards: 401 signed out, 403 without the role, 200 with it.
    assert_eq!(get(&app, "/org-admin", None, None).await.0, StatusCode::UNAUTHORIZED);
    let (s, _, body) = get(&app, "/org-admin", Some(&token), None).await;
    assert_eq!((s, body.as_str()), (StatusCode::FORBIDDEN, "Forbidden"));
    let admin = clerk.session_token(&uid).unwrap().organization("org_1", "acme", "admin", &[]).mint();
    assert_eq!(get(&app, "/org-admin", Some(&admin), None).await.0, StatusCode::OK);

    // The Backend API is down: /user answers 503, not 401; /me (no fetch) still works.
    clerk.faults().inject("GetUser", Fault::Status(500));
    let (s, h, _) = get(&app, "/user", Some(&token), None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hv(&h, &header::RETRY_AFTER), "5");
    assert_eq!(get(&app, "/me", Some(&token), None).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn keys_unavailable_is_503_not_401() {
    let clerk = Emulator::start().await.unwrap();
    clerk.faults().inject("/v1/jwks", Fault::DropConnection);
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;
    let uid = clerk.create_user("down@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let (s, h, body) = get(&app, "/me", Some(&token), None).await;
    assert_eq!((s, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"));
    assert!(h.contains_key(header::RETRY_AFTER));
    // Optional mode too: an outage is not "signed out".
    assert_eq!(get(&app, "/optional", Some(&token), None).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

/// The community crate panics on a non-ASCII `Authorization` value; here it is a refused token.
#[actix_web::test]
async fn non_ascii_authorization_is_401() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;
    for path in ["/me", "/optional", "/user", "/org-admin"] {
        let req = test::TestRequest::get()
            .uri(path)
            .insert_header((header::AUTHORIZATION, HeaderValue::from_bytes(b"Bearer caf\xc3\xa9\xff").unwrap()));
        let (s, h, body) = send(&app, req).await;
        assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"), "{path}");
        assert_eq!(hv(&h, &header::WWW_AUTHENTICATE), r#"Bearer error="invalid_token""#, "{path}");
    }
    let req = test::TestRequest::get()
        .uri("/me")
        .insert_header((header::COOKIE, HeaderValue::from_bytes(b"__session=caf\xc3\xa9").unwrap()));
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED, "non-ASCII cookie");
}

#[actix_web::test]
async fn required_mode_and_guards() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("req@example.com").unwrap();
    let mw = middleware(&clerk).unavailable_status(StatusCode::BAD_GATEWAY);
    let app = test::init_service(
        App::new()
            .wrap(mw)
            .route("/", web::get().to(|auth: ClerkAuth| async move { auth.user_id().to_string() }))
            .route(
                "/result",
                web::get().to(|auth: Result<ClerkAuth, ClerkRejection>| async move { format!("{}", auth.is_ok()) }),
            )
            .service(
                web::resource("/perm")
                    .wrap(Require::permission("org:billing:manage"))
                    .route(web::get().to(|| async { "perm" })),
            )
            .service(web::resource("/feature").wrap(Require::feature("sso")).route(web::get().to(|| async { "f" })))
            .service(web::resource("/plan").wrap(Require::plan("pro")).route(web::get().to(|| async { "p" })))
            .service(
                web::resource("/reverify")
                    .wrap(Require::reverification(Reverification::Strict))
                    .route(web::get().to(|| async { "fresh" })),
            ),
    )
    .await;

    // Required mode answers before any handler runs.
    let (s, h, body) = get(&app, "/", None, None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"));
    assert_eq!(hv(&h, &header::WWW_AUTHENTICATE), "Bearer");
    assert_eq!(hv(&h, &header::CONTENT_TYPE), "text/plain; charset=utf-8");
    let (s, _, body) = get(&app, "/nowhere", None, None).await;
    assert_eq!((s, body.as_str()), (StatusCode::UNAUTHORIZED, "Unauthorized"), "unknown routes are guarded too");

    let token = clerk.session_token(&uid).unwrap().mint();
    assert_eq!(get(&app, "/", Some(&token), None).await.2, uid);
    assert_eq!(get(&app, "/result", Some(&token), None).await.2, "true");

    for path in ["/perm", "/feature", "/plan"] {
        let (s, _, body) = get(&app, path, Some(&token), None).await;
        assert_eq!((s, body.as_str()), (StatusCode::FORBIDDEN, "Forbidden"), "{path}");
    }
    let org = clerk.session_token(&uid).unwrap().organization("org_1", "acme", "admin", &["billing:manage"]).mint();
    assert_eq!(get(&app, "/perm", Some(&org), None).await.2, "perm");
    let fea = clerk.session_token(&uid).unwrap().features("u:sso").plans("u:pro").mint();
    assert_eq!(get(&app, "/feature", Some(&fea), None).await.2, "f");
    assert_eq!(get(&app, "/plan", Some(&fea), None).await.2, "p");

    // Reverification: the body Clerk's frontends read.
    let stale = clerk.session_token(&uid).unwrap().claim("fva", json!([100, 100])).mint();
    let (s, h, body) = get(&app, "/reverify", Some(&stale), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(hv(&h, &header::CONTENT_TYPE), "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"clerk_error": {"type": "forbidden", "reason": "reverification-error",
            "metadata": {"reverification": {"level": "second_factor", "afterMinutes": 10}}}})
    );
    let fresh = clerk.session_token(&uid).unwrap().claim("fva", json!([1, 1])).mint();
    assert_eq!(get(&app, "/reverify", Some(&fresh), None).await.2, "fresh");
    assert_eq!(get(&app, "/reverify", None, None).await.0, StatusCode::UNAUTHORIZED);

    // Outages answer the configured status, with Retry-After (a fresh middleware: no keys cached yet).
    clerk.faults().inject("/v1/jwks", Fault::DropConnection);
    let down = middleware(&clerk).unavailable_status(StatusCode::BAD_GATEWAY);
    let app = test::init_service(App::new().wrap(down).route("/", web::get().to(|| async { "" }))).await;
    let (s, h, body) = get(&app, "/", Some(&token), None).await;
    assert_eq!((s, body.as_str()), (StatusCode::BAD_GATEWAY, "Service Unavailable"));
    assert_eq!(hv(&h, &header::RETRY_AFTER), "5");
}

/// Why `OptionalClerkAuth` exists: actix's `Option<T>` turns a refused token into `None`.
#[actix_web::test]
async fn optional_clerk_auth_versus_actix_option() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("opt@example.com").unwrap();
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    let app = test::init_service(
        App::new()
            .wrap(middleware(&clerk).optional())
            .route("/ours", web::get().to(|a: OptionalClerkAuth| async move { format!("{}", a.is_some()) }))
            .route("/actix", web::get().to(|a: Option<ClerkAuth>| async move { format!("{}", a.is_some()) })),
    )
    .await;
    assert_eq!(get(&app, "/ours", None, None).await.2, "false");
    assert_eq!(get(&app, "/ours", Some(&expired), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&app, "/actix", Some(&expired), None).await.2, "false", "the documented pitfall");
}

#[actix_web::test]
async fn extractors_without_the_middleware_are_500() {
    let app = test::init_service(
        App::new()
            .route("/auth", web::get().to(|_: ClerkAuth| async { "" }))
            .route("/opt", web::get().to(|_: OptionalClerkAuth| async { "" }))
            .route("/user", web::get().to(|_: ClerkUser| async { "" }))
            .service(web::resource("/guard").wrap(Require::role("admin")).route(web::get().to(|| async { "" }))),
    )
    .await;
    for path in ["/auth", "/opt", "/user", "/guard"] {
        assert_eq!(get(&app, path, None, None).await.0, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    }
}

#[actix_web::test]
async fn user_is_fetched_once_per_request_or_by_the_middleware() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("once@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let user_path = format!("/v1/users/{uid}");
    let twice = |a: ClerkUser, b: ClerkUser| async move {
        HttpResponse::Ok().json(json!([a.user.id.to_string(), b.user.id.to_string()]))
    };

    // On demand: two extractions, one Backend API call.
    let app = test::init_service(App::new().wrap(middleware(&clerk)).route("/", web::get().to(twice))).await;
    clerk.clear_requests();
    let (s, _, body) = get(&app, "/", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!([uid, uid]));
    assert_eq!(clerk.request_count(&user_path), 1);

    // FetchUser::Always: the middleware fetches; the extractor reuses it.
    let always = Clerk::new(authenticator(&clerk, FetchUser::Always));
    let app = test::init_service(App::new().wrap(always).route("/", web::get().to(twice))).await;
    clerk.clear_requests();
    assert_eq!(get(&app, "/", Some(&token), None).await.0, StatusCode::OK);
    assert_eq!(clerk.request_count(&user_path), 1);
    // ...and a Backend API outage is a 503 from the middleware, not a 401.
    clerk.faults().inject("GetUser", Fault::Status(500));
    assert_eq!(get(&app, "/", Some(&token), None).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

#[actix_web::test]
async fn over_a_real_socket() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("sock@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    let mw = middleware(&clerk);
    let server = HttpServer::new(move || {
        let mw = mw.clone();
        App::new().configure(move |cfg| example::app(cfg, mw, None))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);

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

    // Raw bytes on the wire: a UTF-8 (non-ASCII) Authorization value is a 401, and the server keeps serving.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer caf\xc3\xa9\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await.unwrap().unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 401"), "{raw}");
    assert!(raw.contains(r#"Bearer error="invalid_token""#), "{raw}");
    assert_eq!(send(None).await.unwrap().status(), 401, "still serving");

    handle.stop(true).await;
    running.await.unwrap().unwrap();
}
