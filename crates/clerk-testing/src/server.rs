//! The HTTP server: routing against the spec's operation table, authentication, request validation, faults, the
//! request log, then dispatch to the in-memory API.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::faults::{Fault, RecordedRequest};
use crate::spec::{Body, Location, OPERATIONS, Operation, SCHEMAS};
use crate::validate::{self, SchemaResolver};
use crate::{Shared, ids};

const MAX_BODY: usize = 10 * 1024 * 1024;

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { handle(shared, peer, req).await }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, svc).await;
                });
            }
        }
    }
}

/// A successful answer of a handler.
#[derive(Debug)]
#[allow(dead_code)] // `Empty` and `Html` are answered by the instance module (204s, the interstitial).
pub(crate) enum Reply {
    /// JSON with a status.
    Json(u16, Value),
    /// No body.
    Empty(u16),
    /// HTML with a status.
    Html(u16, String),
}

/// A request, routed and validated, as handlers see it.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) op: &'static Operation,
    pub(crate) path_params: Vec<(&'static str, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) json: Value,
    pub(crate) files: HashMap<String, (Option<String>, Option<String>, Bytes)>,
    pub(crate) form: HashMap<String, String>,
}

impl Ctx {
    pub(crate) fn path(&self, name: &str) -> &str {
        self.path_params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }

    pub(crate) fn query_one(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_all(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    pub(crate) fn query_int(&self, name: &str) -> Option<i64> {
        self.query_one(name).and_then(|v| v.parse().ok())
    }

    pub(crate) fn query_bool(&self, name: &str) -> Option<bool> {
        self.query_one(name).map(|v| v == "true")
    }
}

type Resp = hyper::Response<Full<Bytes>>;

async fn handle(
    shared: Arc<Shared>,
    peer: std::net::SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Resp, std::io::Error> {
    let trace_id = ids::random_base62(32);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().map(str::to_owned);
    let routed = route(&method, &path);
    let op_id = routed.as_ref().map(|(op, _)| op.id);
    let fault = shared.faults.take(&path, op_id);
    let record = |status: u16| RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        operation_id: op_id,
        status,
        fault: fault.clone(),
    };
    match &fault {
        Some(Fault::Latency(d)) => tokio::time::sleep(*d).await,
        Some(Fault::DropConnection) => {
            shared.faults.record(record(0));
            return Err(std::io::Error::other("fault: dropped connection"));
        }
        Some(Fault::Status(code)) => {
            shared.faults.record(record(*code));
            return Ok(error_response(&ApiError::status_only(*code), &trace_id));
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            shared.faults.record(record(429));
            return Ok(error_response(&ApiError::rate_limited(*retry_after_secs), &trace_id));
        }
        Some(Fault::Respond { status, body }) => {
            shared.faults.record(record(*status));
            return Ok(raw(*status, "application/json", Bytes::from(body.clone())));
        }
        Some(Fault::MalformedBody) => {
            shared.faults.record(record(200));
            return Ok(raw(200, "application/json", Bytes::from_static(b"{\"object\": \"user\", \"id\": ")));
        }
        None => {}
    }
    let headers = req.headers().clone();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::new(413, "request_body_too_large", "too large", "The request body is too large.");
            shared.faults.record(record(413));
            return Ok(error_response(&e, &trace_id));
        }
    };

    let result = if method == Method::GET && path == "/.well-known/jwks.json" {
        Ok(Reply::Json(200, shared.jwks()))
    } else {
        match routed {
            None => Err(ApiError::unknown_route()),
            Some((op, params)) => dispatch(&shared, op, params, raw_query.as_deref(), &headers, body, peer).await,
        }
    };
    let resp = match result {
        Ok(Reply::Json(status, v)) => json_response(status, &v),
        Ok(Reply::Empty(status)) => raw(status, "", Bytes::new()),
        Ok(Reply::Html(status, html)) => raw(status, "text/html; charset=utf-8", Bytes::from(html)),
        Err(e) => error_response(&e, &trace_id),
    };
    shared.faults.record(record(resp.status().as_u16()));
    Ok(resp)
}

