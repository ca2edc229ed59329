//! Webhooks the emulator sends for its own state changes: payloads as the webhooks spec documents them, Svix
//! headers, signatures checked here with an HMAC of our own, order, retries, unreachable endpoints, hand-made sends.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use bytes::Bytes;
use clerk_core::{HttpTransport, HyperTransport};
use clerk_testing::{
    Emulator, EmulatorError, RawWebhook, WebhookDeliveryConfig, WebhookDeliveryState, WebhookEndpointConfig,
    WebhookError,
};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------------------------
// A webhook receiver on loopback: records every request, answers from a script (then 200).

#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Debug, Default)]
struct ReceiverState {
    got: Vec<Received>,
    script: VecDeque<u16>,
}

#[derive(Debug, Clone, Default)]
struct Receiver(Arc<Mutex<ReceiverState>>);

impl Receiver {
    async fn start(script: &[u16]) -> (Self, String) {
        let me = Self::default();
        me.0.lock().unwrap().script = script.iter().copied().collect();
        let app = Router::new().route("/webhooks/clerk", post(receive)).with_state(me.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/clerk", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (me, url)
    }

    fn got(&self) -> Vec<Received> {
        self.0.lock().unwrap().got.clone()
    }

    fn types(&self) -> Vec<String> {
        self.got().iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut st = r.0.lock().unwrap();
    st.got.push(Received { headers, body });
    StatusCode::from_u16(st.script.pop_front().unwrap_or(200)).unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// An independent check of the Standard Webhooks signature.

fn now_secs() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

fn expected_signature(secret: &str, id: &str, ts: &str, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks the headers and the signature of a received delivery the way a receiver must.
fn assert_signed(r: &Received, secret: &str) {
    assert_eq!(r.header("content-type"), "application/json");
    let id = r.header("svix-id");
    assert!(id.starts_with("msg_") && id.len() > 10, "svix-id {id}");
    let ts = r.header("svix-timestamp");
    let secs: i64 = ts.parse().unwrap_or_else(|_| panic!("svix-timestamp is integer seconds: {ts}"));
    assert!((now_secs() - secs).abs() < 60, "svix-timestamp {secs} is now");
    let expected = expected_signature(secret, id, ts, &r.body);
    let sigs: Vec<&str> = r.header("svix-signature").split(' ').collect();
    assert!(
        sigs.iter().any(|s| s.strip_prefix("v1,") == Some(expected.as_str())),
        "signature {sigs:?} does not verify (expected v1,{expected})"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// The webhooks spec: each event's body is checked against its documented schema.

fn webhook_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/clerk-spec/webhooks-2025-04-15.yml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
        serde_yaml::from_str(&text).unwrap()
    })
}

fn assert_matches_webhook_spec(event: &Value) {
    let spec = webhook_spec();
    let ty = event["type"].as_str().unwrap();
    let schema = &spec["x-webhooks"][ty]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{ty} is not in the webhooks spec");
    let schemas: &Map<String, Value> = spec["components"]["schemas"].as_object().unwrap();
    let check = |value: &Value, schema: &Value| {
        let violations = clerk_testing::validate::validate(value, schema, schemas);
        assert!(violations.is_empty(), "{ty}: body does not match the webhooks spec: {violations:#?}\n{event:#}");
    };
    if ty.starts_with("session.") {
        // `SessionEventPayload` is `allOf: [Session, {user}]`, but `Session` says `additionalProperties: false`, so
        // no body (not even the spec's own example) passes it strictly: check the session and its user apart.
        let mut session = event["data"].clone();
        let user = session.as_object_mut().unwrap().remove("user").expect("session events carry the user");
        check(&session, &json!({"$ref": "#/components/schemas/Session"}));
        check(&user, &json!({"$ref": "#/components/schemas/User"}));
        let mut envelope = event.clone();
        envelope.as_object_mut().unwrap().remove("data");
        check(&envelope, &json!({"$ref": "#/components/schemas/WebhookEventPayload"}));
    } else {
        check(event, schema);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// A Backend API client.

struct Api<'a> {
    clerk: &'a Emulator,
    t: HyperTransport,
}

impl<'a> Api<'a> {
    fn new(clerk: &'a Emulator) -> Self {
        Self { clerk, t: HyperTransport::builder().timeout(Duration::from_secs(10)).build().unwrap() }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}/v1{path}", self.clerk.api_url()))
            .header("authorization", format!("Bearer {}", self.clerk.secret_key()))
            .header("user-agent", "webhook-tests/1.0");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(body.map(|b| Bytes::from(b.to_string())).unwrap_or_default()).unwrap();
        let resp = self.t.send(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body();
        (status, if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() })
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }
}

// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn backend_api_changes_arrive_signed_in_order_as_the_spec_documents() {
    let (rx, url) = Receiver::start(&[]).await;
    let clerk = Emulator::start().await.unwrap();
    let before = clerk.create_user("before@example.com").unwrap(); // before any endpoint: no event
    let ep = clerk.add_webhook_endpoint(&url).unwrap();
    assert!(ep.secret().starts_with("whsec_"));
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(&ep.secret()[6..]).unwrap().len(), 24);
    let api = Api::new(&clerk);

    let user = api.ok("POST", "/users", Some(json!({"email_address": ["ada@example.com"], "first_name": "Ada"}))).await;
    let uid = user["id"].as_str().unwrap();
    let updated = api.ok("PATCH", &format!("/users/{uid}"), Some(json!({"last_name": "Lovelace"}))).await;
    let org = api.ok("POST", "/organizations", Some(json!({"name": "Analytical", "created_by": uid}))).await;
    let oid = org["id"].as_str().unwrap();
    let member = api
        .ok(
            "POST",
            &format!("/organizations/{oid}/memberships"),
            Some(json!({"user_id": before, "role": "org:member"})),
        )
        .await;
    let promoted = api
        .ok("PATCH", &format!("/organizations/{oid}/memberships/{before}"), Some(json!({"role": "org:admin"})))
        .await;
    let removed = api.ok("DELETE", &format!("/organizations/{oid}/memberships/{before}"), None).await;
    let renamed = api.ok("PATCH", &format!("/organizations/{oid}"), Some(json!({"name": "Engines"}))).await;
    // A request that changes nothing raises nothing.
    api.ok("GET", &format!("/users/{uid}"), None).await;
    assert_eq!(api.call("PATCH", "/users/user_missing", Some(json!({"first_name": "X"}))).await.0, 404);
    let org_gone = api.ok("DELETE", &format!("/organizations/{oid}"), None).await;
    let user_gone = api.ok("DELETE", &format!("/users/{uid}"), None).await;

    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(
        rx.types(),
        [
            "user.created",
            "user.updated",
            "organization.created",
            "organizationMembership.created", // the creator, as admin
            "organizationMembership.created",
            "organizationMembership.updated",
            "organizationMembership.deleted",
            "organization.updated",
            "organizationMembership.deleted", // the creator's, with the organization
            "organization.deleted",
            "user.deleted",
        ]
    );
    let got = rx.got();
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    for (r, b) in got.iter().zip(&bodies) {
        assert_signed(r, ep.secret());
        assert_matches_webhook_spec(b);
        assert_eq!(b["object"], "event");
        assert_eq!(b["instance_id"], clerk.instance_id());
        let ms = b["timestamp"].as_i64().unwrap();
        assert!((now_secs() * 1000 - ms).abs() < 60_000, "timestamp is in milliseconds: {ms}");
        assert_eq!(b["event_attributes"]["http_request"]["user_agent"], "webhook-tests/1.0");
        assert_eq!(b["event_attributes"]["http_request"]["client_ip"], "127.0.0.1");
    }
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.header("svix-id")).collect();
    assert_eq!(ids.len(), got.len(), "every message has its own svix-id");

