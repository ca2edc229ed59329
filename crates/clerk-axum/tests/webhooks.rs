//! `ClerkWebhook` and `VerifiedWebhook`, in-process: verification over the raw body, the body limit (declared and
//! chunked), fixed bodies and the reasons in `tracing`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use clerk_axum::{ClerkWebhook, Event, VerifiedWebhook, Webhook, WebhookRejection};
use clerk_webhooks::TestClock;
use http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: u64 = 1_700_000_000;
const EVENT: &str = r#"{"object":"event","type":"user.deleted","timestamp":1700000000000,"instance_id":"ins_1","data":{"object":"user","id":"user_1","deleted":true}}"#;

fn webhook() -> Webhook {
    Webhook::new(SECRET).unwrap().clock(Arc::new(TestClock::at_secs(NOW))).max_body_bytes(4096)
}

async fn typed(webhook: ClerkWebhook) -> Json<Value> {
    let deleted = matches!(&webhook.event, Event::UserDeleted(d) if d.id.as_deref() == Some("user_1"));
    Json(json!({ "id": webhook.id, "type": webhook.event_type, "deleted": deleted }))
}

async fn verified(message: VerifiedWebhook) -> Json<Value> {
    Json(json!({ "id": message.id(), "timestamp": message.timestamp(), "len": message.body().len() }))
}

async fn result(outcome: Result<ClerkWebhook, WebhookRejection>) -> String {
    match outcome {
        Ok(w) => w.into_inner().id,
        Err(r) => format!("{} {}", r.status().as_u16(), r.reason()),
    }
}

fn app() -> Router {
    Router::new()
        .route("/typed", post(typed))
        .route("/verified", post(verified))
        .route("/result", post(result))
        .layer(Extension(webhook()))
        .route("/unconfigured", post(typed))
}

fn signed(id: &str, ts: u64, body: &[u8]) -> HeaderMap {
    webhook().sign_headers(id, ts, body).unwrap()
}

async fn post_(path: &str, headers: HeaderMap, body: Body) -> (StatusCode, String) {
    let mut req = Request::post(path).body(body).unwrap();
    req.headers_mut().extend(headers);
    let resp = app().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn verified_events_reach_the_handler() {
    let (s, body) = post_("/typed", signed("msg_1", NOW, EVENT.as_bytes()), Body::from(EVENT)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"id": "msg_1", "type": "user.deleted", "deleted": true})
    );

    // The Standard Webhooks header names.
    let mut std_headers = HeaderMap::new();
    for (name, value) in signed("msg_2", NOW, EVENT.as_bytes()) {
        let name = name.unwrap().as_str().replace("svix-", "webhook-");
        std_headers.insert(header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
    }
    assert_eq!(post_("/typed", std_headers, Body::from(EVENT)).await.0, StatusCode::OK);

    // VerifiedWebhook takes any verified body, event or not.
    let (s, body) = post_("/verified", signed("msg_3", NOW - 10, b"[1,2]"), Body::from("[1,2]")).await;
    assert_eq!(
        (s, serde_json::from_str::<Value>(&body).unwrap()),
        (StatusCode::OK, json!({"id": "msg_3", "timestamp": NOW - 10, "len": 5}))
    );
}

#[tokio::test]
async fn unverified_requests_are_400_without_detail() {
    let other = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mut missing = signed("msg_1", NOW, EVENT.as_bytes());
    missing.remove("svix-signature");
    let cases: Vec<(&str, HeaderMap, &str, &str)> = vec![
        ("wrong secret", other.sign_headers("msg_1", NOW, EVENT.as_bytes()).unwrap(), EVENT, "no-matching-signature"),
        (
            "tampered body",
            signed("msg_1", NOW, EVENT.as_bytes()),
            r#"{"type":"user.deleted","data":{}}"#,
            "no-matching-signature",
        ),
        ("stale", signed("msg_1", NOW - 301, EVENT.as_bytes()), EVENT, "timestamp-too-old"),
        ("future", signed("msg_1", NOW + 301, EVENT.as_bytes()), EVENT, "timestamp-too-new"),
        ("missing signature", missing, EVENT, "missing-header"),
        ("no headers", HeaderMap::new(), EVENT, "missing-header"),
        ("verified, not an event", signed("msg_1", NOW, b"[]"), "[]", "invalid-payload"),
    ];
    for (name, headers, body, reason) in cases {
        let (s, text) = post_("/typed", headers.clone(), Body::from(body)).await;
        assert_eq!((s, text.as_str()), (StatusCode::BAD_REQUEST, "Bad Request"), "{name}");
        assert_eq!(post_("/result", headers, Body::from(body)).await.1, format!("400 {reason}"), "{name}");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_chunked() {
    let big = vec![b'x'; 4097];
    // Declared (Content-Length, and the body's exact size): refused before reading.
    let mut headers = signed("msg_1", NOW, &big);
    headers.insert(header::CONTENT_LENGTH, "4097".parse().unwrap());
    assert_eq!(
        post_("/typed", headers, Body::from(big.clone())).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large".into())
    );
    // A lying Content-Length alone is enough to refuse.
    let mut headers = signed("msg_1", NOW, EVENT.as_bytes());
    headers.insert(header::CONTENT_LENGTH, "999999999".parse().unwrap());
    assert_eq!(post_("/result", headers, Body::from(EVENT)).await.1, "413 body-too-large");
    // Chunked (no size known): read up to the limit, then refused.
    let chunks = |n: usize| {
        let stream =
            futures_util::stream::iter((0..n).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&[b' '; 1024]))));
        Body::from_stream(stream)
    };
    let (s, _) = post_("/typed", signed("msg_1", NOW, &[b' '; 5 * 1024]), chunks(5)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Chunked within the limit: read and verified as usual.
    let (s, body) = post_("/verified", signed("msg_1", NOW, &[b' '; 3 * 1024]), chunks(3)).await;
    assert_eq!((s, serde_json::from_str::<Value>(&body).unwrap()["len"].clone()), (StatusCode::OK, json!(3072)));
}

#[tokio::test]
async fn a_route_without_a_webhook_is_a_500() {
    let (s, body) = post_("/unconfigured", signed("msg_1", NOW, EVENT.as_bytes()), Body::from(EVENT)).await;
    assert_eq!((s, body.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"));
}

/// A writer for the tracing subscriber: everything logged, in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
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

#[tokio::test]
async fn reasons_go_to_tracing_not_to_the_client() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    global_sink_subscriber();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (s, body) = post_("/typed", signed("msg_1", NOW - 3600, EVENT.as_bytes()), Body::from(EVENT)).await;
    assert_eq!((s, body.as_str()), (StatusCode::BAD_REQUEST, "Bad Request"));
    post_("/unconfigured", HeaderMap::new(), Body::from(EVENT)).await;

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("clerk::webhooks") && text.contains("reason=\"timestamp-too-old\""), "{text}");
    assert!(text.contains("ERROR") && text.contains("without a Webhook"), "{text}");
    assert!(!text.contains("C2FVsBQIhrscChlQIMV"), "the secret is never logged: {text}");
}
