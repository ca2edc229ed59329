//! Spec loading, response validation and a small HTTP client over clerk-core's transport.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use clerk_core::{HttpTransport, HyperTransport};
use clerk_testing::Emulator;
use serde_json::{Map, Value};

/// `<repo>/../shared`.
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The 2026-05-12 spec as JSON.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = shared_dir().join("clerk-spec/bapi-2026-05-12.yml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
        serde_yaml::from_str(&text).expect("spec parses")
    })
}

fn schemas() -> &'static Map<String, Value> {
    spec()["components"]["schemas"].as_object().expect("components.schemas")
}

/// The distinct operation ids of the seed's Backend API functions.
pub fn seed_operation_ids() -> BTreeSet<String> {
    let csv = std::fs::read_to_string(shared_dir().join("reference/seed-endpoints.csv")).expect("seed csv");
    let mut out = BTreeSet::new();
    for line in csv.lines().skip(1) {
        // The operationId column never contains commas or quotes; find it as the token after the path.
        let cols: Vec<&str> = line.split(',').collect();
        if let Some(i) = cols.iter().position(|c| c.starts_with('/'))
            && let Some(op) = cols.get(i + 1)
            && !op.is_empty()
            && *op != "-"
        {
            out.insert((*op).to_owned());
        }
    }
    out
}

/// The spec's operation object for an operation id: (path template, method, operation).
pub fn operation(op_id: &str) -> (String, String, &'static Value) {
    for (path, item) in spec()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("operationId").and_then(Value::as_str) == Some(op_id) {
                return (path.clone(), method.to_uppercase(), op);
            }
        }
    }
    panic!("no operation {op_id} in the spec");
}

/// The response schema the spec gives for `status` (resolving `#/components/responses/…`), if it has a body.
pub fn response_schema(op_id: &str, status: u16) -> Option<Value> {
    let (_, _, op) = operation(op_id);
    let mut resp = op["responses"].get(status.to_string()).or_else(|| op["responses"].get("default"))?.clone();
    if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        resp = spec()["components"]["responses"][name].clone();
    }
    let content = resp.get("content")?.as_object()?;
    let (_, media) = content.iter().next()?;
    media.get("schema").cloned()
}

/// Asserts that `body` is what the spec documents for `op_id` answering `status`.
pub fn assert_matches_spec(op_id: &str, status: u16, body: &Value) {
    let (_, _, op) = operation(op_id);
    assert!(
        op["responses"].get(status.to_string()).is_some(),
        "{op_id}: status {status} is not documented by the spec (body {body})"
    );
    if let Some(schema) = response_schema(op_id, status) {
        // `paginated=true` turns a documented bare array into `{data, total_count}` (Clerk's behaviour, which the
        // spec does not spell out): validate the items against the array schema.
        let schema = if schema.get("type").and_then(Value::as_str) == Some("array") && body.is_object() {
            serde_json::json!({"type": "object", "additionalProperties": false, "required": ["data", "total_count"],
                "properties": {"data": schema, "total_count": {"type": "integer"}}})
        } else {
            schema
        };
        let violations = clerk_testing::validate::validate(body, &schema, schemas());
        assert!(
            violations.is_empty(),
            "{op_id} {status}: body does not match the spec: {violations:#?}\nbody: {body:#}"
        );
    }
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub bytes: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        if self.bytes.is_empty() { Value::Null } else { serde_json::from_slice(&self.bytes).expect("JSON body") }
    }
}

/// A test client for the emulator's Backend API.
pub struct Api {
    pub clerk: Emulator,
    transport: Arc<HyperTransport>,
}

impl Api {
    pub async fn start() -> Self {
        Self { clerk: Emulator::start().await.unwrap(), transport: Arc::new(HyperTransport::new().unwrap()) }
    }

    /// Sends a raw request to `/v1{path}` (path already filled in, query appended by the caller).
    pub async fn raw(&self, method: &str, path_and_query: &str, body: Option<(&str, Bytes)>) -> Answer {
        let mut req = http::Request::builder()
            .method(method)
            .uri(format!("{}/v1{path_and_query}", self.clerk.api_url()))
            .header("authorization", format!("Bearer {}", self.clerk.secret_key()));
        let bytes = match body {
            Some((ct, b)) => {
                req = req.header("content-type", ct);
                b
            }
            None => Bytes::new(),
        };
        let resp = self.transport.send(req.body(bytes).unwrap()).await.expect("emulator answers");
        Answer {
            status: resp.status().as_u16(),
            content_type: resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
            bytes: resp.into_body(),
        }
    }

    /// Calls operation `op_id` with a filled-in path (and query), an optional JSON body; asserts a 2xx status and that
    /// the body matches the spec; returns the JSON body (`Null` for no body).
    pub async fn call(&self, op_id: &str, path_and_query: &str, body: Option<Value>) -> Value {
        let (_, method, _) = operation(op_id);
        let body = body.map(|b| ("application/json", Bytes::from(b.to_string())));
        let a = self.raw(&method, path_and_query, body).await;
        self.check(op_id, &a)
    }

    /// Calls a multipart operation with one file field `file` (and extra text fields).
    pub async fn call_multipart(&self, op_id: &str, path: &str, file: &[u8], fields: &[(&str, &str)]) -> Value {
        let (_, method, _) = operation(op_id);
        let boundary = "clerktestingboundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let ct = format!("multipart/form-data; boundary={boundary}");
        let a = self.raw(&method, path, Some((&ct, Bytes::from(body)))).await;
        self.check(op_id, &a)
    }

    fn check(&self, op_id: &str, a: &Answer) -> Value {
        assert!(
            (200..300).contains(&a.status),
            "{op_id}: status {} body {}",
            a.status,
            String::from_utf8_lossy(&a.bytes)
        );
        let v = if a.content_type.starts_with("application/json") { a.json() } else { Value::Null };
        assert_matches_spec(op_id, a.status, &v);
        v
    }

    /// Creates a user through the API and returns its id.
    pub async fn user(&self, email: &str) -> String {
        let u = self.call("CreateUser", "/users", Some(serde_json::json!({"email_address": [email]}))).await;
        u["id"].as_str().unwrap().to_owned()
    }
}