    // Data: the object as the Backend API answered it.
    assert_eq!(bodies[0]["data"], user);
    assert_eq!(bodies[1]["data"], updated);
    assert_eq!(bodies[2]["data"], org);
    assert_eq!(bodies[3]["data"]["public_user_data"]["user_id"], uid);
    assert_eq!(bodies[3]["data"]["role"], "org:admin");
    assert_eq!(bodies[4]["data"], member);
    assert_eq!(bodies[5]["data"], promoted);
    assert_eq!(bodies[6]["data"], removed);
    assert_eq!(bodies[7]["data"], renamed);
    assert_eq!(bodies[8]["data"]["organization"]["name"], "Engines");
    assert_eq!(bodies[9]["data"], json!({"object": "organization", "id": oid, "slug": org["slug"], "deleted": true}));
    assert_eq!(org_gone, json!({"object": "organization", "id": oid, "deleted": true}));
    assert_eq!(bodies[10]["data"], user_gone);
    assert_eq!(user_gone, json!({"object": "user", "id": uid, "deleted": true}));

    // The log agrees.
    let log = clerk.webhook_deliveries();
    assert_eq!(log.len(), 11);
    for (d, r) in log.iter().zip(&got) {
        assert!(d.delivered);
        assert_eq!(d.state, WebhookDeliveryState::Delivered);
        assert_eq!(d.attempts.len(), 1);
        assert_eq!(d.last_status, Some(200));
        assert_eq!(d.endpoint_id, ep.id());
        assert_eq!(d.msg_id, r.header("svix-id"));
        assert_eq!(d.body.as_bytes(), &r.body[..]);
        assert_eq!(d.attempts[0].signature.as_deref(), Some(r.header("svix-signature")));
    }
}

