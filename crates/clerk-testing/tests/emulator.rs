//! The emulator itself: instances, keys, rotation, faults, the request log, concurrency, hostile input, the binary.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_core::{HttpTransport, HyperTransport, Reason, Verifier};
use clerk_testing::{Emulator, Fault};
use serde_json::{Value, json};

struct Client {
    t: HyperTransport,
}

impl Client {
    fn new() -> Self {
        Self { t: HyperTransport::builder().timeout(Duration::from_secs(10)).build().unwrap() }
    }

    async fn send(
        &self,
        clerk: &Emulator,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, http::HeaderMap, Bytes), clerk_core::TransportError> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", clerk.api_url()))
            .header("authorization", format!("Bearer {}", clerk.secret_key()));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(body.map(|b| Bytes::from(b.to_string())).unwrap_or_default()).unwrap();
        let resp = self.t.send(req).await?;
        Ok((resp.status().as_u16(), resp.headers().clone(), resp.into_body()))
    }
}

#[tokio::test]
async fn instances_are_independent_and_keys_verify_only_at_home() {
    let (a, b) = tokio::join!(Emulator::start(), Emulator::start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.instance_id(), b.instance_id());
    assert_ne!(a.secret_key(), b.secret_key());
    assert_ne!(a.api_url(), b.api_url());
    let ua = a.create_user("a@example.com").unwrap();
    let token_a = a.session_token(&ua).unwrap().mint();
    let vb = Verifier::builder().secret_key(b.secret_key()).unwrap().api_url(&b.api_url()).unwrap().build().unwrap();
    let err = vb.verify(&token_a).await.unwrap_err();
    assert_eq!(err.reason(), Reason::JwkKidMismatch);
    // B's secret key is refused by A.
    let c = Client::new();
    let req = http::Request::get(format!("{}/v1/jwks", a.api_url()))
        .header("authorization", format!("Bearer {}", b.secret_key()))
        .body(Bytes::new())
        .unwrap();
    let resp = c.t.send(req).await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    // No key at all.
    let req = http::Request::get(format!("{}/v1/users", a.api_url())).body(Bytes::new()).unwrap();
    let resp = c.t.send(req).await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["errors"][0]["code"], "authentication_invalid");
}

#[tokio::test]
async fn seeded_instances_are_reproducible() {
    let a = Emulator::builder().seed(42).start().await.unwrap();
    let b = Emulator::builder().seed(42).start().await.unwrap();
    assert_eq!(a.instance_id(), b.instance_id());
    assert_eq!(a.secret_key(), b.secret_key());
    assert_eq!(a.jwks(), b.jwks());
    let c = Emulator::builder().seed(43).start().await.unwrap();
    assert_ne!(a.jwks(), c.jwks());
    // A token minted by one seeded instance verifies against the other's keys.
    let u = a.create_user("seed@example.com").unwrap();
    let t = a.session_token(&u).unwrap().mint();
    let v = Verifier::builder().jwt_key(&b.jwt_public_key()).unwrap().build().unwrap();
    v.verify(&t).await.unwrap();
}

