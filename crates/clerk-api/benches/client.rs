//! Client overhead: `clerk_api::Client` against raw hyper, on loopback, in one run.
//!
//! One small HTTP/1.1 hyper server runs inside the bench on `127.0.0.1:0` (its own thread and current-thread
//! runtime). It answers `GET /v1/users/{id}` with one fixed, realistic Clerk `User` JSON body (taken once from
//! `clerk_testing::Emulator`: a user with two email addresses, a phone number, names, a username, an external id and
//! metadata; 2.3 KB) and everything else with a Clerk-shaped 404. Against it, from one multi-thread tokio runtime
//! (each batch of requests runs inside one `rt.block_on`):
//!
//! - `raw_hyper/get_user`: hyper-util's legacy pooled `Client` (keep-alive, HTTP/1.1, `TCP_NODELAY`, 90 s idle
//!   timeout: the settings of clerk-core's `HyperTransport`, minus the TLS wrapper) sending the same GET with the same
//!   headers (`Authorization`, `Accept`, `Clerk-API-Version`, `User-Agent`; URI and header map prepared once and
//!   cloned per request), collecting the body and decoding it into `clerk_api::User` with `serde_json::from_slice`.
//!   The fair baseline: same bytes on the wire, same decode work.
//! - `raw_hyper/get_bytes`: the same without decoding.
//! - `raw_hyper/get_user_path_to_error`: the raw request decoded through `serde_path_to_error`, as the client did on
//!   every response until it switched to plain `serde_json` with a path-tracking second pass only after a failure
//!   (a diagnostic: what that decoder costs inside the request loop).
//! - `clerk_api/get_user`: `client.users().get(id).send().await` on a default-transport client.
//! - `clerk_core/transport`: clerk-core's `HyperTransport::send` alone, on the same prepared request (no builder,
//!   no decode): splits the client's overhead into transport and the rest.
//! - `clerk_api/build_request`, `clerk_api/list_users_build`: `to_http_request()` only, no I/O.
//! - `decode/serde_json`, `decode/path_to_error`: the two decoders on the body, no I/O (the client's success path
//!   is the first; the second is its error path).
//!
//! `cargo bench -p clerk-api --bench client` runs the criterion groups, then re-measures every case in interleaved
//! rounds and prints a markdown summary (medians, ratios, per-request overhead in µs; wall time and, on Linux, the
//! client side's CPU time), so every number in it comes from the same run under the same load. `CLERK_BENCH_QUICK=1`
//! prints only the summary; `CLERK_BENCH_RT=current_thread` runs the client on a current-thread runtime instead (a
//! diagnostic). `cargo bench ... -- --test` runs the sanity checks and each case once, without the summary (CI).
//! See `docs/performance.md`.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss
)]

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_api::{Client, User};
use clerk_core::HttpTransport as _;
use criterion::Criterion;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::runtime::Runtime;

// ---------------------------------------------------------------------------------------------------------------
// The loopback server
// ---------------------------------------------------------------------------------------------------------------

const NOT_FOUND: &str = r#"{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}],"clerk_trace_id":"bench"}"#;

fn respond(req: &http::Request<hyper::body::Incoming>, user: &Bytes) -> http::Response<Full<Bytes>> {
    let is_user = req.method() == http::Method::GET
        && req.uri().path().strip_prefix("/v1/users/").is_some_and(|id| !id.is_empty() && !id.contains('/'));
    let (status, body) = if is_user {
        (http::StatusCode::OK, user.clone())
    } else {
        (http::StatusCode::NOT_FOUND, Bytes::from(NOT_FOUND))
    };
    let mut resp = http::Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    resp
}

/// Starts the server on its own thread; returns its address and a counter of accepted connections.
fn start_server(user: Bytes) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let _ = stream.set_nodelay(true);
                    counter.fetch_add(1, Ordering::Relaxed);
                    let user = user.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            let resp = respond(&req, &user);
                            async move { Ok::<_, Infallible>(resp) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        })
        .unwrap();
    (addr, accepted)
}

// ---------------------------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------------------------

type RawClient = HyperClient<HttpConnector, Full<Bytes>>;

