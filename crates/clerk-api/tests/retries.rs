//! Retries, `Retry-After`, timeouts and dropped connections, through the emulator's fault injection.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clerk_api::{Client, RequestOptions, RetryPolicy};
use clerk_core::HyperTransport;
use clerk_testing::{Emulator, Fault};

fn client(clerk: &Emulator, retry: RetryPolicy) -> Client {
    Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(retry)
        .build()
        .unwrap()
}

fn fast() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(10), Duration::from_millis(50))
}

#[tokio::test]
async fn get_retries_5xx_and_dropped_connections_then_succeeds() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("r@example.com").unwrap();
    clerk.faults().inject_times("GetUser", Fault::Status(503), 1);
    clerk.faults().inject_times("GetUser", Fault::DropConnection, 1);
    let u = client(&clerk, fast()).users().get(&uid).send().await.unwrap();
    assert_eq!(u.id.as_str(), uid);
    let statuses: Vec<u16> =
        clerk.requests().iter().filter(|r| r.operation_id == Some("GetUser")).map(|r| r.status).collect();
    assert_eq!(statuses, [503, 0, 200]);
}

#[tokio::test]
async fn retries_are_bounded_and_return_the_last_error() {
    let clerk = Emulator::start().await.unwrap();
    clerk.faults().inject("GetUser", Fault::Status(500));
    let e = client(&clerk, fast().with_max_attempts(4)).users().get("user_x").send().await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(clerk.request_count("/v1/users/user_x"), 4);
}

#[tokio::test]
async fn four_xx_is_never_retried() {
    let clerk = Emulator::start().await.unwrap();
    let e = client(&clerk, fast()).users().get("user_missing").send().await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(clerk.request_count("/v1/users/user_missing"), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("ra@example.com").unwrap();
    clerk.faults().inject_times("GetUser", Fault::RateLimited { retry_after_secs: 1 }, 1);
    let start = Instant::now();
    client(&clerk, fast()).users().get(&uid).send().await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1), "waited for Retry-After");
    // Without retries the 429 surfaces with its Retry-After.
    clerk.faults().inject_times("GetUser", Fault::RateLimited { retry_after_secs: 9 }, 1);
    let e = client(&clerk, RetryPolicy::none()).users().get(&uid).send().await.unwrap_err();
    assert!(e.is_rate_limited());
    assert_eq!(e.as_api().unwrap().retry_after(), Some(Duration::from_secs(9)));
    // A Retry-After beyond the total budget is not waited for.
    clerk.faults().inject_times("GetUser", Fault::RateLimited { retry_after_secs: 60 }, 1);
    let start = Instant::now();
    let e = client(&clerk, fast().with_max_elapsed(Duration::from_secs(2))).users().get(&uid).send().await.unwrap_err();
    assert!(e.is_rate_limited());
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_patch_is_sent_once_unless_opted_in() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("p@example.com").unwrap();
    let path = format!("/v1/users/{uid}");
    clerk.faults().inject_times("UpdateUser", Fault::Status(503), 1);
    let e = client(&clerk, fast()).users().update(&uid).first_name("X").send().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(clerk.requests().iter().filter(|r| r.path == path && r.method == "PATCH").count(), 1, "sent once");

    clerk.faults().inject_times("UpdateUser", Fault::DropConnection, 1);
    let e = client(&clerk, fast()).users().update(&uid).first_name("X").send().await.unwrap_err();
    assert!(matches!(e, clerk_api::Error::Transport(_)));
    assert_eq!(clerk.requests().iter().filter(|r| r.path == path && r.method == "PATCH").count(), 2, "still once more");

    clerk.faults().inject_times("UpdateUser", Fault::Status(503), 1);
    let u = client(&clerk, fast())
        .users()
        .update(&uid)
        .first_name("Y")
        .options(RequestOptions::new().retry_non_idempotent())
        .send()
        .await
        .unwrap();
    assert_eq!(u.first_name.as_deref(), Some("Y"));
}

#[tokio::test]
async fn timeouts_surface_as_transport_errors() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("t@example.com").unwrap();
    clerk.faults().inject("GetUser", Fault::Latency(Duration::from_secs(3)));
    let transport = Arc::new(HyperTransport::builder().timeout(Duration::from_millis(200)).build().unwrap());
    let c = Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .transport(transport)
        .retry(fast().with_max_attempts(2))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = c.users().get(&uid).send().await.unwrap_err();
    assert!(matches!(e, clerk_api::Error::Transport(clerk_core::TransportError::Timeout)), "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn malformed_bodies_are_decode_errors_with_a_path() {
    let clerk = Emulator::start().await.unwrap();
    clerk.faults().inject_times(
        "GetUser",
        Fault::Respond { status: 200, body: r#"{"id": 5, "object": "user"}"#.into() },
        1,
    );
    let e = client(&clerk, fast()).users().get("user_1").send().await.unwrap_err();
    match e {
        clerk_api::Error::Decode(d) => {
            assert_eq!(d.status(), 200);
            assert_eq!(d.path(), "id");
            assert!(d.body_snippet().contains("\"id\": 5"));
        }
        other => panic!("{other:?}"),
    }
    clerk.faults().inject_times("GetUser", Fault::MalformedBody, 1);
    let e = client(&clerk, fast()).users().get("user_1").send().await.unwrap_err();
    assert!(matches!(e, clerk_api::Error::Decode(_)));
}

#[tokio::test]
async fn per_request_secret_key_and_headers() {
    let a = Emulator::start().await.unwrap();
    let b = Emulator::start().await.unwrap();
    let ub = b.create_user("b@example.com").unwrap();
    // A client for A's URL... with B's URL but A's key fails; per request, B's key succeeds.
    let c = Client::builder().secret_key(a.secret_key()).unwrap().api_url(&b.api_url()).unwrap().build().unwrap();
    assert_eq!(c.users().get(&ub).send().await.unwrap_err().status(), Some(401));
    let opts = RequestOptions::new().secret_key(b.secret_key()).unwrap().header("x-request-id", "abc").unwrap();
    let req = c.users().get(&ub).options(opts.clone()).to_http_request().unwrap();
    assert_eq!(req.headers()["x-request-id"], "abc");
    assert_eq!(req.headers()["clerk-api-version"], clerk_api::API_VERSION);
    assert!(req.headers()["user-agent"].to_str().unwrap().starts_with("clerk-rs/"));
    assert!(!format!("{opts:?}").contains(b.secret_key()));
    c.users().get(&ub).options(opts).send().await.unwrap();
}

/// The secret key goes with every request: plain `http://` only to this machine (a local emulator), unless allowed by
/// name.
#[test]
fn plain_http_is_for_loopback_hosts_only() {
    let builder = |url: &str| Client::builder().secret_key("sk_test_abc").unwrap().api_url(url).unwrap();
    for url in ["http://api.clerk.com", "http://192.0.2.7:8080", "http://[2001:db8::1]/v1"] {
        let err = builder(url).build().unwrap_err();
        assert!(matches!(err, clerk_core::BuildError::InsecureUrl { field: "api_url", .. }), "{url}: {err}");
        builder(url).allow_insecure_http(true).build().unwrap();
    }
    for url in ["http://127.0.0.1:9000", "http://localhost", "http://[::1]:80", "https://api.clerk.com"] {
        builder(url).build().unwrap();
    }
}