#[tokio::test]
async fn ending_a_session_raises_session_ended_and_the_api_shows_it_ended() {
    let (rx, url) = Receiver::start(&[]).await;
    let clerk = Emulator::start().await.unwrap();
    clerk.add_webhook_endpoint(&url).unwrap();
    let api = Api::new(&clerk);
    let uid = clerk.create_user("ada@example.com").unwrap();
    let sid = clerk.session_token(&uid).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    let client_id = clerk.object(&sid).unwrap()["client_id"].as_str().unwrap().to_owned();

    clerk.end_session(&sid).unwrap();
    let ev = clerk.wait_for_webhook("session.ended", WAIT).await.unwrap().payload();
    assert_matches_webhook_spec(&ev);
    assert_eq!(ev["data"]["id"], sid.as_str());
    assert_eq!(ev["data"]["status"], "ended");
    assert_eq!(ev["data"]["user"]["id"], uid.as_str());
    // The Backend API shows it ended, the client's copy included.
    let session = api.ok("GET", &format!("/sessions/{sid}"), None).await;
    assert_eq!(session["status"], "ended");
    let client = api.ok("GET", &format!("/clients/{client_id}"), None).await;
    assert_eq!(client["sessions"][0]["id"], sid.as_str());
    assert_eq!(client["sessions"][0]["status"], "ended");
    assert_eq!(clerk.object(&client_id).unwrap()["sessions"][0]["status"], "ended");

    // Only an active (or pending) session can be ended; nothing else is raised.
    assert!(matches!(clerk.end_session(&sid), Err(EmulatorError::Invalid(_))));
    let sid2 = clerk.session_token(&uid).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    api.ok("POST", &format!("/sessions/{sid2}/revoke"), None).await;
    assert!(matches!(clerk.end_session(&sid2), Err(EmulatorError::Invalid(_))));
    assert_eq!(api.ok("GET", &format!("/sessions/{sid2}"), None).await["status"], "revoked");
    assert!(matches!(clerk.end_session("sess_missing"), Err(EmulatorError::NotFound { kind: "session" })));
    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(rx.types(), ["user.created", "session.created", "session.ended", "session.created", "session.revoked"]);
}