struct Fixture {
    rt: Runtime,
    accepted: Arc<AtomicUsize>,
    user_id: String,
    body: Bytes,
    raw: RawClient,
    /// The request as `clerk_api` builds it (URI and headers), prepared once for the raw and transport cases.
    uri: http::Uri,
    headers: http::HeaderMap,
    clerk: Client,
    transport: clerk_core::HyperTransport,
}

/// The raw baseline's client: hyper-util's legacy pooled client with clerk-core's `HyperTransport` settings
/// (keep-alive pool, 90 s idle timeout, `TCP_NODELAY`, 5 s connect timeout), over plain TCP. Plain `http://` means
/// HTTP/1.1, as for `HyperTransport` (HTTP/2 is only negotiated by ALPN over TLS).
fn raw_client() -> RawClient {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    http.set_nodelay(true);
    HyperClient::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(90)).build(http)
}

async fn raw_send(client: &RawClient, uri: &http::Uri, headers: &http::HeaderMap) -> Bytes {
    let mut req = http::Request::new(Full::new(Bytes::new()));
    *req.uri_mut() = uri.clone();
    *req.headers_mut() = headers.clone();
    let resp = client.request(req).await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.into_body().collect().await.unwrap().to_bytes()
}

/// A realistic user in the emulator's shape: two email addresses, a phone number, names, a username, an external id
/// and some metadata (2.3 KB of JSON).
async fn user_body_from_emulator() -> (String, Bytes) {
    let clerk = clerk_testing::Emulator::start().await.unwrap();
    let client =
        Client::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let id = clerk.create_user("ada.lovelace@example.com").unwrap();
    client
        .users()
        .update(&id)
        .first_name("Ada")
        .last_name("Lovelace")
        .username("ada_lovelace")
        .external_id("crm-000172-ada")
        .send()
        .await
        .unwrap();
    let public =
        serde_json::json!({ "plan": "pro", "role": "admin", "onboarded": true, "teams": ["analytics", "engines"] });
    let private = serde_json::json!({ "stripe_customer_id": "cus_Q8xk2LrT0aYb9Z", "seats": 12 });
    client
        .users()
        .update_metadata(&id)
        .public_metadata(public.as_object().unwrap().clone())
        .private_metadata(private.as_object().unwrap().clone())
        .send()
        .await
        .unwrap();
    client.email_addresses().create(&id, "ada@analytical-engines.example").send().await.unwrap();
    client.phone_numbers().create(&id, "+15555550172").send().await.unwrap();
    // One GET, as the Backend API would answer it; this body is then served for every request.
    let proto = client.users().get(&id).to_http_request().unwrap();
    let body = raw_send(&raw_client(), proto.uri(), proto.headers()).await;
    (id, body)
}

/// `CLERK_BENCH_RT=current_thread` runs the client side on a current-thread runtime instead (a diagnostic: no
/// wake-ups between the caller and hyper's connection task, so the overheads are closer to pure CPU time).
fn current_thread() -> bool {
    std::env::var("CLERK_BENCH_RT").is_ok_and(|v| v == "current_thread")
}

