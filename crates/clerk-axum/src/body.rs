//! [`RefusalBody`]: the response bodies a refusal can be written into, so that the layer serves any tower service
//! over `http` (axum, tonic, hyper), not only axum's.

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt as _, Full};

/// A response body that [`ClerkLayer`](crate::ClerkLayer) and [`RequireLayer`](crate::RequireLayer) can answer a
/// refused request with. Implemented for axum's body, `http-body-util`'s `Full`, `BoxBody` and `UnsyncBoxBody`,
/// `String`, and (feature `tonic`) tonic's body, so the same layer protects an axum router, a tonic gRPC server or a
/// bare hyper service. (A gRPC client reads a refusal's HTTP status as its gRPC code: `401` → `UNAUTHENTICATED`,
/// `403` → `PERMISSION_DENIED`, `503` → `UNAVAILABLE`.)
pub trait RefusalBody: Sized {
    /// The body of a refusal.
    fn from_refusal(body: Cow<'static, str>) -> Self;
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
}
