//! `ClerkWebhook`: the example's `POST /webhooks/clerk` in-process and over a real socket, fed by the emulator's own
//! (independent, RustCrypto) signer; body limits (declared and chunked), non-ASCII headers, missing configuration.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, dead_code)]

#[path = "../examples/actix.rs"]
mod example;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpServer, test, web};
use bytes::Bytes;
use clerk_actix::{Authenticator, Clerk, ClerkWebhook, ClerkWebhookError, VerifiedWebhook, Webhook};
use clerk_testing::{Emulator, RawWebhook, sign_webhook};
use serde_json::{Value, json};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const LIMIT: usize = 1024;

/// What no refusal may say.
const REASONS: [&str; 9] = [
    "missing-header",
    "invalid-header",
    "invalid-timestamp",
    "timestamp-too-old",
    "timestamp-too-new",
    "no-matching-signature",
    "body-too-large",
    "invalid-payload",
    "svix",
];

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

fn webhook() -> Webhook {
    Webhook::new(SECRET).unwrap().max_body_bytes(LIMIT)
}

/// The socket test's limit: the emulator's `user.created` is about 2.5 KB.
const SOCKET_LIMIT: usize = 16 * 1024;

/// A middleware for the example's other routes; the webhook route never consults it.
fn middleware(clerk: &Emulator) -> Clerk {
    let verifier = clerk_core::Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    Clerk::new(Authenticator::builder().verifier(verifier).build().unwrap())
}

fn event_body(event_type: &str) -> String {
    json!({
        "object": "event",
        "type": event_type,
        "timestamp": 1_700_000_000_000_i64,
        "instance_id": "ins_test",
        "data": {"object": "user", "id": "user_29w83sxmDNGwOuEthce5gg56FcC", "deleted": true},
    })
    .to_string()
}

/// A signed webhook request: the three `svix-*` headers over `body`, signed by the emulator's signer.
fn signed(msg_id: &str, ts: i64, body: &str) -> test::TestRequest {
    let sig = sign_webhook(SECRET, msg_id, ts, body.as_bytes()).unwrap();
    test::TestRequest::post()
        .uri("/webhooks/clerk")
        .insert_header(("svix-id", msg_id))
        .insert_header(("svix-timestamp", ts.to_string()))
        .insert_header(("svix-signature", sig))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_owned())
}