#[tokio::test]
async fn rust_helpers_and_sessions_raise_events_too() {
    let (rx, url) = Receiver::start(&[]).await;
    let clerk = Emulator::start().await.unwrap();
    let ep = clerk.add_webhook_endpoint(&url).unwrap();
    let api = Api::new(&clerk);

    let uid = clerk.create_user("grace@example.com").unwrap();
    let created = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    assert!(created.delivered);
    let payload = created.payload();
    assert_eq!(payload["data"], clerk.object(&uid).unwrap());
    assert_eq!(
        payload["event_attributes"]["http_request"]["user_agent"],
        concat!("clerk-testing/", env!("CARGO_PKG_VERSION"))
    );

    // Signing in moves only `last_sign_in_at`/`last_active_at`: `session.created`, no `user.updated`.
    let token = clerk.session_token(&uid).unwrap();
    let sid = token.claims()["sid"].as_str().unwrap().to_owned();
    let session = clerk.wait_for_webhook("session.created", WAIT).await.unwrap().payload();
    assert_matches_webhook_spec(&session);
    assert_eq!(session["data"]["id"], sid.as_str());
    assert_eq!(session["data"]["status"], "active");
    assert_eq!(session["data"]["user"]["id"], uid.as_str());

    let revoked = api.ok("POST", &format!("/sessions/{sid}/revoke"), None).await;
    let ev = clerk.wait_for_webhook("session.revoked", WAIT).await.unwrap().payload();
    assert_matches_webhook_spec(&ev);
    let mut data = ev["data"].clone();
    assert_eq!(data["user"]["id"], uid.as_str());
    data.as_object_mut().unwrap().remove("user");
    assert_eq!(data, revoked);

    // A second session, then the user is deleted: its sessions are removed, then the user goes.
    let sid2 = clerk.session_token(&uid).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    api.ok("DELETE", &format!("/users/{uid}"), None).await;
    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(
        rx.types(),
        [
            "user.created",
            "session.created",
            "session.revoked",
            "session.created",
            "session.removed",
            "session.removed",
            "user.deleted"
        ]
    );
    let got = rx.got();
    for r in &got {
        assert_signed(r, ep.secret());
    }
    let removed: Vec<Value> = got[4..6].iter().map(|r| r.json()["data"].clone()).collect();
    assert!(removed.iter().any(|d| d["id"] == sid2.as_str()));
    assert!(removed.iter().all(|d| d["user"]["id"] == uid.as_str() && d["status"] == "removed"));
    assert!(matches!(
        clerk.wait_for_webhook("user.updated", Duration::from_millis(50)).await,
        Err(WebhookError::Timeout { .. })
    ));
}

#[tokio::test]
async fn builder_endpoints_filters_fixed_secrets_and_several_endpoints() {
    let (all, all_url) = Receiver::start(&[]).await;
    let (orgs_only, orgs_url) = Receiver::start(&[]).await;
    let fixed = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let start = || {
        Emulator::builder()
            .webhook_endpoint(&all_url)
            .webhook_endpoint_with(
                WebhookEndpointConfig::new(&orgs_url).secret(fixed).event_types(["organization.created"]),
            )
            .start()
    };
    let clerk = start().await.unwrap();
    let eps = clerk.webhook_endpoints();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[1].secret(), fixed);
    assert_eq!(eps[1].event_types().unwrap(), ["organization.created"]);
    // Unseeded: another emulator gets other ids and secrets (a seeded one would repeat them).
    let other = start().await.unwrap();
    assert_ne!(other.webhook_endpoints()[0], eps[0]);
    assert_eq!(other.webhook_endpoints()[1].secret(), fixed);
    drop(other);

    let uid = clerk.create_user("lin@example.com").unwrap();
    let api = Api::new(&clerk);
    api.ok("POST", "/organizations", Some(json!({"name": "Acme", "created_by": uid}))).await;
    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(all.types(), ["user.created", "organization.created", "organizationMembership.created"]);
    assert_eq!(orgs_only.types(), ["organization.created"]);
    let (a, o) = (&all.got()[1], &orgs_only.got()[0]);
    assert_signed(a, eps[0].secret());
    assert_signed(o, fixed);
    // One event, one message: the same svix-id and body at both endpoints.
    assert_eq!(a.header("svix-id"), o.header("svix-id"));
    assert_eq!(a.body, o.body);

    // Removing an endpoint stops its deliveries; the other goes on.
    assert!(clerk.remove_webhook_endpoint(eps[1].id()));
    assert!(!clerk.remove_webhook_endpoint(eps[1].id()));
    api.ok("POST", "/organizations", Some(json!({"name": "Other"}))).await;
    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(orgs_only.got().len(), 1);
    assert_eq!(all.types().last().unwrap(), "organization.created");

    // Bad registrations are refused.
    assert!(matches!(clerk.add_webhook_endpoint("https://example.com/x"), Err(WebhookError::InvalidUrl { .. })));
    assert!(matches!(clerk.add_webhook_endpoint_with_secret(&all_url, "nope"), Err(WebhookError::InvalidSecret)));
    assert!(Emulator::builder().webhook_endpoint("not a url").start().await.is_err());
}

