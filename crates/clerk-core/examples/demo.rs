//! The clerk-core demo: no Clerk account, no network beyond loopback.
//!
//! It generates an instance key with josekit (an implementation independent of clerk-core), serves the key set as a
//! Backend API `/v1/jwks` on 127.0.0.1, mints session tokens, and verifies requests with clerk-core exactly as a web
//! app would: header, cookie, expired, wrong authorized party, foreign key, repeat token (served from the
//! verified-token cache). Prints a transcript with timings; exits non-zero if any step misbehaves.
//!
//! ```sh
//! cargo run -p clerk-core --example demo
//! ```
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::Instant;

use clerk_core::{Check, Verifier};
use serde_json::json;
use support::{JwksServer, Mode, TestKey, now_secs, session_claims};

struct Step {
    name: &'static str,
    expect: &'static str,
    got: String,
    micros: u128,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    println!("clerk-core demo: verifying Clerk session tokens against a loopback key server\n");
    let instance = TestKey::generate("ins_demo", 2048);
    let stranger = TestKey::generate("ins_demo", 2048); // same kid, another instance's key
    let server = JwksServer::start(Mode::Jwks(instance.jwks())).await;
    println!("  instance key server: {}/v1/jwks  (RSA-2048, kid ins_demo)", server.url());

    let verifier = Verifier::builder()
        .secret_key("sk_test_demo_not_a_real_key")
        .and_then(|b| b.api_url(&server.url()))
        .map(|b| b.authorized_parties(["https://app.example.com"]))
        .and_then(clerk_core::VerifierBuilder::build)
        .expect("verifier");

    let now = now_secs();
    let good = instance.sign(&session_claims(now));
    let mut expired_claims = session_claims(now - 3600);
    expired_claims["exp"] = json!(now - 60);
    let expired = instance.sign(&expired_claims);
    let mut wrong_azp_claims = session_claims(now);
    wrong_azp_claims["azp"] = json!("https://evil.example.net");
    let wrong_azp = instance.sign(&wrong_azp_claims);
    let forged = stranger.sign(&session_claims(now));

    let mut steps = Vec::new();
    type Case<'a> = (&'static str, &'static str, Option<(&'a str, String)>);
    let cases: [Case<'_>; 8] = [
        ("no credentials", "signed out", None),
        ("Bearer token (first: fetches keys)", "ok", Some(("authorization", format!("Bearer {good}")))),
        ("same token again (verified-token cache)", "ok", Some(("authorization", format!("Bearer {good}")))),
        ("__session cookie", "ok", Some(("cookie", format!("theme=dark; __session={good}")))),
        ("expired token", "token-expired", Some(("authorization", format!("Bearer {expired}")))),
        (
            "wrong authorized party",
            "token-invalid-authorized-parties",
            Some(("authorization", format!("Bearer {wrong_azp}"))),
        ),
        (
            "another instance's key, same kid",
            "token-invalid-signature",
            Some(("authorization", format!("Bearer {forged}"))),
        ),
        ("garbage", "token-invalid", Some(("authorization", "Bearer not.a.token".to_owned()))),
    ];
    for (name, expect, header) in cases {
        let mut headers = http::HeaderMap::new();
        if let Some((k, v)) = header {
            headers.insert(k, v.parse().unwrap());
        }
        let start = Instant::now();
        let outcome = verifier.verify_request(&headers).await;
        let micros = start.elapsed().as_micros();
        let got = match outcome {
            Ok(None) => "signed out".to_owned(),
            Ok(Some((auth, _))) => {
                assert!(auth.has(Check::Role("org:admin")));
                "ok".to_owned()
            }
            Err(e) => e.reason().as_str().to_owned(),
        };
        steps.push(Step { name, expect, got, micros });
    }

    let mut all_ok = true;
    println!("\n      {:<42} {:<34} {:>11}", "request", "outcome", "time");
    for s in &steps {
        let mark = if s.got == s.expect { "ok " } else { "BAD" };
        all_ok &= s.got == s.expect;
        println!("  {mark} {:<42} {:<34} {:>8} µs", s.name, s.got, s.micros);
    }
    println!("\n  key fetches: {} (one, shared by every request)", server.hits());
    all_ok &= server.hits() == 1;
    if all_ok {
        println!("\nevery step behaved as Clerk's official SDKs specify");
        ExitCode::SUCCESS
    } else {
        println!("\nsome steps misbehaved");
        ExitCode::FAILURE
    }
}