async fn send<S, B>(app: &S, req: actix_http::Request) -> (StatusCode, Option<String>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = test::call_service(app, req).await;
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(resp).await;
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

/// A refusal: the status, a fixed text body, nothing about why.
fn assert_refused(got: &(StatusCode, Option<String>, String), status: StatusCode, what: &str) {
    let (s, content_type, body) = got;
    assert_eq!(*s, status, "{what}: {body}");
    assert_eq!(body, status.canonical_reason().unwrap(), "{what}");
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"), "{what}");
    for reason in REASONS {
        assert!(!body.contains(reason), "{what}: the body says {reason}");
    }
}

#[actix_web::test]
async fn verified_events_reach_the_handler() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, Some(webhook())))).await;
    let body = event_body("user.deleted");

    let (s, ct, out) = send(&app, signed("msg_1", now(), &body).to_request()).await;
    assert_eq!((s, ct.as_deref()), (StatusCode::OK, Some("application/json")), "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!({"id": "msg_1", "type": "user.deleted"}));

    // No Clerk session on this route: an Authorization header (even a bad one) is not read.
    let req = signed("msg_2", now(), &body).insert_header((header::AUTHORIZATION, "Bearer not-a-token"));
    assert_eq!(send(&app, req.to_request()).await.0, StatusCode::OK);

    // The Standard Webhooks header names.
    let ts = now();
    let req = test::TestRequest::post()
        .uri("/webhooks/clerk")
        .insert_header(("webhook-id", "msg_3"))
        .insert_header(("webhook-timestamp", ts.to_string()))
        .insert_header(("webhook-signature", sign_webhook(SECRET, "msg_3", ts, body.as_bytes()).unwrap()))
        .set_payload(body.clone());
    let (s, _, out) = send(&app, req.to_request()).await;
    assert_eq!((s, serde_json::from_str::<Value>(&out).unwrap()["id"].clone()), (StatusCode::OK, json!("msg_3")));

    // An unknown event type is not an error: the handler sees it, typed `Unknown`.
    let (s, _, out) = send(&app, signed("msg_4", now(), &event_body("something.new")).to_request()).await;
    assert_eq!(
        (s, serde_json::from_str::<Value>(&out).unwrap()["type"].clone()),
        (StatusCode::OK, json!("something.new"))
    );

    // A body of exactly the limit passes (JSON padded with spaces).
    let exact = format!("{body:<LIMIT$}");
    assert_eq!(exact.len(), LIMIT);
    assert_eq!(send(&app, signed("msg_5", now(), &exact).to_request()).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn refusals_are_400_with_no_detail() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, Some(webhook())))).await;
    let body = event_body("user.created");
    let other_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    let mut cases: Vec<(&str, test::TestRequest)> = vec![
        ("stale timestamp", signed("msg_1", now() - 600, &body)),
        ("future timestamp", signed("msg_1", now() + 600, &body)),
        ("tampered body", signed("msg_1", now(), &body).set_payload(body.replace("user.created", "user.deleted"))),
        (
            "another secret",
            signed("msg_1", now(), &body).insert_header((
                "svix-signature",
                sign_webhook(other_secret, "msg_1", now(), body.as_bytes()).unwrap(),
            )),
        ),
        ("another id", signed("msg_1", now(), &body).insert_header(("svix-id", "msg_2"))),
        ("garbage signature", signed("msg_1", now(), &body).insert_header(("svix-signature", "v1,AAAA v2,xyz"))),
        ("timestamp not an integer", signed("msg_1", now(), &body).insert_header(("svix-timestamp", "1e9"))),
        ("signed, but not JSON", signed("msg_1", now(), "not json")),
        ("signed, but not an event", signed("msg_1", now(), r#"{"data": {}}"#)),
        ("empty body", signed("msg_1", now(), "")),
    ];
    for name in ["svix-id", "svix-timestamp", "svix-signature"] {
        let ts = now();
        let mut req = test::TestRequest::post().uri("/webhooks/clerk").set_payload(body.clone());
        for (n, v) in [
            ("svix-id", "msg_1".to_owned()),
            ("svix-timestamp", ts.to_string()),
            ("svix-signature", sign_webhook(SECRET, "msg_1", ts, body.as_bytes()).unwrap()),
        ] {
            if n != name {
                req = req.insert_header((n, v));
            }
        }
        cases.push((name, req));
    }
    cases.push(("no headers at all", test::TestRequest::post().uri("/webhooks/clerk").set_payload(body.clone())));
    for (what, req) in cases {
        let got = send(&app, req.to_request()).await;
        assert_refused(&got, StatusCode::BAD_REQUEST, what);
    }
}

/// The headers are copied byte for byte and judged by the verifier: a non-ASCII value is a `400`, never a panic.
#[actix_web::test]
async fn non_ascii_header_values_are_400() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, Some(webhook())))).await;
    let body = event_body("user.created");
    let raws = [&b"caf\xc3\xa9"[..], b"\xff\xfe", b"v1,\xc3\xa9\xc3\xa9"];
    for name in ["svix-id", "svix-timestamp", "svix-signature"] {
        for raw in raws {
            let req = signed("msg_1", now(), &body).insert_header((name, HeaderValue::from_bytes(raw).unwrap()));
            let got = send(&app, req.to_request()).await;
            assert_refused(&got, StatusCode::BAD_REQUEST, &format!("{name}: {raw:?}"));
        }
    }
    // The Standard Webhooks set (read only when there is no `svix-id`).
    let ts = now();
    let sig = sign_webhook(SECRET, "msg_1", ts, body.as_bytes()).unwrap();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        for raw in raws {
            let mut req = test::TestRequest::post().uri("/webhooks/clerk").set_payload(body.clone());
            for (n, v) in [("webhook-id", "msg_1"), ("webhook-timestamp", &ts.to_string()), ("webhook-signature", &sig)]
            {
                let v =
                    if n == name { HeaderValue::from_bytes(raw).unwrap() } else { HeaderValue::from_str(v).unwrap() };
                req = req.insert_header((n, v));
            }
            let got = send(&app, req.to_request()).await;
            assert_refused(&got, StatusCode::BAD_REQUEST, &format!("{name}: {raw:?}"));
        }
    }
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, Some(webhook())))).await;

    // Declared: refused on the Content-Length, whatever follows.
    let big = format!("{:<1025}", event_body("user.created"));
    let got = send(&app, signed("msg_1", now(), &big).to_request()).await;
    assert_refused(&got, StatusCode::PAYLOAD_TOO_LARGE, "declared 1025 bytes");
    let req = signed("msg_1", now(), "{}").insert_header((header::CONTENT_LENGTH, "1000000000000"));
    assert_refused(&send(&app, req.to_request()).await, StatusCode::PAYLOAD_TOO_LARGE, "declared 1 TB");

    // Chunked (no Content-Length): reading stops past the limit. The stream never ends, so an extractor that read
    // to the end would hang here.
    let (mut sender, payload) = actix_http::h1::Payload::create(false);
    sender.feed_data(Bytes::from(vec![b' '; 600]));
    sender.feed_data(Bytes::from(vec![b' '; 600]));
    let req = test::TestRequest::post()
        .uri("/webhooks/clerk")
        .insert_header(("svix-id", "msg_1"))
        .insert_header(("svix-timestamp", now().to_string()))
        .insert_header(("svix-signature", "v1,AAAA"))
        .insert_header((header::TRANSFER_ENCODING, "chunked"))
        .to_request();
    let (req, _) = req.replace_payload(actix_http::Payload::from(payload));
    let got =
        tokio::time::timeout(Duration::from_secs(10), send(&app, req)).await.expect("stopped reading at the limit");
    assert_refused(&got, StatusCode::PAYLOAD_TOO_LARGE, "chunked 1200 bytes");
    drop(sender);
}