#[tokio::test]
async fn failed_attempts_are_retried_with_the_same_svix_id() {
    let (rx, url) = Receiver::start(&[500, 503]).await;
    let clerk = Emulator::builder()
        .webhook_delivery(WebhookDeliveryConfig::new().backoff(Duration::from_millis(10)))
        .start()
        .await
        .unwrap();
    let ep = clerk.add_webhook_endpoint(&url).unwrap();
    clerk.create_user("retry@example.com").unwrap();
    let d = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    assert!(d.delivered);
    assert_eq!(d.attempts.len(), 3);
    assert_eq!(d.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(500), Some(503), Some(200)]);
    assert_eq!(d.attempts.iter().map(|a| a.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(d.last_status, Some(200));
    assert_eq!(d.last_error, None);
    let got = rx.got();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(r.header("svix-id"), d.msg_id);
        assert_eq!(r.body, got[0].body);
        assert_signed(r, ep.secret());
    }
    // A message that never gets a 2xx fails after the last attempt, and the next one is still delivered.
    let (rx2, url2) = Receiver::start(&[500, 500, 500, 500]).await;
    let ep2 = clerk.add_webhook_endpoint(&url2).unwrap();
    assert!(clerk.remove_webhook_endpoint(ep.id()));
    clerk.create_user("fails@example.com").unwrap();
    clerk.create_user("works@example.com").unwrap();
    let failed = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    assert_eq!(failed.endpoint_id, ep2.id());
    assert_eq!(failed.state, WebhookDeliveryState::Failed);
    assert!(!failed.delivered);
    assert_eq!(failed.attempts.len(), 4);
    assert_eq!(failed.last_status, Some(500));
    assert_eq!(failed.last_error.as_deref(), Some("answered 500"));
    let next = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    assert!(next.delivered);
    assert_eq!(next.payload()["data"]["email_addresses"][0]["email_address"], "works@example.com");
    assert_eq!(rx2.got().len(), 5);
}

#[tokio::test]
async fn an_unreachable_endpoint_records_failures_and_nothing_else_breaks() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (rx, url) = Receiver::start(&[]).await;
    let clerk = Emulator::builder()
        .webhook_delivery(WebhookDeliveryConfig::new().max_attempts(3).backoff(Duration::from_millis(5)))
        .webhook_endpoint(format!("http://{closed}/gone"))
        .webhook_endpoint(&url)
        .start()
        .await
        .unwrap();
    let [dead, live] = <[_; 2]>::try_from(clerk.webhook_endpoints()).unwrap();
    let api = Api::new(&clerk);
    let user = api.ok("POST", "/users", Some(json!({"email_address": ["x@example.com"]}))).await;
    let a = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    let b = clerk.wait_for_webhook("user.created", WAIT).await.unwrap();
    let (failed, ok) = if a.endpoint_id == dead.id() { (a, b) } else { (b, a) };
    assert_eq!(failed.state, WebhookDeliveryState::Failed);
    assert!(!failed.delivered);
    assert_eq!(failed.attempts.len(), 3);
    assert!(failed.attempts.iter().all(|a| a.status.is_none() && a.error.is_some()));
    assert_eq!(failed.last_status, None);
    assert!(failed.last_error.is_some());
    assert!(ok.delivered);
    assert_eq!(ok.endpoint_id, live.id());
    assert_eq!(ok.msg_id, failed.msg_id);
    // The emulator still answers.
    assert_eq!(api.ok("GET", &format!("/users/{}", user["id"].as_str().unwrap()), None).await, user);
    assert_eq!(rx.types(), ["user.created"]);
}

