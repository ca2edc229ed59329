//! The end-to-end demo, one command, no Clerk account:
//!
//! ```sh
//! cargo run -p clerk-axum --example demo
//! ```
//!
//! It starts an emulated Clerk instance (`clerk-testing`) on loopback, creates a user and a session, mints session
//! tokens, starts the axum example app (`examples/axum.rs`) on a real socket wired to the emulator exactly as its
//! environment variables would wire it, and calls it over HTTP: `/me` without a token (401), with the token (200),
//! `/user` (the user fetched through `clerk-api`), an expired token (401), a wrong authorized party (401), a
//! signed-out `/optional` (200), the org-admin guard (403), and machine tokens: an API key (checked by the Backend
//! API) and an M2M JWT on `/machine` (200), an API key on `/me` and a session token on `/machine` (401). It prints a
//! transcript with each call's time and exits 0 only when every step behaved.
//!
//! With `CLERK_SECRET_KEY` set it talks to that real instance instead; then `CLERK_TEST_TOKEN` must hold a session
//! token of that instance (tokens cannot be minted without the instance's private key), and only the steps that need
//! no minting run.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "axum.rs"]
mod example;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_api::Client;
use clerk_axum::{Authenticator, ClerkLayer};
use clerk_core::{HttpTransport as _, HyperTransport};
use clerk_testing::{Emulator, MachineTokenFormat};

struct Step {
    name: String,
    expect: u16,
    got: u16,
    detail: String,
    micros: u128,
}

async fn call(t: &HyperTransport, base: &str, path: &str, token: Option<&str>) -> (u16, String, u128) {
    let mut req = http::Request::get(format!("{base}{path}"));
    if let Some(tok) = token {
        req = req.header("authorization", format!("Bearer {tok}"));
    }
    let start = Instant::now();
    let resp = t.send(req.body(Bytes::new()).unwrap()).await;
    let micros = start.elapsed().as_micros();
    match resp {
        Ok(r) => (r.status().as_u16(), String::from_utf8_lossy(r.body()).into_owned(), micros),
        Err(e) => (0, format!("transport error: {e}"), micros),
    }
}

fn summary(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 70 {
        format!("{}…", one_line.chars().take(70).collect::<String>())
    } else {
        one_line
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let real = std::env::var("CLERK_SECRET_KEY").is_ok_and(|v| !v.trim().is_empty());
    // Keep the emulator alive for the whole run.
    let emulator = if real { None } else { Some(Emulator::start().await.expect("emulator")) };
    let (layer, tokens) = match &emulator {
        Some(clerk) => {
            println!("clerk demo: an emulated Clerk instance at {} (no account, no network)", clerk.api_url());
            // Exactly what CLERK_SECRET_KEY + CLERK_API_URL + CLERK_AUTHORIZED_PARTIES would configure.
            let client = Client::builder()
                .secret_key(clerk.secret_key())
                .and_then(|b| b.api_url(&clerk.api_url()))
                .and_then(clerk_api::ClientBuilder::build)
                .expect("client");
            let verifier = client.verifier().authorized_parties(["http://localhost:3000"]).build().expect("verifier");
            let authn = Authenticator::builder().verifier(verifier).backend_api(client).build().expect("authenticator");
            let user = clerk.create_user("ada@example.com").expect("user");
            let session = clerk.session_token(&user).expect("session");
            println!("  user {user}, session {}", session.claims()["sid"].as_str().unwrap_or_default());
            let good = session.mint();
            let expired = clerk.session_token(&user).unwrap().expired(Duration::from_secs(120)).mint();
            let wrong_azp = clerk.session_token(&user).unwrap().authorized_party("https://evil.example").mint();
            // Machine tokens: an API key (verified by the Backend API) and an M2M JWT (verified locally).
            let (_, api_key) = clerk.create_api_key(&user, &["reports:read"]).expect("api key");
            let (machine, _) = clerk.create_machine("billing-worker").expect("machine");
            let (_, m2m) = clerk.m2m_token(&machine, &[], MachineTokenFormat::Jwt).expect("m2m token");
            (ClerkLayer::new(authn), Some((good, expired, wrong_azp, api_key, m2m)))
        }
        None => {
            println!("clerk demo: CLERK_SECRET_KEY is set — talking to the real Clerk instance");
            match ClerkLayer::from_env() {
                Ok(l) => (l, None),
                Err(e) => {
                    eprintln!("clerk demo: cannot configure from the environment: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(axum::serve(listener, example::app(layer, None)).into_future());
    println!("  the axum example app at {base}\n");
    let t = HyperTransport::new().expect("transport");

    let mut plan: Vec<(String, String, Option<String>, u16)> = vec![
        ("GET /health".into(), "/health".into(), None, 200),
        ("GET /me without a token".into(), "/me".into(), None, 401),
        ("GET /optional signed out".into(), "/optional".into(), None, 200),
    ];
    match &tokens {
        Some((good, expired, wrong_azp, api_key, m2m)) => {
            plan.push(("GET /me with the session token".into(), "/me".into(), Some(good.clone()), 200));
            plan.push(("GET /me again (verified-token cache)".into(), "/me".into(), Some(good.clone()), 200));
            plan.push(("GET /user (fetched through clerk-api)".into(), "/user".into(), Some(good.clone()), 200));
            plan.push(("GET /me with an expired token".into(), "/me".into(), Some(expired.clone()), 401));
            plan.push(("GET /me with a wrong azp".into(), "/me".into(), Some(wrong_azp.clone()), 401));
            plan.push(("GET /org-admin without the role".into(), "/org-admin".into(), Some(good.clone()), 403));
            plan.push(("GET /machine with an API key".into(), "/machine".into(), Some(api_key.clone()), 200));
            plan.push(("GET /machine with an M2M JWT".into(), "/machine".into(), Some(m2m.clone()), 200));
            plan.push(("GET /me with an API key".into(), "/me".into(), Some(api_key.clone()), 401));
            plan.push(("GET /machine with the session token".into(), "/machine".into(), Some(good.clone()), 401));
        }
        None => match std::env::var("CLERK_TEST_TOKEN") {
            Ok(tok) if !tok.trim().is_empty() => {
                plan.push(("GET /me with CLERK_TEST_TOKEN".into(), "/me".into(), Some(tok.clone()), 200));
                plan.push(("GET /user with CLERK_TEST_TOKEN".into(), "/user".into(), Some(tok), 200));
            }
            _ => println!("  (set CLERK_TEST_TOKEN to a session token of your instance to try /me and /user)\n"),
        },
    }

    let mut steps = Vec::new();
    for (name, path, token, expect) in plan {
        let (got, body, micros) = call(&t, &base, &path, token.as_deref()).await;
        steps.push(Step { name, expect, got, detail: summary(&body), micros });
    }
    server.abort();

    let mut all_ok = true;
    println!("      {:<40} {:>6} {:>10}   body", "request", "status", "time");
    for s in &steps {
        let ok = s.got == s.expect;
        all_ok &= ok;
        let mark = if ok { "ok " } else { "BAD" };
        println!("  {mark} {:<40} {:>6} {:>7} µs   {}", s.name, s.got, s.micros, s.detail);
    }
    if let Some(clerk) = &emulator {
        let jwks = clerk.request_count("/v1/jwks");
        println!("\n  Backend API calls the app made: {} (JWKS fetches: {jwks})", clerk.requests().len());
        all_ok &= jwks == 1;
    }
    if all_ok {
        println!("\nevery step behaved");
        ExitCode::SUCCESS
    } else {
        println!("\nsome steps misbehaved");
        ExitCode::FAILURE
    }
}