#[tokio::test]
async fn key_rotation_is_picked_up() {
    let clerk = Emulator::start().await.unwrap();
    let u = clerk.create_user("rot@example.com").unwrap();
    let v =
        Verifier::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let old = clerk.session_token(&u).unwrap().mint();
    v.verify(&old).await.unwrap();
    let old_kid = clerk.active_key().kid().to_owned();
    let new_key = clerk.rotate_keys().unwrap();
    assert_ne!(new_key.kid(), old_kid);
    assert_eq!(clerk.jwks()["keys"].as_array().unwrap().len(), 2);
    let new = clerk.session_token(&u).unwrap().mint();
    v.verify(&new).await.unwrap(); // unknown kid → one refresh
    assert_eq!(clerk.request_count("/v1/jwks"), 2);
    clerk.retire_key(&old_kid);
    assert_eq!(clerk.jwks()["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn faults_on_demand_and_the_request_log() {
    let clerk = Emulator::start().await.unwrap();
    let c = Client::new();
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    clerk.faults().inject_times("GetJWKS", Fault::RateLimited { retry_after_secs: 7 }, 1);
    clerk.faults().inject_times("/v1/jwks", Fault::MalformedBody, 1);
    clerk.faults().inject_times("/v1/jwks", Fault::Latency(Duration::from_millis(300)), 1);
    clerk.faults().inject_times("/v1/jwks", Fault::DropConnection, 1);

    let (s, _, body) = c.send(&clerk, "GET", "/v1/jwks", None).await.unwrap();
    assert_eq!(s, 503);
    assert!(serde_json::from_slice::<Value>(&body).unwrap()["errors"].is_array());
    let (s, h, _) = c.send(&clerk, "GET", "/v1/jwks", None).await.unwrap();
    assert_eq!(s, 429);
    assert_eq!(h.get("retry-after").unwrap(), "7");
    let (s, _, body) = c.send(&clerk, "GET", "/v1/jwks", None).await.unwrap();
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    let start = Instant::now();
    let (s, _, _) = c.send(&clerk, "GET", "/v1/jwks", None).await.unwrap();
    assert_eq!(s, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(c.send(&clerk, "GET", "/v1/jwks", None).await.is_err(), "dropped connection");
    let (s, _, _) = c.send(&clerk, "GET", "/v1/jwks", None).await.unwrap();
    assert_eq!(s, 200, "faults ran out");

    let log = clerk.requests();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 200, 200, 0, 200]);
    assert!(log.iter().all(|r| r.operation_id == Some("GetJWKS") && r.path == "/v1/jwks"));
    assert_eq!(clerk.request_count("/v1/jwks"), 6);
    clerk.clear_requests();
    assert!(clerk.requests().is_empty());

    // A standing fault on every route, then cleared.
    clerk.faults().inject("*", Fault::Status(500));
    assert_eq!(c.send(&clerk, "GET", "/v1/users", None).await.unwrap().0, 500);
    clerk.faults().clear();
    assert_eq!(c.send(&clerk, "GET", "/v1/users", None).await.unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_are_not_lost() {
    let clerk = Arc::new(Emulator::start().await.unwrap());
    let uid = clerk.create_user("busy@example.com").unwrap();
    let c = Arc::new(Client::new());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (clerk, c, uid) = (Arc::clone(&clerk), Arc::clone(&c), uid.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"public_metadata": {format!("k{i}"): i}});
            c.send(&clerk, "PATCH", &format!("/v1/users/{uid}/metadata"), Some(body)).await.unwrap().0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let user = clerk.object(&uid).unwrap();
    let meta = user["public_metadata"].as_object().unwrap();
    assert_eq!(meta.len(), 200, "every concurrent merge landed");
}

#[tokio::test]
async fn hostile_input_gets_clerk_errors_never_a_hang() {
    let clerk = Emulator::start().await.unwrap();
    let c = Client::new();
    let uid = clerk.create_user("x@example.com").unwrap();
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/v1/users/%2e%2e".into(), None),
        ("GET", "/v1/users/..".into(), None),
        ("GET", "/v1/users/%ff%fe".into(), None),
        ("GET", "/v1/users/".into(), None),
        ("GET", format!("/v1/users?limit={}", "9".repeat(400)), None),
        ("GET", "/v1/users?limit=0".into(), None),
        ("GET", "/v1/users?limit=501".into(), None),
        ("GET", "/v1/users?offset=-1".into(), None),
        ("GET", "/v1/users?order_by=%27%3Bdrop".into(), None),
        ("POST", "/v1/users".into(), Some(json!([1, 2, 3]))),
        ("POST", "/v1/users".into(), Some(json!(null))),
        ("POST", "/v1/users".into(), Some(json!({"email_address": [{"deep": [[[[]]]]}]}))),
        ("PATCH", format!("/v1/users/{uid}/metadata"), Some(json!({"public_metadata": "not an object"}))),
        ("POST", "/v1/organizations".into(), Some(json!({}))),
        ("DELETE", "/v1/users/user_doesnotexist".into(), None),
    ];
    for (method, path, body) in cases {
        let fut = c.send(&clerk, method, &path, body);
        let (status, _, bytes) = tokio::time::timeout(Duration::from_secs(5), fut).await.expect("no hang").unwrap();
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{method} {path}: JSON error body"));
        assert!(v["errors"][0]["code"].is_string(), "{method} {path}: {v}");
        assert!(v["clerk_trace_id"].is_string());
    }
    // The server is still alive and consistent.
    assert_eq!(c.send(&clerk, "GET", &format!("/v1/users/{uid}"), None).await.unwrap().0, 200);
}

#[tokio::test]
async fn drop_stops_serving() {
    let clerk = Emulator::start().await.unwrap();
    let addr = clerk.addr();
    drop(clerk);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test]
async fn the_binary_prints_working_keys() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_clerk-testing"))
        .args(["serve", "--user", "bin@example.com"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = std::collections::HashMap::new();
    while env.len() < 6 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
        if let Some((k, v)) = line.split_once('=') {
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    let v = Verifier::builder()
        .secret_key(&env["CLERK_SECRET_KEY"])
        .unwrap()
        .api_url(&env["CLERK_API_URL"])
        .unwrap()
        .build()
        .unwrap();
    let auth = v.verify(&env["CLERK_TEST_TOKEN"]).await.unwrap();
    assert!(auth.user_id().as_str().starts_with("user_"));
    let pem = env["CLERK_JWT_KEY"].trim_matches('"').replace("\\n", "\n");
    Verifier::builder().jwt_key(&pem).unwrap().build().unwrap().verify(&env["CLERK_TEST_TOKEN"]).await.unwrap();
    child.kill().await.unwrap();
}
