//! The seed list, the snapshot text form of a request, and an emulator plus typed client for the flows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use bytes::Bytes;
use clerk_api::{Client, RetryPolicy};
use clerk_testing::Emulator;
use serde_json::{Map, Value};

/// One seed operation as the CSV gives it.
#[derive(Debug, Clone)]
pub struct SeedOp {
    pub method: String,
    pub path: String,
}

/// The seed CSV, read at test time (never copied into the repository).
fn seed_csv() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/seed-endpoints.csv");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas, newlines and doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// The distinct Backend API operations of the seed, by operation id (first row wins).
pub fn seed_operations() -> BTreeMap<String, SeedOp> {
    let records = parse_csv(&seed_csv());
    let header = &records[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (op_col, method_col, path_col) = (col("operationId"), col("http_method"), col("path"));
    let mut out = BTreeMap::new();
    for r in &records[1..] {
        let op = r[op_col].trim();
        if op.is_empty() || op == "-" {
            continue;
        }
        out.entry(op.to_owned())
            .or_insert_with(|| SeedOp { method: r[method_col].trim().to_owned(), path: r[path_col].trim().to_owned() });
    }
    out
}

/// The seed's distinct operation ids.
pub fn seed_operation_ids() -> BTreeSet<String> {
    seed_operations().into_keys().collect()
}

/// Whether `path` (no query) is an instance of the spec template `/v1{template}` (`{x}` matches one segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let Some(path) = path.strip_prefix("/v1") else { return false };
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| if t.starts_with('{') && t.ends_with('}') { !p.is_empty() } else { t == p })
}

/// The client the snapshots are taken with: fixed key and URL, never sends.
pub fn snapshot_client() -> Client {
    Client::builder()
        .secret_key("sk_test_snapshotsnapshotsnapshot")
        .unwrap()
        .api_url("https://api.clerk.com")
        .unwrap()
        .build()
        .unwrap()
}

/// The stable text form of a request: `METHOD path?query`, the headers sorted by name (the key redacted, the crate
/// version in the user agent replaced), then the body: pretty JSON, or multipart with the boundary as `BOUNDARY` and
/// file parts as `<N bytes>`.
pub fn render(req: &http::Request<Bytes>) -> String {
    let mut out = String::new();
    let pq = req.uri().path_and_query().map_or("/", http::uri::PathAndQuery::as_str);
    writeln!(out, "{} {pq}", req.method()).unwrap();
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ASCII header").to_owned()))
        .collect();
    headers.sort();
    let mut boundary = None;
    for (name, value) in &mut headers {
        match name.as_str() {
            "authorization" => *value = "Bearer [redacted]".to_owned(),
            "user-agent" => *value = normalise_user_agent(value),
            "content-type" => {
                if let Some((_, b)) = value.split_once("boundary=") {
                    boundary = Some(b.to_owned());
                    *value = value.replace(b, "BOUNDARY");
                }
            }
            _ => {}
        }
        writeln!(out, "{name}: {value}").unwrap();
    }
    out.push('\n');
    let body = req.body();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if body.is_empty() {
        out.push_str("<no body>\n");
    } else if content_type.starts_with("application/json") {
        let text = std::str::from_utf8(body).expect("a UTF-8 body");
        serde_json::from_str::<Value>(text).expect("a JSON body");
        out.push_str(&pretty_json(text));
        out.push('\n');
    } else if let Some(b) = boundary {
        out.push_str(&render_multipart(body, &b));
    } else {
        panic!("unexpected body with content type {content_type:?}");
    }
    out
}

/// Indents compact JSON as `serde_json::to_string_pretty` would, keeping the order of keys as sent (independent of
/// serde_json's `preserve_order` feature, which feature unification may or may not turn on).
fn pretty_json(compact: &str) -> String {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
    let mut out = String::new();
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth -= 1;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `clerk-rs/0.1.0 (clerk-api; rust)` → `clerk-rs/<version> (clerk-api; rust)`.
fn normalise_user_agent(ua: &str) -> String {
    match ua.split_once("clerk-rs/") {
        Some((before, rest)) => {
            let after = rest.find(' ').map_or("", |i| &rest[i..]);
            format!("{before}clerk-rs/<version>{after}")
        }
        None => ua.to_owned(),
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

fn render_multipart(body: &[u8], boundary: &str) -> String {
    let delim = format!("--{boundary}");
    let mut out = String::new();
    let mut pos = find(body, delim.as_bytes(), 0).expect("a first boundary");
    assert_eq!(pos, 0, "the body starts with the boundary");
    loop {
        let after = pos + delim.len();
        if body[after..].starts_with(b"--") {
            out.push_str("--BOUNDARY--\n");
            assert_eq!(&body[after + 2..], b"\r\n", "nothing after the closing boundary");
            break;
        }
        out.push_str("--BOUNDARY\n");
        let start = after + 2; // CRLF after the boundary
        let next = find(body, format!("\r\n{delim}").as_bytes(), start).expect("a next boundary");
        let part = &body[start..next];
        let split = find(part, b"\r\n\r\n", 0).expect("part headers end");
        let head = std::str::from_utf8(&part[..split]).expect("UTF-8 part headers");
        let content = &part[split + 4..];
        for line in head.split("\r\n") {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        if head.contains("filename=") {
            writeln!(out, "<{} bytes>", content.len()).unwrap();
        } else {
            out.push_str(std::str::from_utf8(content).expect("UTF-8 text part"));
            out.push('\n');
        }
        pos = next + 2;
    }
    out
}

/// A JSON object literal as a map (metadata, claims).
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// An emulator, a typed client on it, and the seed operations a flow promises to run.
pub struct Env {
    pub clerk: Emulator,
    pub client: Client,
    ops: &'static [&'static str],
}

impl Env {
    /// Starts an emulator for a flow that runs `ops` (checked by [`Env::finish`]).
    pub async fn start(ops: &'static [&'static str]) -> Self {
        let clerk = Emulator::start().await.unwrap();
        let client = Client::builder()
            .secret_key(clerk.secret_key())
            .unwrap()
            .api_url(&clerk.api_url())
            .unwrap()
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        Self { clerk, client, ops }
    }

    /// Creates a user through the typed client; returns its id.
    pub async fn user(&self, email: &str) -> String {
        let u = self.client.users().create().email_address(vec![email.to_owned()]).send().await.unwrap();
        u.id.as_str().to_owned()
    }

    /// Asserts that the emulator answered every promised operation with a 2xx at least once (so the typed client
    /// reached the spec operation by that id, with a request the spec accepts).
    pub fn finish(self) {
        let answered: BTreeSet<&str> = self
            .clerk
            .requests()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .filter_map(|r| r.operation_id)
            .collect();
        let missing: Vec<&str> = self.ops.iter().copied().filter(|op| !answered.contains(op)).collect();
        assert!(missing.is_empty(), "promised operations the emulator never answered with a 2xx: {missing:?}");
    }
}

#[test]
fn pretty_json_matches_serde_json() {
    // Keys in sorted order, so the comparison holds with or without `preserve_order`.
    let v =
        serde_json::json!({"a": [], "b": {}, "c": [1, {"d": "x,y:{z}[\\\"]", "e": null}], "f": {"g": true, "h": -1.5}});
    assert_eq!(pretty_json(&v.to_string()), serde_json::to_string_pretty(&v).unwrap());
    assert_eq!(pretty_json("[]"), "[]");
}
