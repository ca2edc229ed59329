//! The server side of `cargo xtask loadbench` (see `xtask/src/loadbench.rs`): eight apps in one process, each on its
//! own loopback port, all wired to one in-process `clerk-testing` emulator.
//!
//! | app | what it is |
//! |---|---|
//! | `axum_plain` | the axum example's routes without `ClerkLayer`; `/me` answers the same JSON (a session verified at startup) |
//! | `axum_clerk` | the axum example app, unchanged (`crates/clerk-axum/examples/axum.rs`), around a `ClerkLayer` |
//! | `actix_plain` | the actix example's routes and scope without `Clerk`, same `/me` JSON |
//! | `actix_clerk` | the actix example app, unchanged (`crates/clerk-actix/examples/actix.rs`), around a `Clerk` |
//! | `axum_nocache`, `actix_nocache` | the example apps with a verifier whose verified-token cache is off: a full verification on every request |
//! | `axum_rsa`, `actix_rsa` | the `_plain` apps whose `/me` first does the bare RSA check of the floor (below): the RSA floor over HTTP |
//!
//! Keys: networkless, the emulator's public PEM (`jwt_key`, as `CLERK_JWT_KEY`), authorized party
//! `http://localhost:3000`; no user fetch. After startup nothing talks to the emulator, so it is not on the hot path.
//!
//! Before serving, it mints one token for the repeated-token runs, 4096 filler tokens and `--distinct N` tokens
//! (written one per line to `--tokens-file`), fills each protected app's verified-token cache with the fillers, each
//! passing twice (the steady state of a busy app: the cache full of other sessions' tokens; and the cache admits
//! entries as hot while it fills up and keeps them, so without this any distinct tokens it admitted early would stay
//! cached and turn later cycles through the file partly into hits), and measures, in this order:
//!
//! - the RSA floor: aws-lc-rs `verify_sig` through `clerk_core::VerifyingKey::verify`, the same key, on 1 thread
//!   and on every core;
//! - cache hits for the distinct-token access pattern: `--threads` interleaved slices, 3 cycles (a token evicted
//!   recently enough to be remembered comes back hot on its third use), on a fresh, pre-filled verifier;
//! - `Verifier::verify` and `Authenticator::authenticate` in-process (one thread, no HTTP), on distinct tokens and
//!   on the repeated one.
//!
//! Then it prints one line, `LOADBENCH_READY {json}`, on stdout, and serves until stdin is closed or `--max-secs`
//! have passed.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/clerk-axum/examples/axum.rs"]
mod axum_example;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/clerk-actix/examples/actix.rs"]
mod actix_example;

mod common;

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clerk_core::Authenticator;
use clerk_core::{SessionAuth, Verifier};
use clerk_testing::Emulator;
use common::{BoxError, RsaCheck, me_json, verifier, verifier_without_cache};
use serde_json::{Value, json};

/// The verified-token cache's default capacity (`TokenCacheConfig::default()`).
const CACHE_CAPACITY: usize = 4096;
/// A verification faster than this was a cache hit (a hit costs ~0.2 µs, the RSA path ~20 µs).
const HIT_THRESHOLD: Duration = Duration::from_micros(5);

struct Args {
    tokens_file: String,
    distinct: usize,
    threads: usize,
    max_secs: u64,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args { tokens_file: String::new(), distinct: 20_000, threads: 2, max_secs: 900 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tokens-file" => args.tokens_file = value,
            "--distinct" => args.distinct = value.parse()?,
            "--threads" => args.threads = value.parse()?,
            "--max-secs" => args.max_secs = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if args.tokens_file.is_empty() {
        return Err("--tokens-file is required".into());
    }
    if args.threads == 0 || args.distinct < args.threads {
        return Err("--distinct must be at least --threads, and --threads at least 1".into());
    }
    Ok(args)
}

/// Fills a verifier's token cache: each filler passes twice (the default cache admits a token on its second pass).
async fn prefill(verifier: &Verifier, fillers: &[String]) -> Result<(), BoxError> {
    for t in fillers.iter().chain(fillers) {
        verifier.verify(t).await?;
    }
    Ok(())
}

/// Mints `n` session tokens for `user`, on every core (RSA signing is ~1 ms a token).
fn mint(clerk: &Emulator, user: &str, n: usize, cores: usize) -> Vec<String> {
    let per = n.div_ceil(cores);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|i| {
                let count = per.min(n.saturating_sub(i * per));
                s.spawn(move || {
                    (0..count)
                        .map(|_| {
                            clerk
                                .session_token(user)
                                .expect("the user exists")
                                .lifetime(Duration::from_secs(3600))
                                .organization(
                                    "org_2loadbench",
                                    "acme",
                                    "org:admin",
                                    &["org:reports:read", "org:reports:manage"],
                                )
                                .mint()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("minting thread")).collect()
    })
}

/// The RSA floor: the bare signature check (`check`), 2 s on one thread (batches of 100: minimum and median per
/// check), then 2 s on `cores` threads (checks per second in all).
fn rsa_floor(check: &RsaCheck, cores: usize) -> Value {
    let mut batches = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        for _ in 0..100 {
            assert!(check.run());
        }
        batches.push(t.elapsed().as_nanos() as f64 / 100.0);
    }
    batches.sort_by(f64::total_cmp);
    let (min, median) = (batches[0], batches[batches.len() / 2]);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < Duration::from_secs(2) {
                        for _ in 0..100 {
                            assert!(check.run());
                        }
                        n += 100;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("floor thread")).sum()
    });
    let rate = total as f64 / start.elapsed().as_secs_f64();
    json!({"ns_min": min, "ns_median": median, "threads": cores, "threads_per_sec": rate})
}