async fn dispatch(
    shared: &Shared,
    op: &'static Operation,
    path_params: Vec<(&'static str, String)>,
    raw_query: Option<&str>,
    headers: &http::HeaderMap,
    body: Bytes,
    peer: std::net::SocketAddr,
) -> Result<Reply, ApiError> {
    // The M2M token operations also accept a machine secret key, which makes the request that machine's.
    let machine = crate::api::machine::machine_caller(shared, op.id, headers);
    if op.auth && machine.is_none() {
        let expected = format!("Bearer {}", shared.secret_key);
        match headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            Some(v) if v == expected => {}
            Some(v) if v.starts_with("Bearer sk_") => return Err(ApiError::key_invalid()),
            _ => return Err(ApiError::unauthenticated()),
        }
    }
    let query = parse_query(raw_query.unwrap_or(""));
    validate_params(op, &path_params, &query)?;
    let mut ctx =
        Ctx { op, path_params, query, json: Value::Object(Map::new()), files: HashMap::new(), form: HashMap::new() };
    match &op.body {
        Body::None => {
            if !body.is_empty() {
                let v: Value = serde_json::from_slice(&body).map_err(|_| malformed_body())?;
                if let Some((k, _)) = v.as_object().and_then(|o| o.iter().next()) {
                    return Err(ApiError::param_unknown(k));
                }
            }
        }
        Body::Json { required, schema } => {
            let v: Value = if body.iter().all(u8::is_ascii_whitespace) {
                // An absent body reads as `{}`: a required body then fails on its required fields, by name.
                let _ = required;
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(&body).map_err(|_| malformed_body())?
            };
            check_schema(&v, schema)?;
            ctx.json = v;
        }
        Body::Multipart { required, schema } => {
            let ct = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let boundary = multer::parse_boundary(ct)
                .map_err(|_| ApiError::param_invalid("Content-Type", "expected multipart/form-data with a boundary"))?;
            let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
            let mut mp = multer::Multipart::new(stream, boundary);
            loop {
                match mp.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or("").to_owned();
                        let file_name = field.file_name().map(str::to_owned);
                        let ctype = field.content_type().map(ToString::to_string);
                        let data = field.bytes().await.map_err(|_| malformed_body())?;
                        if file_name.is_some() {
                            ctx.files.insert(name, (file_name, ctype, data));
                        } else {
                            ctx.form.insert(name, String::from_utf8_lossy(&data).into_owned());
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return Err(malformed_body()),
                }
            }
            let schema_v = parsed_schema(schema);
            let props =
                validate::resolve(schema_v, resolver()).and_then(|s| s.get("properties")).and_then(Value::as_object);
            for name in ctx.files.keys().chain(ctx.form.keys()) {
                if props.is_some_and(|p| !p.contains_key(name)) {
                    return Err(ApiError::param_unknown(name));
                }
            }
            if *required
                && let Some(req) =
                    validate::resolve(schema_v, resolver()).and_then(|s| s.get("required")).and_then(Value::as_array)
            {
                for r in req.iter().filter_map(Value::as_str) {
                    if !ctx.files.contains_key(r) && !ctx.form.contains_key(r) {
                        return Err(ApiError::param_missing(r));
                    }
                }
            }
        }
    }
    // The events this request's changes raise carry its client address and user agent.
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    crate::webhooks::with_origin(crate::webhooks::Origin::new(peer.ip(), user_agent), || {
        crate::api::machine::dispatch(shared, &ctx, machine.as_deref())
    })
}

fn malformed_body() -> ApiError {
    ApiError::new(400, "malformed_request", "malformed request", "The request body could not be parsed.")
}

/// The parsed schemas of the operation table, by schema text (each parsed once).
fn parsed_schema(text: &'static str) -> &'static Value {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<usize, &'static Value>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = text.as_ptr() as usize;
    let mut map = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key).or_insert_with(|| Box::leak(Box::new(serde_json::from_str(text).unwrap_or(Value::Null))))
}

