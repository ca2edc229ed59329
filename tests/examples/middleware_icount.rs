//! Instructions per request through the example apps, in-process (no sockets, no threads), for callgrind: each
//! framework's example app with the middleware against the same routes without it, with and without the floor's
//! bare RSA check, on the same 200 distinct tokens (and the protected apps on one repeated token).
//!
//! Wall-clock ratios under load on a small shared machine move from one run to the next (docs/performance.md);
//! instruction counts do not. They are not time, but they say exactly how much work the middleware does per request
//! on top of the RSA check, both sides counted in the same run:
//!
//! ```sh
//! cargo build --release -p clerk-workspace-tests --example middleware_icount
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/middleware_icount
//! callgrind_annotate --inclusive=yes --threshold=100 cg.out | grep icount_case_    # ÷ 200 = per request
//! ```
//!
//! Each case is an `#[inline(never)]` function named `icount_case_*` that sends its 200 requests and reads each
//! whole response body. Run natively, it only checks that every request got its 200.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/clerk-axum/examples/axum.rs"]
mod axum_example;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/clerk-actix/examples/actix.rs"]
mod actix_example;

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServiceResponse;
use axum::body::Body;
use clerk_core::Authenticator;
use clerk_core::TokenCacheConfig;
use common::{AUTHORIZED_PARTY, RsaCheck};
use tower::ServiceExt as _;

/// Requests per case.
const N: usize = 200;
/// The protected apps' token cache: filled before the cases (each filler passes twice: the default cache admits a
/// token on its second pass). The distinct tokens each pass once, so they are not cached and evict nothing.
const CAPACITY: usize = 64;

fn axum_requests(tokens: &[String]) -> Vec<http::Request<Body>> {
    let req = |t: &String| http::Request::get("/me").header("authorization", format!("Bearer {t}"));
    tokens.iter().map(|t| req(t).body(Body::empty()).unwrap()).collect()
}

fn actix_requests(tokens: &[String]) -> Vec<actix_http::Request> {
    let req = |t: &String| {
        actix_web::test::TestRequest::get().uri("/me").insert_header(("authorization", format!("Bearer {t}")))
    };
    tokens.iter().map(|t| req(t).to_request()).collect()
}

async fn axum_drive(app: &axum::Router, reqs: Vec<http::Request<Body>>) -> usize {
    let mut ok = 0;
    for r in reqs {
        let resp = app.clone().oneshot(r).await.unwrap();
        ok += usize::from(resp.status() == 200);
        black_box(axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap());
    }
    ok
}

async fn actix_drive<S, B>(app: &S, reqs: Vec<actix_http::Request>) -> usize
where
    S: actix_web::dev::Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut ok = 0;
    for r in reqs {
        let resp = app.call(r).await.unwrap();
        ok += usize::from(resp.status() == 200);
        black_box(actix_web::body::to_bytes(resp.into_body()).await.ok());
    }
    ok
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {$(
        /// Runs the case's requests (a future that has not started yet) to completion.
        #[inline(never)]
        fn $name(rt: &actix_web::rt::SystemRunner, requests: impl Future<Output = usize>) -> usize {
            black_box(stringify!($name)); // distinct bodies: identical functions would be merged into one symbol
            rt.block_on(requests)
        }
    )*};
}

cases!(
    icount_case_axum_plain,
    icount_case_axum_rsa,
    icount_case_axum_clerk,
    icount_case_axum_clerk_repeated,
    icount_case_actix_plain,
    icount_case_actix_rsa,
    icount_case_actix_clerk,
    icount_case_actix_clerk_repeated,
);

