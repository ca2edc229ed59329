//! `clerk-testing serve [--addr 127.0.0.1:PORT] [--seed N] [--user EMAIL] [--webhook URL]`: runs the emulator and
//! prints its settings as environment lines, for manual use and for apps in other languages. Stops on Ctrl-C.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;

use clerk_testing::Emulator;

const USAGE: &str = "usage: clerk-testing serve [--addr 127.0.0.1:PORT] [--seed N] [--user EMAIL] [--webhook URL]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("serve") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut builder = Emulator::builder();
    let mut users = Vec::new();
    let mut it = args.iter().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--addr", Some(v)) => match v.parse::<SocketAddr>() {
                Ok(a) => builder = builder.addr(a),
                Err(_) => {
                    eprintln!("clerk-testing: --addr must be IP:PORT, got {v}");
                    return ExitCode::from(2);
                }
            },
            ("--seed", Some(v)) => match v.parse::<u64>() {
                Ok(s) => builder = builder.seed(s),
                Err(_) => {
                    eprintln!("clerk-testing: --seed must be a number, got {v}");
                    return ExitCode::from(2);
                }
            },
            ("--user", Some(v)) => users.push(v.clone()),
            ("--webhook", Some(v)) => builder = builder.webhook_endpoint(v),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let clerk = match builder.start().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("clerk-testing: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("CLERK_API_URL={}", clerk.api_url());
    println!("CLERK_SECRET_KEY={}", clerk.secret_key());
    println!("CLERK_PUBLISHABLE_KEY={}", clerk.publishable_key());
    println!("CLERK_JWKS_URL={}", clerk.jwks_url());
    println!("CLERK_JWT_KEY=\"{}\"", clerk.jwt_public_key().trim().replace('\n', "\\n"));
    for endpoint in clerk.webhook_endpoints() {
        println!(
            "# webhook endpoint {} ({})\nCLERK_WEBHOOK_SIGNING_SECRET={}",
            endpoint.id(),
            endpoint.url(),
            endpoint.secret()
        );
    }
    for email in users {
        match clerk.create_user(&email).and_then(|id| clerk.session_token(&id).map(|t| (id, t))) {
            Ok((id, token)) => {
                let token = token.lifetime(std::time::Duration::from_secs(3600)).mint();
                println!("# user {email}: {id}\nCLERK_TEST_TOKEN={token}");
            }
            Err(e) => eprintln!("clerk-testing: cannot create {email}: {e}"),
        }
    }
    eprintln!("clerk-testing: serving on {} — Ctrl-C to stop", clerk.addr());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