struct GeneratedSchemas(HashMap<&'static str, Value>);

impl SchemaResolver for GeneratedSchemas {
    fn schema(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

pub(crate) fn resolver() -> &'static dyn SchemaResolver {
    static R: OnceLock<GeneratedSchemas> = OnceLock::new();
    R.get_or_init(|| {
        GeneratedSchemas(SCHEMAS.iter().map(|(n, s)| (*n, serde_json::from_str(s).unwrap_or(Value::Null))).collect())
    })
}

fn check_schema(v: &Value, schema: &'static str) -> Result<(), ApiError> {
    let violations = validate::validate(v, parsed_schema(schema), resolver());
    let Some(first) = violations.first() else { return Ok(()) };
    let name = first.path.trim_start_matches("$.").trim_start_matches('$');
    let name = if name.is_empty() { "body" } else { name };
    Err(if first.message == "is required" {
        ApiError::param_missing(name)
    } else if first.message == "is not allowed" {
        ApiError::param_unknown(name)
    } else {
        ApiError::param_invalid(name, &first.message)
    })
}

fn validate_params(
    op: &Operation,
    path_params: &[(&'static str, String)],
    query: &[(String, String)],
) -> Result<(), ApiError> {
    for (name, value) in path_params {
        if value.is_empty() || value == "." || value == ".." {
            return Err(ApiError::param_invalid(name, "empty or a dot segment"));
        }
    }
    for (name, _) in query {
        let base = name.strip_suffix("[]").unwrap_or(name);
        if !op.params.iter().any(|p| p.location == Location::Query && p.name == base) {
            return Err(ApiError::param_unknown(name));
        }
    }
    for p in op.params.iter().filter(|p| p.location == Location::Query) {
        let values: Vec<&str> = query
            .iter()
            .filter(|(n, _)| n.strip_suffix("[]").unwrap_or(n) == p.name)
            .map(|(_, v)| v.as_str())
            .collect();
        if values.is_empty() {
            if p.required {
                return Err(ApiError::param_missing(p.name));
            }
            continue;
        }
        let schema = validate::resolve(parsed_schema(p.schema), resolver()).cloned().unwrap_or(Value::Null);
        let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
        if !is_array && values.len() > 1 {
            return Err(ApiError::param_invalid(p.name, "given more than once"));
        }
        let item_schema = if is_array { schema.get("items").cloned().unwrap_or(Value::Null) } else { schema.clone() };
        for raw in &values {
            let v = coerce(raw, &item_schema);
            let violations = validate::validate(&v, &item_schema, resolver());
            if let Some(first) = violations.first() {
                return Err(ApiError::param_invalid(p.name, &first.message));
            }
        }
    }
    Ok(())
}

/// Turns a query string value into the JSON value its schema expects, or leaves it a string (and fails validation).
fn coerce(raw: &str, schema: &Value) -> Value {
    let schema = validate::resolve(schema, resolver()).unwrap_or(schema);
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => raw.parse::<i64>().map_or_else(|_| Value::String(raw.to_owned()), Value::from),
        Some("number") => raw
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        Some("boolean") => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.to_owned()),
        },
        _ => Value::String(raw.to_owned()),
    }
}

/// Matches a request to the spec's operation: same method, `/v1` prefix, literal segments equal, parameter segments
/// non-empty; the most literal match wins (`/users/count` over `/users/{user_id}`).
pub(crate) type PathParams = Vec<(&'static str, String)>;

pub(crate) fn route(method: &Method, path: &str) -> Option<(&'static Operation, PathParams)> {
    let rest = path.strip_prefix("/v1")?;
    let segs: Vec<&str> = rest.split('/').skip(1).collect();
    let mut best: Option<(usize, &'static Operation, PathParams)> = None;
    for op in OPERATIONS.iter().filter(|o| o.method == method.as_str()) {
        let tsegs: Vec<&str> = op.path.split('/').skip(1).collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut literals = 0;
        let mut params = Vec::new();
        let mut ok = true;
        for (t, s) in tsegs.iter().zip(&segs) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                let name: &'static str = op.params.iter().find(|p| p.name == name).map_or("", |p| p.name);
                params.push((name, percent_decode(s)));
            } else if t == s {
                literals += 1;
            } else {
                ok = false;
                break;
            }
        }
        if ok && best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
            best = Some((literals, op, params));
        }
    }
    best.map(|(_, op, params)| (op, params))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

fn raw(status: u16, content_type: &'static str, body: Bytes) -> Resp {
    let mut r = hyper::Response::new(Full::new(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !content_type.is_empty() {
        r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    r
}

fn json_response(status: u16, v: &Value) -> Resp {
    raw(status, "application/json", Bytes::from(v.to_string()))
}

fn error_response(e: &ApiError, trace_id: &str) -> Resp {
    let mut r = json_response(e.status(), &e.body(trace_id));
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        r.headers_mut().insert("clerk-trace-id", v);
    }
    if let Some(secs) = e.retry_after() {
        r.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}