fn main() {
    // One actix system (a current-thread tokio runtime underneath) runs both frameworks' apps.
    let rt = actix_web::rt::System::new();
    let (pem, token, fillers, tokens) = rt.block_on(async {
        let clerk = clerk_testing::Emulator::builder().seed(7).start().await.unwrap();
        let user = clerk.create_user("icount@example.com").unwrap();
        let mint = || {
            clerk
                .session_token(&user)
                .unwrap()
                .lifetime(Duration::from_secs(3600))
                .organization("org_2loadbench", "acme", "org:admin", &["org:reports:read", "org:reports:manage"])
                .mint()
        };
        let token = mint();
        let fillers: Vec<String> = (0..2 * CAPACITY).map(|_| mint()).collect();
        let tokens: Vec<String> = (0..N).map(|_| mint()).collect();
        (clerk.jwt_public_key(), token, fillers, tokens)
    });
    let authenticator = |fillers: &[String]| {
        let v = clerk_core::Verifier::builder()
            .jwt_key(&pem)
            .unwrap()
            .authorized_parties([AUTHORIZED_PARTY])
            .token_cache(TokenCacheConfig::capacity(CAPACITY))
            .build()
            .unwrap();
        rt.block_on(async {
            for f in fillers.iter().chain(fillers) {
                v.verify(f).await.unwrap();
            }
            // (quick_cache bounds each shard, so it may evict well before it holds `CAPACITY` entries.)
            assert!(v.cached_tokens() >= fillers.len() / 2);
        });
        Authenticator::builder().verifier(v).build().unwrap()
    };
    let session = rt.block_on(common::verifier(&pem).unwrap().verify(&token)).unwrap();
    let rsa = Arc::new(RsaCheck::new(&pem, &token).unwrap());

    // `with_state(())`, as `axum::serve` does: it turns each handler into its route (layers applied) once, where a
    // router driven without it converts the requested route on every request.
    let axum_plain = common::axum_plain_app(Arc::new(session.clone()), None).with_state(());
    let axum_rsa = common::axum_plain_app(Arc::new(session.clone()), Some(Arc::clone(&rsa))).with_state(());
    let axum_clerk =
        axum_example::app(clerk_axum::ClerkLayer::new(authenticator(&fillers[..CAPACITY])), None).with_state(());
    let actix_auth = authenticator(&fillers[CAPACITY..]);
    let (actix_plain, actix_rsa, actix_clerk) = rt.block_on(async {
        use actix_web::{App, test::init_service, web};
        let (data, rsa) = (web::Data::new(session.clone()), web::Data::from(Arc::clone(&rsa)));
        let (d, r) = (data.clone(), rsa.clone());
        let plain = init_service(App::new().configure(move |cfg| common::actix_plain_app(cfg, d, r, false))).await;
        let with_rsa =
            init_service(App::new().configure(move |cfg| common::actix_plain_app(cfg, data, rsa, true))).await;
        let clerk = clerk_actix::Clerk::new(actix_auth);
        let protected = init_service(App::new().configure(move |cfg| actix_example::app(cfg, clerk, None))).await;
        (plain, with_rsa, protected)
    });
    // Warm-up outside the cases: first-use costs (lazy statics, first allocations) are not a case's, and the repeated
    // token is verified (and, on its second pass, cached) here, so its cases measure cache hits only.
    let warm = [fillers[0].clone(), token.clone(), token.clone()];
    rt.block_on(async {
        for app in [&axum_plain, &axum_rsa, &axum_clerk] {
            assert_eq!(axum_drive(app, axum_requests(&warm)).await, 3);
        }
        assert_eq!(actix_drive(&actix_plain, actix_requests(&warm)).await, 3);
        assert_eq!(actix_drive(&actix_rsa, actix_requests(&warm)).await, 3);
        assert_eq!(actix_drive(&actix_clerk, actix_requests(&warm)).await, 3);
    });

    let repeated = vec![token.clone(); N];
    let results = [
        ("axum_plain", icount_case_axum_plain(&rt, axum_drive(&axum_plain, axum_requests(&tokens)))),
        ("axum_rsa", icount_case_axum_rsa(&rt, axum_drive(&axum_rsa, axum_requests(&tokens)))),
        // The repeated token before the distinct ones.
        (
            "axum_clerk_repeated",
            icount_case_axum_clerk_repeated(&rt, axum_drive(&axum_clerk, axum_requests(&repeated))),
        ),
        ("axum_clerk", icount_case_axum_clerk(&rt, axum_drive(&axum_clerk, axum_requests(&tokens)))),
        ("actix_plain", icount_case_actix_plain(&rt, actix_drive(&actix_plain, actix_requests(&tokens)))),
        ("actix_rsa", icount_case_actix_rsa(&rt, actix_drive(&actix_rsa, actix_requests(&tokens)))),
        (
            "actix_clerk_repeated",
            icount_case_actix_clerk_repeated(&rt, actix_drive(&actix_clerk, actix_requests(&repeated))),
        ),
        ("actix_clerk", icount_case_actix_clerk(&rt, actix_drive(&actix_clerk, actix_requests(&tokens)))),
    ];
    for (name, ok) in results {
        assert_eq!(ok, N, "{name}: every request answered 200");
    }
    println!("{N} requests per case, every one answered 200");
}