#[actix_web::test]
async fn configuration_as_data_bare_or_missing() {
    async fn handler(ClerkWebhook(event): ClerkWebhook) -> String {
        event.id
    }
    let app =
        test::init_service(
            App::new()
                .service(web::resource("/data").app_data(web::Data::new(webhook())).route(web::post().to(handler)))
                .service(web::resource("/bare").app_data(webhook()).route(web::post().to(handler)))
                .service(web::resource("/none").route(web::post().to(handler)))
                .service(web::resource("/verified").app_data(webhook()).route(web::post().to(
                    |m: VerifiedWebhook| async move { format!("{} {} {}", m.id(), m.timestamp(), m.body().len()) },
                )))
                .service(web::resource("/result").app_data(webhook()).route(web::post().to(
                    |r: Result<ClerkWebhook, ClerkWebhookError>| async move {
                        r.map_or_else(|e| format!("{} {}", e.status().as_u16(), e.reason()), |w| w.id.clone())
                    },
                ))),
        )
        .await;
    let body = event_body("user.created");
    for path in ["/data", "/bare"] {
        let (s, _, out) = send(&app, signed("msg_ok", now(), &body).uri(path).to_request()).await;
        assert_eq!((s, out.as_str()), (StatusCode::OK, "msg_ok"), "{path}");
    }
    // No Webhook configured: a misconfiguration, 500 (and an error event), not a refusal of the sender.
    let got = send(&app, signed("msg_ok", now(), &body).uri("/none").to_request()).await;
    assert_refused(&got, StatusCode::INTERNAL_SERVER_ERROR, "no Webhook in app data");
    // Result<ClerkWebhook, ClerkWebhookError> sees why.
    let (_, _, out) = send(&app, signed("msg_x", now() - 3600, &body).uri("/result").to_request()).await;
    assert_eq!(out, "400 timestamp-too-old");
    let (_, _, out) = send(&app, signed("msg_x", now(), "[1]").uri("/result").to_request()).await;
    assert_eq!(out, "400 invalid-payload");
    // VerifiedWebhook stops at the verified message: any body that verifies, event or not.
    let ts = now();
    let (s, _, out) = send(&app, signed("msg_v", ts, "[1]").uri("/verified").to_request()).await;
    assert_eq!((s, out), (StatusCode::OK, format!("msg_v {ts} 3")));
    let got = send(&app, signed("msg_v", ts - 3600, "[1]").uri("/verified").to_request()).await;
    assert_refused(&got, StatusCode::BAD_REQUEST, "VerifiedWebhook, stale");
}

