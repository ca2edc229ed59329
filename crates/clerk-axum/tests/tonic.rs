//! `ClerkLayer` in front of a tonic gRPC server (not axum): a real HTTP/2 server on loopback, a real tonic client.
//! The handler reads the session from the request's extensions; refusals reach the client as gRPC status codes
//! (a refusal's HTTP status, as gRPC maps it: `401` → `UNAUTHENTICATED`, `503` → `UNAVAILABLE`).
#![cfg(feature = "tonic")]
#![allow(missing_docs, clippy::unwrap_used)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes};
use clerk_axum::{Authenticator, ClerkAuth, ClerkLayer};
use clerk_core::Verifier;
use clerk_testing::Emulator;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{NamedService, UnaryService};
use tonic::{Code, Request, Response, Status};

/// Raw bytes as gRPC messages: no protobuf needed for a one-method test service.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `test.Auth/WhoAmI`: answers the signed-in user's id.
#[derive(Clone)]
struct WhoAmI;

impl NamedService for WhoAmI {
    const NAME: &'static str = "test.Auth";
}

struct Unary;

impl UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let answer = match ClerkAuth::from_extensions(request.extensions()) {
            Ok(Some(auth)) => Ok(Response::new(Bytes::from(auth.user_id().to_string()))),
            Ok(None) => Err(Status::unauthenticated("signed out")),
            Err(rejection) => Err(Status::unauthenticated(rejection.failure().map_or("", |f| f.reason()))),
        };
        Box::pin(std::future::ready(answer))
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for WhoAmI {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move { Ok(tonic::server::Grpc::new(RawCodec).unary(Unary, req).await) })
    }
}

async fn who_am_i(channel: tonic::transport::Channel, token: Option<&str>) -> Result<String, Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.map_err(|e| Status::unknown(e.to_string()))?;
    let mut request = Request::new(Bytes::new());
    if let Some(t) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let path = http::uri::PathAndQuery::from_static("/test.Auth/WhoAmI");
    let answer = client.unary(request, path, RawCodec).await?;
    Ok(String::from_utf8(answer.into_inner().to_vec()).unwrap())
}

#[tokio::test]
async fn a_tonic_server_behind_clerk_layer() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("grpc@example.com").unwrap();
    let verifier = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    let layer = ClerkLayer::new(Authenticator::builder().verifier(verifier).build().unwrap());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tonic::transport::Server::builder()
        .layer(layer)
        .add_service(WhoAmI)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    let server = tokio::spawn(server);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();

    let token = clerk.session_token(&uid).unwrap().mint();
    for _ in 0..3 {
        // First verified, then answered from the verified-token cache: the same answer.
        assert_eq!(who_am_i(channel.clone(), Some(&token)).await.unwrap(), uid);
    }
    let refused = who_am_i(channel.clone(), None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    assert_eq!(who_am_i(channel.clone(), Some(&expired)).await.unwrap_err().code(), Code::Unauthenticated);
    server.abort();
}
