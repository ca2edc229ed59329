//! Any `tower::Service` as the transport: users can add their own layers.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use clerk_api::Client;

#[tokio::test]
async fn a_tower_service_carries_the_requests() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let svc = tower::service_fn(move |req: http::Request<Bytes>| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            assert_eq!(req.uri().path(), "/v1/users/user_1");
            assert_eq!(req.headers()["authorization"], "Bearer sk_test_tower");
            let body = r#"{"id":"user_1","object":"user","created_at":1,"updated_at":1}"#;
            Ok::<_, std::io::Error>(http::Response::new(Bytes::from_static(body.as_bytes())))
        }
    });
    let client = Client::builder().secret_key("sk_test_tower").unwrap().tower_service(svc).build().unwrap();
    let result = client.users().get("user_1").send().await;
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    // Whether the minimal body decodes depends on the model's required fields; the request went through the service.
    if let Ok(u) = result {
        assert_eq!(u.id.as_str(), "user_1");
    }

    // Service errors surface as transport errors.
    let failing = tower::service_fn(|_req: http::Request<Bytes>| async {
        Err::<http::Response<Bytes>, _>(std::io::Error::other("down"))
    });
    let client = Client::builder()
        .secret_key("sk_test_tower")
        .unwrap()
        .retry(clerk_api::RetryPolicy::none())
        .tower_service(failing)
        .build()
        .unwrap();
    assert!(matches!(client.users().get("user_1").send().await, Err(clerk_api::Error::Transport(_))));
}

/// A custom stack gets the default transport's bounds: a request that takes too long times out, and a body over the
/// limit is refused.
#[tokio::test]
async fn a_tower_service_is_bounded_like_the_default_transport() {
    use clerk_api::TowerTransport;
    use clerk_core::{HttpTransport as _, TransportError};
    use std::time::Duration;

    let slow = tower::service_fn(|_req: http::Request<Bytes>| async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok::<_, std::io::Error>(http::Response::new(Bytes::new()))
    });
    let transport = TowerTransport::new(slow).timeout(Duration::from_millis(50));
    let err = transport.send(http::Request::new(Bytes::new())).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout), "{err:?}");

    let big = tower::service_fn(|_req: http::Request<Bytes>| async {
        Ok::<_, std::io::Error>(http::Response::new(Bytes::from(vec![b'x'; 2048])))
    });
    let err = TowerTransport::new(big).max_body_bytes(1024).send(http::Request::new(Bytes::new())).await.unwrap_err();
    assert!(matches!(err, TransportError::BodyTooLarge { limit: 1024 }), "{err:?}");
    assert_eq!(TowerTransport::new(big).send(http::Request::new(Bytes::new())).await.unwrap().body().len(), 2048);
}