/// Replays what the wrk script does with the distinct tokens (thread `i` cycles through slice `i`; the threads'
/// requests interleave) for three cycles on a fresh verifier filled like the served ones, and counts the cache hits.
async fn cache_hits(pem: &str, fillers: &[String], distinct: &[String], threads: usize) -> Result<Value, BoxError> {
    let v = verifier(pem)?;
    prefill(&v, fillers).await?;
    let per = distinct.len() / threads;
    let (mut calls, mut hits) = (0u64, 0u64);
    for _cycle in 0..3 {
        for i in 0..per {
            for t in 0..threads {
                let start = Instant::now();
                v.verify(&distinct[t * per + i]).await?;
                calls += 1;
                hits += u64::from(start.elapsed() < HIT_THRESHOLD);
            }
        }
    }
    Ok(json!({"calls": calls, "hits": hits}))
}

/// Median of per-call times (ns) over batches.
fn median_ns(mut batches: Vec<f64>) -> f64 {
    batches.sort_by(f64::total_cmp);
    batches[batches.len() / 2]
}

fn bearer(token: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(http::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("header value"));
    h
}

/// What authentication costs in-process, one thread, no HTTP: `Verifier::verify` and `Authenticator::authenticate`
/// (what both middlewares call) on distinct tokens (fresh pre-filled verifiers, 5 000 tokens each, batches of 500)
/// and on one repeated token (cache hit; batches of 10 000; and without a token cache, batches of 500). Medians of
/// the batches, ns per call.
async fn auth_cost(
    pem: &str,
    fillers: &[String],
    distinct: &[String],
    token: &str,
    rsa: &RsaCheck,
) -> Result<Value, BoxError> {
    let n = distinct.len().min(10_000) / 2;
    let v = verifier(pem)?;
    prefill(&v, fillers).await?;
    // Each batch of verifications right after a batch of as many bare RSA checks: the two medians see the same
    // machine, so their ratio is like for like (the floor's own 2 s measurement runs earlier, and its fastest batch
    // is not comparable with a median).
    let (mut batches, mut floor_batches) = (Vec::new(), Vec::new());
    for chunk in distinct[..n].chunks(500) {
        let t = Instant::now();
        for _ in chunk {
            if !rsa.run() {
                return Err("the bare RSA check rejected its own signature".into());
            }
        }
        floor_batches.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
        let t = Instant::now();
        for tok in chunk {
            v.verify(tok).await?;
        }
        batches.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
    }
    let verify_distinct = median_ns(batches);
    let floor_interleaved = median_ns(floor_batches);
    let v2 = verifier(pem)?;
    prefill(&v2, fillers).await?;
    let auth = Authenticator::builder().verifier(v2).build()?;
    let headers: Vec<http::HeaderMap> = distinct[n..2 * n].iter().map(|t| bearer(t)).collect();
    let mut batches = Vec::new();
    for chunk in headers.chunks(500) {
        let t = Instant::now();
        for h in chunk {
            auth.authenticate(h).await.map_err(|e| e.reason())?.ok_or("no credentials")?;
        }
        batches.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
    }
    let authenticate_distinct = median_ns(batches);
    // The example's `/me` body from fresh auth objects (organization and permissions decoded on first use, as on
    // every request with a new token) and from one whose organization was already decoded (every later request
    // with a cached token, and the unprotected apps' pre-verified session).
    let fresh_verifier = verifier_without_cache(pem)?;
    let mut fresh = Vec::with_capacity(n);
    for tok in &distinct[..n] {
        fresh.push(fresh_verifier.verify(tok).await?);
    }
    let mut batches = Vec::new();
    for chunk in fresh.chunks(500) {
        let t = Instant::now();
        for a in chunk {
            std::hint::black_box(me_json(a));
        }
        batches.push(t.elapsed().as_nanos() as f64 / chunk.len() as f64);
    }
    let me_fresh = median_ns(batches);
    let mut batches = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        for a in &fresh[..500] {
            std::hint::black_box(me_json(a));
        }
        batches.push(t.elapsed().as_nanos() as f64 / 500.0);
    }
    let me_decoded = median_ns(batches);
    // The repeated token on an authenticator without a token cache: a full verification every call.
    let nocache = Authenticator::builder().verifier(verifier_without_cache(pem)?).build()?;
    let h = bearer(token);
    let mut batches = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        for _ in 0..500 {
            std::hint::black_box(nocache.authenticate(&h).await.map_err(|e| e.reason())?.ok_or("no credentials")?);
        }
        batches.push(t.elapsed().as_nanos() as f64 / 500.0);
    }
    let authenticate_nocache = median_ns(batches);
    v.verify(token).await?;
    auth.authenticate(&h).await.map_err(|e| e.reason())?;
    let (mut vb, mut ab) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..10_000 {
            std::hint::black_box(v.verify(token).await?);
        }
        vb.push(t.elapsed().as_nanos() as f64 / 10_000.0);
        let t = Instant::now();
        for _ in 0..10_000 {
            std::hint::black_box(auth.authenticate(&h).await.map_err(|e| e.reason())?);
        }
        ab.push(t.elapsed().as_nanos() as f64 / 10_000.0);
    }
    // What each request's future holds (the middlewares box a future that contains these).
    let verify_future_bytes = std::mem::size_of_val(&v.verify(token));
    let authenticate_future_bytes = std::mem::size_of_val(&auth.authenticate(&h));
    Ok(json!({
        "verify_future_bytes": verify_future_bytes,
        "authenticate_future_bytes": authenticate_future_bytes,
        "verify_distinct_ns": verify_distinct,
        "floor_interleaved_ns": floor_interleaved,
        "authenticate_distinct_ns": authenticate_distinct,
        "authenticate_nocache_ns": authenticate_nocache,
        "me_json_fresh_ns": me_fresh,
        "me_json_decoded_ns": me_decoded,
        "verify_repeated_ns": median_ns(vb),
        "authenticate_repeated_ns": median_ns(ab),
    }))
}