/// The emulator delivers its own events (signed with RustCrypto, not this SDK) to the example over HTTP.
#[actix_web::test]
async fn the_emulator_delivers_to_the_example_over_a_socket() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let server = HttpServer::new(move || {
        let mw = mw.clone();
        App::new().configure(move |cfg| example::app(cfg, mw, Some(webhook().max_body_bytes(SOCKET_LIMIT))))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);

    let endpoint = clerk.add_webhook_endpoint_with_secret(format!("http://{addr}/webhooks/clerk"), SECRET).unwrap();
    let uid = clerk.create_user("hook@example.com").unwrap();
    let delivery = clerk.wait_for_webhook("user.created", Duration::from_secs(20)).await.unwrap();
    assert!(delivery.delivered, "{delivery:?}");
    assert_eq!(delivery.last_status, Some(200));
    assert_eq!(delivery.payload()["data"]["id"], uid.as_str());

    // Hand-made deliveries: stale, and signed with another secret.
    let stale = RawWebhook::new(event_body("user.updated")).timestamp(now() - 600);
    assert_eq!(clerk.send_raw_webhook(endpoint.id(), stale).await.unwrap().last_status, Some(400));
    let forged = RawWebhook::new(event_body("user.updated")).signed_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert_eq!(clerk.send_raw_webhook(endpoint.id(), forged).await.unwrap().last_status, Some(400));
    let fine = RawWebhook::new(event_body("user.updated"));
    assert_eq!(clerk.send_raw_webhook(endpoint.id(), fine).await.unwrap().last_status, Some(200));

    // Raw bytes: a chunked body past the limit is a 413 (the server stops reading), a non-ASCII header a 400.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhooks/clerk HTTP/1.1\r\nHost: localhost\r\nsvix-id: msg_1\r\nsvix-timestamp: {}\r\n\
         svix-signature: v1,AAAA\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        now()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{SOCKET_LIMIT:x}\r\n{}\r\n", " ".repeat(SOCKET_LIMIT));
    // Two chunks of the limit's size, then nothing more: no terminating chunk, so only the limit can end the read.
    for _ in 0..2 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    // The answer comes while the request is still unfinished (the connection may stay open: read what arrives).
    let raw = read_until(&mut stream, "Payload Too Large").await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /webhooks/clerk HTTP/1.1\r\nHost: localhost\r\nsvix-id: caf\xc3\xa9\r\nsvix-timestamp: 1\r\n\
              svix-signature: v1,\xff\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await.unwrap().unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.ends_with("\r\n\r\nBad Request"), "{raw}");

    handle.stop(true).await;
    running.await.unwrap().unwrap();
}

/// Reads from `stream` until `end` has arrived (or it closes), within 10 s.
async fn read_until(stream: &mut tokio::net::TcpStream, end: &str) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            raw.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&raw).ends_with(end) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("no answer within 10 s");
    String::from_utf8_lossy(&raw).into_owned()
}

#[actix_web::test]
async fn without_a_secret_the_route_is_not_mounted() {
    let clerk = Emulator::start().await.unwrap();
    let mw = middleware(&clerk);
    let app = test::init_service(App::new().configure(|cfg| example::app(cfg, mw, None))).await;
    let (s, _, _) = send(&app, signed("msg_1", now(), &event_body("user.created")).to_request()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