#[tokio::test]
async fn a_full_queue_drops_and_records_instead_of_blocking() {
    let (rx, url) = Receiver::start(&[]).await;
    let clerk = Emulator::builder()
        .webhook_delivery(WebhookDeliveryConfig::new().queue_capacity(1))
        .webhook_endpoint(&url)
        .start()
        .await
        .unwrap();
    // No await between the changes: the sender cannot run, so the queue of one fills.
    for i in 0..4 {
        clerk.create_user(&format!("q{i}@example.com")).unwrap();
    }
    clerk.flush_webhooks(WAIT).await.unwrap();
    let log = clerk.webhook_deliveries();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].state, WebhookDeliveryState::Delivered);
    for d in &log[1..] {
        assert_eq!(d.state, WebhookDeliveryState::Dropped);
        assert_eq!(d.last_error.as_deref(), Some("queue full"));
        assert!(d.attempts.is_empty());
    }
    assert_eq!(rx.got().len(), 1);
    let ep = &clerk.webhook_endpoints()[0];
    // Once drained, the queue takes messages again.
    clerk.send_webhook(ep.id(), "user.created", json!({})).unwrap();
    clerk.flush_webhooks(WAIT).await.unwrap();
    assert_eq!(rx.got().len(), 2);
}

#[tokio::test]
async fn hand_made_webhooks_for_receiver_tests() {
    let (rx, url) = Receiver::start(&[200, 200, 400]).await;
    let clerk = Emulator::start().await.unwrap();
    let ep = clerk.add_webhook_endpoint(&url).unwrap();

    // An arbitrary event, wrapped and signed like the emulator's own.
    let msg = clerk.send_webhook(ep.id(), "email.created", json!({"object": "email", "id": "ema_1"})).unwrap();
    clerk.flush_webhooks(WAIT).await.unwrap();
    let r = &rx.got()[0];
    assert_signed(r, ep.secret());
    assert_eq!(r.header("svix-id"), msg);
    let body = r.json();
    assert_eq!(body["type"], "email.created");
    assert_eq!(body["data"]["id"], "ema_1");
    assert_eq!(body["object"], "event");
    assert_eq!(body["instance_id"], clerk.instance_id());

    // A stale delivery: a timestamp an hour old, correctly signed for it.
    let stale = now_secs() - 3600;
    let d = clerk
        .send_raw_webhook(ep.id(), RawWebhook::new(r#"{"type":"user.created"}"#).msg_id("msg_stale").timestamp(stale))
        .await
        .unwrap();
    assert!(d.delivered);
    assert_eq!(d.event_type, "user.created");
    let r = &rx.got()[1];
    assert_eq!(r.header("svix-id"), "msg_stale");
    assert_eq!(r.header("svix-timestamp"), stale.to_string());
    assert_eq!(
        r.header("svix-signature"),
        format!("v1,{}", expected_signature(ep.secret(), "msg_stale", &stale.to_string(), &r.body))
    );

    // No signature, an extra header; the receiver answers 400: one attempt, recorded as failed.
    let d = clerk
        .send_raw_webhook(ep.id(), RawWebhook::new("{}").without_header("svix-signature").header("x-extra", "1"))
        .await
        .unwrap();
    assert_eq!(d.state, WebhookDeliveryState::Failed);
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(d.last_status, Some(400));
    let r = &rx.got()[2];
    assert!(r.headers.get("svix-signature").is_none());
    assert_eq!(r.header("x-extra"), "1");

    // Signed with another secret; the vector's secret gives the vector's signature.
    let vector = RawWebhook::new(r#"{"email":"test@example.com","username":"test_user"}"#)
        .msg_id("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk")
        .timestamp(1_649_367_553)
        .signed_with("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    let d = clerk.send_raw_webhook(ep.id(), vector).await.unwrap();
    assert_eq!(d.attempts[0].signature.as_deref(), Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="));
    assert_eq!(rx.got()[3].header("svix-signature"), "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");

    // In-process headers for oneshot tests verify too.
    let headers = ep.signed_headers(b"{}");
    let fake = Received { headers, body: Bytes::from_static(b"{}") };
    assert_signed(&fake, ep.secret());

    // Errors.
    assert!(matches!(clerk.send_webhook("ep_missing", "x", json!({})), Err(WebhookError::UnknownEndpoint(_))));
    assert!(matches!(
        clerk.send_raw_webhook(ep.id(), RawWebhook::new("{}").header("bad header", "x")).await,
        Err(WebhookError::InvalidHeader(_))
    ));
    assert_eq!(clerk.webhook_deliveries().len(), 4);
}