/// The actix apps' ports.
struct ActixPorts {
    plain: u16,
    clerk: u16,
    nocache: u16,
    rsa: u16,
}

/// Starts the four actix apps (unprotected, protected, protected without a token cache, unprotected with the RSA
/// check) on one actix System (its own thread), `workers` workers each; answers their ports.
fn start_actix(
    auth: Authenticator,
    auth_nocache: Authenticator,
    session: SessionAuth,
    rsa: Arc<RsaCheck>,
    workers: usize,
) -> Result<ActixPorts, BoxError> {
    use actix_web::{App, HttpServer, web};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("actix-system".to_owned()).spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let protected = |auth: Authenticator, name: &str| {
                let clerk = clerk_actix::Clerk::new(auth);
                HttpServer::new(move || {
                    let clerk = clerk.clone();
                    App::new().configure(move |cfg| actix_example::app(cfg, clerk, None))
                })
                .workers(workers)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .unwrap_or_else(|e| panic!("bind {name}: {e}"))
            };
            let clerk_server = protected(auth, "actix_clerk");
            let nocache_server = protected(auth_nocache, "actix_nocache");
            let data = web::Data::new(session);
            let rsa = web::Data::from(rsa);
            let unprotected = |with_rsa: bool, name: &str| {
                let (data, rsa) = (data.clone(), rsa.clone());
                HttpServer::new(move || {
                    let (data, rsa) = (data.clone(), rsa.clone());
                    App::new().configure(move |cfg| common::actix_plain_app(cfg, data, rsa, with_rsa))
                })
                .workers(workers)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .unwrap_or_else(|e| panic!("bind {name}: {e}"))
            };
            let plain_server = unprotected(false, "actix_plain");
            let rsa_server = unprotected(true, "actix_rsa");
            let ports = ActixPorts {
                plain: plain_server.addrs()[0].port(),
                clerk: clerk_server.addrs()[0].port(),
                nocache: nocache_server.addrs()[0].port(),
                rsa: rsa_server.addrs()[0].port(),
            };
            let servers = [plain_server.run(), clerk_server.run(), nocache_server.run(), rsa_server.run()];
            tx.send(ports).expect("ports");
            for server in servers {
                actix_web::rt::spawn(server);
            }
            // Serve until the process exits.
            std::future::pending::<()>().await;
        });
    })?;
    Ok(rx.recv_timeout(Duration::from_secs(30))?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);

    let clerk = Emulator::start().await?;
    let user = clerk.create_user("loadbench@example.com")?;
    let pem = clerk.jwt_public_key();

    let t = Instant::now();
    let mut tokens = mint(&clerk, &user, 1 + CACHE_CAPACITY + args.distinct, cores);
    let distinct = tokens.split_off(1 + CACHE_CAPACITY);
    let fillers = tokens.split_off(1);
    let token = tokens.pop().ok_or("no token")?;
    let mint_secs = t.elapsed().as_secs_f64();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&args.tokens_file)?);
    for t in &distinct {
        writeln!(file, "{t}")?;
    }
    file.flush()?;
    drop(file);

    // One authenticator (verifier, token cache) per protected app, pre-filled.
    let axum_verifier = verifier(&pem)?;
    let actix_verifier = verifier(&pem)?;
    prefill(&axum_verifier, &fillers).await?;
    prefill(&actix_verifier, &fillers).await?;
    let session = axum_verifier.verify(&token).await?;
    let axum_auth = Authenticator::builder().verifier(axum_verifier).build()?;
    let actix_auth = Authenticator::builder().verifier(actix_verifier).build()?;

    // One RSA check for the floor and for the `_rsa` apps: the same key, input and signature.
    let rsa = Arc::new(RsaCheck::new(&pem, &token)?);
    let floor = rsa_floor(&rsa, cores);
    let hits = cache_hits(&pem, &fillers, &distinct, args.threads).await?;
    let cost = auth_cost(&pem, &fillers, &distinct, &token, &rsa).await?;

    let bind = || tokio::net::TcpListener::bind("127.0.0.1:0");
    let (axum_plain, axum_clerk) = (bind().await?, bind().await?);
    let ports_axum = (axum_plain.local_addr()?.port(), axum_clerk.local_addr()?.port());
    let app_plain = common::axum_plain_app(Arc::new(session.clone()), None);
    tokio::spawn(async move { axum::serve(axum_plain, app_plain).await.expect("axum_plain") });
    let axum_rsa = bind().await?;
    let port_axum_rsa = axum_rsa.local_addr()?.port();
    let app_rsa = common::axum_plain_app(Arc::new(session.clone()), Some(Arc::clone(&rsa)));
    tokio::spawn(async move { axum::serve(axum_rsa, app_rsa).await.expect("axum_rsa") });
    let app = axum_example::app(clerk_axum::ClerkLayer::new(axum_auth), None);
    tokio::spawn(async move { axum::serve(axum_clerk, app).await.expect("axum_clerk") });
    let axum_nocache = bind().await?;
    let port_axum_nocache = axum_nocache.local_addr()?.port();
    let auth_nocache = Authenticator::builder().verifier(verifier_without_cache(&pem)?).build()?;
    let app_nocache = axum_example::app(clerk_axum::ClerkLayer::new(auth_nocache), None);
    tokio::spawn(async move { axum::serve(axum_nocache, app_nocache).await.expect("axum_nocache") });
    let actix_nocache = Authenticator::builder().verifier(verifier_without_cache(&pem)?).build()?;
    let ports_actix = start_actix(actix_auth, actix_nocache, session, rsa, cores)?;

    let ready = json!({
        "pid": std::process::id(),
        "cores": cores,
        "ports": {
            "axum_plain": ports_axum.0,
            "axum_clerk": ports_axum.1,
            "axum_nocache": port_axum_nocache,
            "axum_rsa": port_axum_rsa,
            "actix_plain": ports_actix.plain,
            "actix_clerk": ports_actix.clerk,
            "actix_nocache": ports_actix.nocache,
            "actix_rsa": ports_actix.rsa,
        },
        "token": token,
        "token_bytes": token.len(),
        "tokens_file": args.tokens_file,
        "distinct": distinct.len(),
        "fillers": fillers.len(),
        "mint_secs": mint_secs,
        "floor": floor,
        "cache_replay": hits,
        "in_process": cost,
        "startup_secs": started.elapsed().as_secs_f64(),
        "keys": "networkless: the emulator's public PEM (jwt_key)",
    });
    println!("LOADBENCH_READY {ready}");
    std::io::stdout().flush()?;

    // Serve until stdin closes (the xtask exits or drops it) or the time bound.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        while std::io::stdin().read(&mut sink).is_ok_and(|n| n > 0) {}
        let _ = tx.send(());
    });
    let _ = tokio::time::timeout(Duration::from_secs(args.max_secs), rx).await;
    drop(clerk);
    std::process::exit(0);
}
