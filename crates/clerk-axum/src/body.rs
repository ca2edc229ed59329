//! [`RefusalBody`]: the response bodies a refusal can be written into, so that the layer serves any tower service
//! over `http` (axum, tonic, hyper), not only axum's.

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use clerk_core::Refusal;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt as _, Full};

/// A response body that [`ClerkLayer`](crate::ClerkLayer) and [`RequireLayer`](crate::RequireLayer) can answer a
/// refused request with. Implemented for axum's body, `http-body-util`'s `Full`, `BoxBody` and `UnsyncBoxBody`,
/// `String`, and (feature `tonic`) tonic's body, so the same layer protects an axum router, a tonic gRPC server or a
/// bare hyper service.
///
/// Tonic's body answers in gRPC's own form (HTTP `200`, `grpc-status` `UNAUTHENTICATED` for a `401`,
/// `PERMISSION_DENIED` for a `403`, `UNAVAILABLE` for an outage, `INTERNAL` for a missing layer), which gRPC clients
/// read as the call's status.
pub trait RefusalBody: Sized {
    /// The body of a refusal.
    fn from_refusal(body: Cow<'static, str>) -> Self;

    /// The whole response for a refusal: by default its status, headers and body as they are.
    fn refusal_response(refusal: Refusal) -> http::Response<Self> {
        refusal.into_response(Self::from_refusal)
    }
}

fn bytes(body: Cow<'static, str>) -> Bytes {
    match body {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
        Cow::Owned(s) => Bytes::from(s),
    }
}

impl RefusalBody for axum::body::Body {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        Self::from(bytes(body))
    }
}

impl RefusalBody for Full<Bytes> {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        Self::new(bytes(body))
    }
}

impl RefusalBody for String {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        body.into_owned()
    }
}

impl<E: 'static> RefusalBody for UnsyncBoxBody<Bytes, E> {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        Full::new(bytes(body)).map_err(|never: Infallible| match never {}).boxed_unsync()
    }
}

impl<E: 'static> RefusalBody for BoxBody<Bytes, E> {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        Full::new(bytes(body)).map_err(|never: Infallible| match never {}).boxed()
    }
}

#[cfg(feature = "tonic")]
impl RefusalBody for tonic::body::Body {
    fn from_refusal(body: Cow<'static, str>) -> Self {
        Self::new(Full::new(bytes(body)))
    }

    /// A trailers-only gRPC answer: `200`, `content-type: application/grpc`, `grpc-status` from the refusal's HTTP
    /// status as gRPC maps it, `grpc-message` the refusal's plain text (never a reason), no body.
    fn refusal_response(refusal: Refusal) -> http::Response<Self> {
        let code = match refusal.status().as_u16() {
            401 => tonic::Code::Unauthenticated,
            403 => tonic::Code::PermissionDenied,
            500 => tonic::Code::Internal,
            _ => tonic::Code::Unavailable,
        };
        let message = if refusal.content_type().starts_with("text/") { refusal.body() } else { "Forbidden" };
        let mut response = tonic::Status::new(code, message).into_http::<Self>();
        if let Some(challenge) = refusal.www_authenticate() {
            response.headers_mut().insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = refusal.retry_after() {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static(seconds));
        }
        response
    }
}
