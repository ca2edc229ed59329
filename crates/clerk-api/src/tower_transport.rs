//! Any `tower::Service` as the transport.

use std::fmt;

use bytes::Bytes;
use clerk_core::{BoxFuture, HttpTransport, TransportError};
use tower::ServiceExt as _;

/// Adapts a `tower::Service<http::Request<Bytes>>` to [`HttpTransport`]. Errors become
/// [`TransportError::Io`] (retryable).
pub struct TowerTransport<S> {
    service: S,
}

impl<S> TowerTransport<S> {
    /// Wraps `service`; it is cloned for each request, as tower services are.
    pub const fn new(service: S) -> Self {
        Self { service }
    }
}

impl<S> fmt::Debug for TowerTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport").finish_non_exhaustive()
    }
}

impl<S> HttpTransport for TowerTransport<S>
where
    S: tower::Service<http::Request<Bytes>, Response = http::Response<Bytes>> + Clone + Send + Sync + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
{
    fn send(&self, request: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let svc = self.service.clone();
        Box::pin(async move { svc.oneshot(request).await.map_err(|e| TransportError::Io(e.into())) })
    }
}
