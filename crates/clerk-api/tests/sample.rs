//! The hand-written core against the emulator over real HTTP.
#![allow(missing_docs, clippy::unwrap_used)]

use clerk_api::{Client, FilePart, Nullable};
use clerk_testing::Emulator;
use futures_util::StreamExt as _;

#[tokio::test]
async fn core_round_trip() {
    let clerk = Emulator::start().await.unwrap();
    let client =
        Client::builder().secret_key(clerk.secret_key()).unwrap().api_url(&clerk.api_url()).unwrap().build().unwrap();
    let uid = clerk.create_user("ada@example.com").unwrap();
    let u = client.users().get(&uid).send().await.unwrap();
    assert_eq!(u.id.as_str(), uid);
    let u = client.users().update(&uid).first_name("Ada").send().await.unwrap();
    assert_eq!(u.first_name.as_deref(), Some("Ada"));
    let u = client.users().update(&uid).first_name(Nullable::Null).send().await.unwrap();
    assert_eq!(u.first_name, None);
    let u = client
        .users()
        .set_profile_image(&uid, FilePart::new("me.png", "image/png", &b"\x89PNG"[..]))
        .send()
        .await
        .unwrap();
    let _ = u;
    for i in 0..7 {
        clerk.create_user(&format!("u{i}@example.com")).unwrap();
    }
    let page = client.users().list().limit(3).send().await.unwrap();
    assert_eq!(page.data.len(), 3);
    let all: Vec<_> = client.users().list().paginate().collect().await;
    assert_eq!(all.len(), 8);
    let e = client.users().get("user_missing").send().await.unwrap_err();
    assert!(e.is_not_found());
    assert!(e.as_api().unwrap().trace_id().is_some());
    let e = client.users().get("..").send().await.unwrap_err();
    assert!(matches!(e, clerk_api::Error::InvalidRequest(_)));
    // The client is a key source too.
    let v = client.verifier().build().unwrap();
    let token = clerk.session_token(&uid).unwrap().mint();
    v.verify(&token).await.unwrap();
}
