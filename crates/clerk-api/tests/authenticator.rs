//! clerk-core's `Authenticator` with this client as its Backend API, against the emulator: 401 vs 503, fetch_user,
//! the user cache, requests answered at once.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use clerk_api::{Client, FetchedUser, RetryPolicy};
use clerk_core::{Authenticated, Authentication, Authenticator, Failure, FetchUser, Reason};
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
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn claims_only_fetch_user_and_cache() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("plug@example.com").unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();

    let claims_only = client(&clerk).authenticator().unwrap().build().unwrap();
    let a = claims_only.authenticate(&headers(&token)).await.unwrap().unwrap();
    assert_eq!(a.session().unwrap().user_id().as_str(), uid);
    assert!(a.user().is_none());
    assert_eq!(claims_only.authenticate(&http::HeaderMap::new()).await.unwrap().map(|_| ()), None);

    let fetching = client(&clerk)
        .authenticator()
        .unwrap()
        .fetch_user(FetchUser::Always)
        .user_cache(100, Duration::from_secs(30))
        .build()
        .unwrap();
    let path = format!("/v1/users/{uid}");
    for _ in 0..3 {
        let a = fetching.authenticate(&headers(&token)).await.unwrap().unwrap();
        let u = FetchedUser::of(&a).unwrap();
        assert_eq!(u.user.id.as_str(), uid);
        assert_eq!(u.raw["email_addresses"][0]["email_address"], "plug@example.com");
    }
    assert_eq!(clerk.request_count(&path), 1, "the user cache served the repeats");

    let uncached = client(&clerk).authenticator().unwrap().fetch_user(FetchUser::Always).build().unwrap();
    uncached.authenticate(&headers(&token)).await.unwrap();
    uncached.authenticate(&headers(&token)).await.unwrap();
    assert_eq!(clerk.request_count(&path), 3);
}

#[tokio::test]
async fn refusals_are_401_and_outages_503() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("out@example.com").unwrap();
    let auth = client(&clerk).authenticator().unwrap().fetch_user(FetchUser::Always).build().unwrap();

    // Keys unavailable at the first request: an outage, not a bad token.
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    let token = clerk.session_token(&uid).unwrap().mint();
    assert_eq!(
        auth.authenticate(&headers(&token)).await.unwrap_err(),
        Failure::KeysUnavailable(Reason::JwkRemoteFailedToLoad)
    );

    // Keys load now (a fresh authenticator: the failed fetch is rate-limited on the first one).
    let auth = client(&clerk).authenticator().unwrap().fetch_user(FetchUser::Always).build().unwrap();
    auth.authenticate(&headers(&token)).await.unwrap();

    // The Backend API is down for the user fetch: 503.
    clerk.faults().inject_times("GetUser", Fault::Status(502), 1);
    assert_eq!(auth.authenticate(&headers(&token)).await.unwrap_err(), Failure::UserUnavailable);

    // Bad tokens: 401 with Clerk's reason.
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    assert_eq!(auth.authenticate(&headers(&expired)).await.unwrap_err(), Failure::Token(Reason::TokenExpired));
    let mut bad = http::HeaderMap::new();
    bad.insert("authorization", "Bearer".parse().unwrap());
    assert!(matches!(auth.authenticate(&bad).await.unwrap_err(), Failure::Credentials(_)));

    // The user was deleted after the token was minted: 401.
    let gone = clerk.create_user("gone@example.com").unwrap();
    let t = clerk.session_token(&gone).unwrap().mint();
    client(&clerk).users().delete(&gone).send().await.unwrap();
    assert_eq!(auth.authenticate(&headers(&t)).await.unwrap_err(), Failure::UserNotFound);
}

#[tokio::test]
async fn builder_refuses_unsafe_configs() {
    let clerk = Emulator::start().await.unwrap();
    assert!(Authenticator::builder().build().is_err());
    let v = clerk_core::Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    assert!(Authenticator::builder().verifier(v.clone()).fetch_user(FetchUser::Always).build().is_err());
    assert!(client(&clerk).authenticator().unwrap().user_cache(10, Duration::from_secs(3600)).build().is_err());
    Authenticator::builder().verifier(v).build().unwrap();
}

