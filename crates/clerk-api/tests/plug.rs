//! The framework-neutral plug logic against the emulator: 401 vs 503, fetch_user, the user cache.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use clerk_api::plug::{Authenticator, Failure, FetchUser};
use clerk_api::{Client, RetryConfig};
use clerk_testing::{Emulator, Fault};

fn headers(token: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h
}

fn client(clerk: &Emulator) -> Client {
    Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryConfig::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn claims_only_fetch_user_and_cache() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("plug@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();

    let claims_only = Authenticator::builder().client(client(&clerk)).build().unwrap();
    let a = claims_only.authenticate(&headers(&token)).await.unwrap().unwrap();
    assert_eq!(a.session().unwrap().user_id().as_str(), uid);
    assert!(a.user().is_none());
    assert_eq!(claims_only.authenticate(&http::HeaderMap::new()).await.unwrap().map(|_| ()), None);

    let fetching = Authenticator::builder()
        .client(client(&clerk))
        .fetch_user(FetchUser::Always)
        .user_cache(100, Duration::from_secs(30))
        .build()
        .unwrap();
    let path = format!("/v1/users/{uid}");
    for _ in 0..3 {
        let a = fetching.authenticate(&headers(&token)).await.unwrap().unwrap();
        let u = a.user().unwrap();
        assert_eq!(u.user.id.as_str(), uid);
        assert_eq!(u.raw["email_addresses"][0]["email_address"], "plug@example.com");
    }
    assert_eq!(clerk.request_count(&path), 1, "the user cache served the repeats");

    let uncached = Authenticator::builder().client(client(&clerk)).fetch_user(FetchUser::Always).build().unwrap();
    uncached.authenticate(&headers(&token)).await.unwrap();
    uncached.authenticate(&headers(&token)).await.unwrap();
    assert_eq!(clerk.request_count(&path), 3);
}

#[tokio::test]
async fn refusals_are_401_and_outages_503() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("out@example.com").unwrap();
    let auth = Authenticator::builder().client(client(&clerk)).fetch_user(FetchUser::Always).build().unwrap();

    // Keys unavailable at the first request: an outage, not a bad token.
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    let token = clerk.session_token(&uid).unwrap().mint();
    assert_eq!(
        auth.authenticate(&headers(&token)).await.unwrap_err(),
        Failure::Unavailable { reason: "jwk-remote-failed-to-load" }
    );

    // Keys load now (a fresh authenticator: the failed fetch is rate-limited on the first one).
    let auth = Authenticator::builder().client(client(&clerk)).fetch_user(FetchUser::Always).build().unwrap();
    auth.authenticate(&headers(&token)).await.unwrap();

    // The Backend API is down for the user fetch: 503.
    clerk.faults().inject_times("GetUser", Fault::Status(502), 1);
    assert_eq!(
        auth.authenticate(&headers(&token)).await.unwrap_err(),
        Failure::Unavailable { reason: "user-fetch-failed" }
    );

    // Bad tokens: 401 with Clerk's reason.
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    assert_eq!(
        auth.authenticate(&headers(&expired)).await.unwrap_err(),
        Failure::Unauthorized { token_present: true, reason: "token-expired" }
    );
    let mut bad = http::HeaderMap::new();
    bad.insert("authorization", "Bearer".parse().unwrap());
    assert!(matches!(auth.authenticate(&bad).await.unwrap_err(), Failure::Unauthorized { token_present: true, .. }));

    // The user was deleted after the token was minted: 401.
    let gone = clerk.create_user("gone@example.com").unwrap();
    let t = clerk.session_token(&gone).unwrap().mint();
    client(&clerk).users().delete(&gone).send().await.unwrap();
    assert_eq!(
        auth.authenticate(&headers(&t)).await.unwrap_err(),
        Failure::Unauthorized { token_present: true, reason: "user-not-found" }
    );
}

#[tokio::test]
async fn builder_refuses_unsafe_configs() {
    let clerk = Emulator::start().await.unwrap();
    assert!(Authenticator::builder().build().is_err());
    let v = clerk_core::Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    assert!(Authenticator::builder().verifier(v.clone()).fetch_user(FetchUser::Always).build().is_err());
    assert!(Authenticator::builder().client(client(&clerk)).user_cache(10, Duration::from_secs(3600)).build().is_err());
    Authenticator::builder().verifier(v).build().unwrap();
}

/// The middlewares box one `authenticate` future per request: the HTTP paths (user fetch, opaque machine tokens)
/// are boxed inside it, so it stays small.
#[tokio::test]
async fn the_authenticate_future_is_small() {
    let clerk = Emulator::start().await.unwrap();
    let auth = Authenticator::builder().client(client(&clerk)).fetch_user(FetchUser::Always).build().unwrap();
    let h = headers("a.b.c");
    let size = std::mem::size_of_val(&auth.authenticate(&h));
    assert!(size <= 512, "Authenticator::authenticate's future is {size} bytes");
}

#[tokio::test]
async fn authenticate_cached_answers_what_authenticate_would_or_nothing() {
    use clerk_core::{TestClock, TokenTypes, Verifier};
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("cached@example.com").unwrap();
    let clock =
        TestClock::at_secs(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    let verifier = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().clock(clock.clone()).build().unwrap();
    let auth = Authenticator::builder().verifier(verifier).build().unwrap();
    let token = clerk.session_token(&uid).unwrap().lifetime(Duration::from_secs(60)).mint();
    let h = headers(&token);

    assert!(auth.authenticate_cached(&h).is_none(), "not verified yet: for `authenticate`");
    let full = auth.authenticate(&h).await.unwrap().unwrap();
    // The verifier's default cache takes a token the second time it passes.
    assert!(auth.authenticate_cached(&h).is_none(), "passed once: not cached yet");
    auth.authenticate(&h).await.unwrap().unwrap();
    let hit = auth.authenticate_cached(&h).expect("cached").unwrap();
    assert_eq!(hit.session().unwrap().user_id(), full.session().unwrap().user_id());
    assert_eq!(hit.origin(), full.origin());
    assert!(hit.user().is_none());

    // The same token in another form of the header is the same token; in a cookie it is for `authenticate`.
    let mut spaced = http::HeaderMap::new();
    spaced.insert("authorization", format!("  bearer \t{token} ").parse().unwrap());
    assert!(auth.authenticate_cached(&spaced).is_some_and(|r| r.is_ok()));
    let mut cookie = http::HeaderMap::new();
    cookie.insert("cookie", format!("__session={token}").parse().unwrap());
    assert!(auth.authenticate_cached(&cookie).is_none());
    assert!(auth.authenticate(&cookie).await.unwrap().is_some());

    // Not answered where `authenticate` has more to do: a user to fetch, or no session tokens accepted.
    assert!(auth.accepting(TokenTypes::MACHINE).authenticate_cached(&h).is_none());
    let fetching = Authenticator::builder()
        .verifier(Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap())
        .client(client(&clerk))
        .fetch_user(FetchUser::Always)
        .build()
        .unwrap();
    fetching.authenticate(&h).await.unwrap().unwrap();
    assert!(fetching.authenticate_cached(&h).is_none());
    assert!(fetching.authenticate(&h).await.unwrap().unwrap().user().is_some(), "the cached path still fetches");

    // Expired since it was cached: the refusal `authenticate` gives.
    clock.advance(Duration::from_secs(120));
    let refused = Failure::Unauthorized { token_present: true, reason: "token-expired" };
    assert_eq!(auth.authenticate_cached(&h).unwrap().unwrap_err(), refused);
    assert_eq!(auth.authenticate(&h).await.unwrap_err(), refused);
}