fn fixture() -> Fixture {
    let rt = if current_thread() {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
    };
    let (user_id, body) = rt.block_on(user_body_from_emulator());
    let (addr, accepted) = start_server(body.clone());
    let clerk = Client::builder()
        .secret_key("sk_test_bench0000000000000000000000000000000000")
        .unwrap()
        .api_url(&format!("http://{addr}"))
        .unwrap()
        .build()
        .unwrap();
    let proto = clerk.users().get(user_id.as_str()).to_http_request().unwrap();
    let transport = clerk_core::HyperTransport::new().unwrap();
    Fixture {
        accepted,
        user_id,
        body,
        raw: raw_client(),
        uri: proto.uri().clone(),
        headers: proto.headers().clone(),
        clerk,
        transport,
        rt,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The cases (one request or one build each)
// ---------------------------------------------------------------------------------------------------------------

impl Fixture {
    async fn raw_get_user(&self) {
        let bytes = raw_send(&self.raw, &self.uri, &self.headers).await;
        let user: User = serde_json::from_slice(&bytes).unwrap();
        black_box(user);
    }

    /// Diagnostic: the raw request decoded through `serde_path_to_error` (the client's former success path).
    async fn raw_get_user_path_to_error(&self) {
        let bytes = raw_send(&self.raw, &self.uri, &self.headers).await;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let user: User = serde_path_to_error::deserialize(de).unwrap();
        black_box(user);
    }

    async fn raw_get_bytes(&self) {
        black_box(raw_send(&self.raw, &self.uri, &self.headers).await);
    }

    async fn clerk_get_user(&self) {
        let user = self.clerk.users().get(black_box(self.user_id.as_str())).send().await.unwrap();
        black_box(user);
    }

    async fn transport_get_bytes(&self) {
        let mut req = http::Request::new(Bytes::new());
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        let resp = self.transport.send(req).await.unwrap();
        assert!(resp.status().is_success());
        black_box(resp);
    }

    fn build_request(&self) {
        black_box(self.clerk.users().get(black_box(self.user_id.as_str())).to_http_request().unwrap());
    }

    fn list_users_build(&self) {
        let req = self
            .clerk
            .users()
            .list()
            .email_address(vec!["ada.lovelace@example.com".into(), "grace+ops@example.com".into()])
            .query(black_box("lovelace"))
            .banned(false)
            .order_by("-created_at")
            .limit(50)
            .offset(100)
            .to_http_request()
            .unwrap();
        black_box(req);
    }

    fn decode_serde_json(&self) {
        let user: User = serde_json::from_slice(black_box(&self.body)).unwrap();
        black_box(user);
    }

    /// `serde_path_to_error` over a `serde_json` deserializer: the client's second pass after a failed decode.
    fn decode_path_to_error(&self) {
        let de = &mut serde_json::Deserializer::from_slice(black_box(&self.body));
        let user: User = serde_path_to_error::deserialize(de).unwrap();
        black_box(user);
    }

    /// Runs `n` requests back to back inside one `block_on`; returns the wall time.
    fn requests<'a, F, Fut>(&'a self, n: u64, mut one: F) -> Duration
    where
        F: FnMut(&'a Self) -> Fut,
        Fut: Future<Output = ()> + 'a,
    {
        self.rt.block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                one(self).await;
            }
            start.elapsed()
        })
    }
}

fn timed(n: u64, mut body: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        body();
    }
    start.elapsed()
}

fn sanity(f: &Fixture) {
    // The same request on the wire: the raw case sends exactly the URI and headers the client builds.
    let built = f.clerk.users().get(f.user_id.as_str()).to_http_request().unwrap();
    assert_eq!(built.uri(), &f.uri);
    for name in ["authorization", "accept", "clerk-api-version", "user-agent"] {
        assert!(f.headers.contains_key(name), "missing {name}");
    }
    assert_eq!(f.headers.len(), 4, "{:?}", f.headers.keys().collect::<Vec<_>>());
    f.rt.block_on(async {
        let bytes = raw_send(&f.raw, &f.uri, &f.headers).await;
        assert_eq!(bytes, f.body);
        let raw: User = serde_json::from_slice(&bytes).unwrap();
        let user = f.clerk.users().get(f.user_id.as_str()).send().await.unwrap();
        assert_eq!(user.id.as_str(), f.user_id);
        assert_eq!(raw, user);
        assert_eq!(user.first_name.as_deref(), Some("Ada"));
        let e = f.clerk.organizations().get("org_missing").send().await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        f.transport_get_bytes().await;
    });
    f.decode_path_to_error();
    f.list_users_build();
}

// ---------------------------------------------------------------------------------------------------------------
// Criterion groups
// ---------------------------------------------------------------------------------------------------------------

fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
}