/// The middlewares keep one `Authentication` per request in their response futures: the waits (keys, a user, the
/// Backend API) are boxed inside it, so it stays small.
#[tokio::test]
async fn the_authenticate_future_is_small() {
    let clerk = Emulator::start().await.unwrap();
    let auth = client(&clerk).authenticator().unwrap().fetch_user(FetchUser::Always).build().unwrap();
    let h = headers("a.b.c");
    let size = std::mem::size_of_val(&auth.authenticate(&h));
    assert!(size <= 512, "Authenticator::authenticate's answer is {size} bytes");
}

/// What `authenticate` answers at once (`Some`), without a future; `None` when it must wait.
fn answered_at_once(auth: &Authenticator, h: &http::HeaderMap) -> Option<Result<Option<Authenticated>, Failure>> {
    match auth.authenticate(h) {
        Authentication::Ready(answer) => Some(answer),
        Authentication::Pending(_) => None,
    }
}

#[tokio::test]
async fn cached_tokens_are_answered_at_once_as_they_would_be_later() {
    use clerk_core::{TestClock, TokenTypes, Verifier};
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("cached@example.com").unwrap();
    let clock =
        TestClock::at_secs(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    let verifier = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().clock(clock.clone()).build().unwrap();
    let auth = Authenticator::builder().verifier(verifier).build().unwrap();
    let token = clerk.session_token(&uid).unwrap().lifetime(Duration::from_secs(60)).mint();
    let h = headers(&token);

    assert!(answered_at_once(&auth, &h).is_none(), "not verified yet: to wait for");
    let full = auth.authenticate(&h).await.unwrap().unwrap();
    // The verifier's default cache takes a token the second time it passes.
    assert!(answered_at_once(&auth, &h).is_none(), "passed once: not cached yet");
    auth.authenticate(&h).await.unwrap().unwrap();
    let hit = answered_at_once(&auth, &h).expect("cached").unwrap().unwrap();
    assert_eq!(hit.session().unwrap().user_id(), full.session().unwrap().user_id());
    assert_eq!(hit.origin(), full.origin());
    assert!(hit.user().is_none());

    // The same token in another form of the header is the same token; so it is in the session cookie.
    let mut spaced = http::HeaderMap::new();
    spaced.insert("authorization", format!("  bearer \t{token} ").parse().unwrap());
    assert!(answered_at_once(&auth, &spaced).is_some_and(|r| r.is_ok()));
    let mut cookie = http::HeaderMap::new();
    cookie.insert("cookie", format!("__session={token}").parse().unwrap());
    let from_cookie = answered_at_once(&auth, &cookie).expect("cached").unwrap().unwrap();
    assert_eq!(from_cookie.origin(), clerk_core::TokenOrigin::Cookie);
    assert!(auth.authenticate(&cookie).await.unwrap().is_some());

    // Where there is more to do: a user to fetch (no user cache) is waited for; where session tokens are not
    // accepted, the token is refused at once as the wrong kind, never served from the session cache.
    assert_eq!(
        answered_at_once(&auth.accepting(TokenTypes::MACHINE), &h).expect("refused at once").unwrap_err(),
        Failure::Token(Reason::TokenTypeMismatch)
    );
    let fetching = Authenticator::builder()
        .verifier(Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap())
        .backend_api(client(&clerk))
        .fetch_user(FetchUser::Always)
        .build()
        .unwrap();
    fetching.authenticate(&h).await.unwrap().unwrap();
    fetching.authenticate(&h).await.unwrap().unwrap();
    assert!(answered_at_once(&fetching, &h).is_none());
    assert!(fetching.authenticate(&h).await.unwrap().unwrap().user().is_some(), "the cached path still fetches");
    // With a user cache, a cached token whose user is cached is answered at once, user included.
    let with_users =
        client(&clerk).authenticator().unwrap().fetch_user(FetchUser::Always).user_cache(10, Duration::from_secs(60));
    let with_users = with_users.build().unwrap();
    let fresh = clerk.session_token(&uid).unwrap().mint();
    for _ in 0..2 {
        with_users.authenticate(&headers(&fresh)).await.unwrap().unwrap();
    }
    let at_once = answered_at_once(&with_users, &headers(&fresh)).expect("token and user cached").unwrap().unwrap();
    assert!(FetchedUser::of(&at_once).is_some());

    // Expired since it was cached: the refusal `authenticate` gives.
    clock.advance(Duration::from_secs(120));
    let refused = Failure::Token(Reason::TokenExpired);
    assert_eq!(answered_at_once(&auth, &h).unwrap().unwrap_err(), refused);
    assert_eq!(auth.authenticate(&h).await.unwrap_err(), refused);
}
