//! The clerk-core demo: no Clerk account, no network beyond loopback.
//!
//! It starts the `clerk-testing` emulator (an offline Clerk instance on 127.0.0.1 whose RSA-2048 key is generated
//! with josekit, an implementation independent of clerk-core), which serves the key set as the Backend API
//! `/v1/jwks` and mints session tokens. It then verifies requests with clerk-core exactly as a web app would:
//! header, cookie, expired, wrong authorized party, foreign key, repeat token (served from the verified-token cache).
//! Prints a transcript with timings; exits non-zero if any step misbehaves.
//!
//! ```sh
//! cargo run -p clerk-core --example demo
//! ```
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clerk_core::{Check, Verifier};
use clerk_testing::Emulator;

const APP: &str = "https://app.example.com";
const JWKS_PATH: &str = "/v1/jwks";

struct Step {
    name: &'static str,
    expect: &'static str,
    got: String,
    micros: u128,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    println!("clerk-core demo: verifying Clerk session tokens against an emulated Clerk instance on loopback\n");
    let clerk = Emulator::builder().default_authorized_party(APP).start().await.expect("emulator");
    println!("  instance key server: {}{JWKS_PATH}  (RSA-2048, kid {})", clerk.api_url(), clerk.active_key().kid());

    let verifier = Verifier::builder()
        .secret_key(clerk.secret_key())
        .and_then(|b| b.api_url(&clerk.api_url()))
        .map(|b| b.authorized_parties([APP]))
        .and_then(clerk_core::VerifierBuilder::build)
        .expect("verifier");

    let user = clerk.create_user("ada@example.com").expect("user");
    let token = || {
        clerk.session_token(&user).expect("session").organization(
            "org_2bVftRtFezPdchfaz0000000000",
            "acme",
            "admin",
            &["org:projects:read", "org:projects:revoke"],
        )
    };
    let good = token().mint();
    let expired = token().expired(Duration::from_secs(3600)).mint();
    let wrong_azp = token().authorized_party("https://evil.example.net").mint();
    // Another instance's key under the same kid.
    let forged = token().signed_by(clerk.foreign_key().expect("foreign key")).mint();

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
            Ok(Some((auth, _))) if auth.user_id().as_str() != user => format!("ok, but as {}", auth.user_id().as_str()),
            Ok(Some((auth, _))) if !auth.has(Check::Role("org:admin")) => "ok, but not org:admin".to_owned(),
            Ok(Some(_)) => "ok".to_owned(),
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
    // The emulator logs every request it serves: one key fetch, and nothing else.
    let fetches = clerk.request_count(JWKS_PATH);
    let requests = clerk.requests();
    println!("\n  key fetches: {fetches} (one, shared by every request)");
    all_ok &= fetches == 1 && requests.len() == 1 && requests.iter().all(|r| r.status == 200);
    if all_ok {
        println!("\nevery step behaved as Clerk's official SDKs specify");
        ExitCode::SUCCESS
    } else {
        println!("\nsome steps misbehaved");
        ExitCode::FAILURE
    }
}