fn criterion_groups(c: &mut Criterion, f: &Fixture) {
    {
        let mut g = c.benchmark_group("raw_hyper");
        configure(&mut g);
        g.bench_function("get_user", |b| b.iter_custom(|n| f.requests(n, Fixture::raw_get_user)));
        g.bench_function("get_bytes", |b| b.iter_custom(|n| f.requests(n, Fixture::raw_get_bytes)));
        g.bench_function("get_user_path_to_error", |b| {
            b.iter_custom(|n| f.requests(n, Fixture::raw_get_user_path_to_error));
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("clerk_core");
        configure(&mut g);
        g.bench_function("transport", |b| b.iter_custom(|n| f.requests(n, Fixture::transport_get_bytes)));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("clerk_api");
        configure(&mut g);
        g.bench_function("get_user", |b| b.iter_custom(|n| f.requests(n, Fixture::clerk_get_user)));
        g.bench_function("build_request", |b| b.iter(|| f.build_request()));
        g.bench_function("list_users_build", |b| b.iter(|| f.list_users_build()));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("decode");
        configure(&mut g);
        g.bench_function("serde_json", |b| b.iter(|| f.decode_serde_json()));
        g.bench_function("path_to_error", |b| b.iter(|| f.decode_path_to_error()));
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The summary: every case re-measured in interleaved batches, so the ratios come from one run under one load.
// ---------------------------------------------------------------------------------------------------------------

/// Interleaved rounds; each runs one batch of every case, starting at a different case each round.
const ROUNDS: usize = 61;
/// Requests per batch for the loopback cases, and builds/decodes per batch for the in-memory ones.
const IO_BATCH: u64 = 200;
const CPU_BATCH: u64 = 5_000;

struct Case<'a> {
    name: &'static str,
    iters: u64,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
    /// Wall nanoseconds per operation, one entry per round.
    wall: Vec<f64>,
    /// Client-side CPU nanoseconds per operation (every thread but the server's), one entry per round.
    cpu: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// CPU time consumed so far by this process's threads other than the server's (Linux: the first field of
/// `/proc/self/task/*/schedstat`, in nanoseconds). `None` elsewhere. Unlike wall time, it does not grow while a
/// thread waits for a core, so it stays meaningful on a loaded machine.
///
/// The kernel folds a running thread's latest slice into that counter only at scheduler events, so the calling
/// thread yields first (`sched_yield` updates it); the other threads are parked when this is called.
fn client_cpu_ns() -> Option<u64> {
    thread::yield_now();
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        if std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim() == "bench-server") {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn summary<'f>(f: &'f Fixture) {
    let mut cases: Vec<Case<'f>> = Vec::new();
    let mut add = |name: &'static str, iters: u64, run: Box<dyn FnMut(u64) -> Duration + 'f>| {
        cases.push(Case { name, iters, run, wall: Vec::with_capacity(ROUNDS), cpu: Vec::with_capacity(ROUNDS) });
    };
    add("raw_hyper/get_user", IO_BATCH, Box::new(|n| f.requests(n, Fixture::raw_get_user)));
    add("raw_hyper/get_bytes", IO_BATCH, Box::new(|n| f.requests(n, Fixture::raw_get_bytes)));
    add("raw_hyper/get_user_path_to_error", IO_BATCH, Box::new(|n| f.requests(n, Fixture::raw_get_user_path_to_error)));
    add("clerk_core/transport", IO_BATCH, Box::new(|n| f.requests(n, Fixture::transport_get_bytes)));
    add("clerk_api/get_user", IO_BATCH, Box::new(|n| f.requests(n, Fixture::clerk_get_user)));
    add("clerk_api/build_request", CPU_BATCH, Box::new(|n| timed(n, || f.build_request())));
    add("clerk_api/list_users_build", CPU_BATCH, Box::new(|n| timed(n, || f.list_users_build())));
    add("decode/serde_json", CPU_BATCH, Box::new(|n| timed(n, || f.decode_serde_json())));
    add("decode/path_to_error", CPU_BATCH, Box::new(|n| timed(n, || f.decode_path_to_error())));

    let load_before = loadavg();
    // One untimed pass to warm connections, caches and CPU frequency.
    for c in &mut cases {
        let _ = (c.run)(c.iters / 4);
    }
    let conns_before = f.accepted.load(Ordering::Relaxed);
    let started = Instant::now();
    for round in 0..ROUNDS {
        let k = cases.len();
        for i in 0..k {
            let c = &mut cases[(round + i) % k];
            let cpu_before = client_cpu_ns();
            let d = (c.run)(c.iters);
            let cpu = client_cpu_ns().zip(cpu_before).map_or(f64::NAN, |(a, b)| a.saturating_sub(b) as f64);
            c.wall.push(d.as_nanos() as f64 / c.iters as f64);
            c.cpu.push(cpu / c.iters as f64);
        }
    }
    let elapsed = started.elapsed();
    let new_conns = f.accepted.load(Ordering::Relaxed) - conns_before;

    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap();
    // Per-round paired differences: both cases of a pair ran in the same round, within milliseconds of each other.
    let paired = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(x, y)| x - y).collect());

    println!();
    println!(
        "## Summary: {ROUNDS} interleaved rounds in {:.1?}; {} runtime; body {} bytes; {} CPUs; \
         load {load_before} → {}; {new_conns} new connections while measuring",
        elapsed,
        if current_thread() { "current-thread" } else { "multi-thread" },
        f.body.len(),
        thread::available_parallelism().map_or(0, std::num::NonZero::get),
        loadavg(),
    );
    println!();
    println!(
        "Per operation (one request, build or decode). Wall time, and the client side's CPU time (all threads but"
    );
    println!("the server's; for the requests this includes hyper's connection task and the kernel's TCP work):");
    println!();
    println!("| case | wall median | wall min | wall max | CPU median | CPU min | per batch |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for c in &cases {
        println!(
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            c.name,
            fmt_ns(median(c.wall.clone())),
            fmt_ns(min_of(&c.wall)),
            fmt_ns(max_of(&c.wall)),
            fmt_ns(median(c.cpu.clone())),
            fmt_ns(min_of(&c.cpu)),
            c.iters
        );
    }
    println!();
    println!("a vs b: wall-time ratio and difference from the medians and from the fastest batches, the median of the");
    println!("per-round differences (a and b measured in the same round), and the same for client CPU time:");
    println!();
    println!(
        "| a vs b | wall ratio (medians) | wall ratio (mins) | wall a − b (medians) | wall a − b (mins) | \
         wall a − b (paired) | CPU ratio (medians) | CPU a − b (paired) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let row = |label: &str, a: &str, b: &str| {
        let (a, b) = (find(a), find(b));
        let (wa, wb) = (median(a.wall.clone()), median(b.wall.clone()));
        let (na, nb) = (min_of(&a.wall), min_of(&b.wall));
        println!(
            "| {label} | {:.3}× | {:.3}× | {} | {} | {} | {:.3}× | {} |",
            wa / wb,
            na / nb,
            fmt_us(wa - wb),
            fmt_us(na - nb),
            fmt_us(paired(&a.wall, &b.wall)),
            median(a.cpu.clone()) / median(b.cpu.clone()),
            fmt_us(paired(&a.cpu, &b.cpu)),
        );
    };
    row("**`clerk_api/get_user` vs `raw_hyper/get_user`**", "clerk_api/get_user", "raw_hyper/get_user");
    row(
        "`raw_hyper/get_user_path_to_error` vs `raw_hyper/get_user`",
        "raw_hyper/get_user_path_to_error",
        "raw_hyper/get_user",
    );
    row("`clerk_api/get_user` vs `raw_hyper/get_bytes`", "clerk_api/get_user", "raw_hyper/get_bytes");
    row("`clerk_core/transport` vs `raw_hyper/get_bytes`", "clerk_core/transport", "raw_hyper/get_bytes");
    row("`raw_hyper/get_user` vs `raw_hyper/get_bytes` (decode)", "raw_hyper/get_user", "raw_hyper/get_bytes");
    row("`decode/path_to_error` vs `decode/serde_json`", "decode/path_to_error", "decode/serde_json");
    println!();
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1000.0 { format!("{:.2} µs", ns / 1000.0) } else { format!("{ns:.0} ns") }
}

fn fmt_us(ns: f64) -> String {
    format!("{:+.2} µs", ns / 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = std::env::var("CLERK_BENCH_QUICK").is_ok_and(|v| v == "1");
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`) criterion runs each case once as a smoke
    // test and the summary is skipped (as with `--list` and `--profile-time`).
    let bench_mode = args.iter().any(|a| a == "--bench");
    // `cargo bench -- --test` (what `cargo xtask ci` runs): the sanity checks, then each criterion case once; no
    // summary, whatever `CLERK_BENCH_QUICK` says.
    let test_mode = args.iter().any(|a| a == "--test");
    let no_summary = test_mode || args.iter().any(|a| a == "--list" || a == "--profile-time");

    let f = fixture();
    println!("user {}: {} bytes of JSON, served on every GET /v1/users/{{id}}", f.user_id, f.body.len());
    sanity(&f);

    if test_mode || !quick {
        let mut c = Criterion::default().configure_from_args();
        criterion_groups(&mut c, &f);
        c.final_summary();
    }
    if (quick || bench_mode) && !no_summary {
        summary(&f);
    }
}
