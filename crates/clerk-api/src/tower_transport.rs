//! Any `tower::Service` as the transport.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use clerk_core::{BoxFuture, HttpTransport, TransportError};
use tower::ServiceExt as _;

/// Adapts a `tower::Service<http::Request<Bytes>>` to [`HttpTransport`], with the default transport's bounds: a
/// whole-request timeout (10 s) and a response body limit (4 MiB), so that a custom stack cannot hang a request or
/// hand the decoder an unbounded body. Service errors become [`TransportError::Io`] (retryable).
pub struct TowerTransport<S> {
    service: S,
    timeout: Duration,
    max_body: usize,
}

impl<S> TowerTransport<S> {
    /// Wraps `service`; it is cloned for each request, as tower services are.
    pub const fn new(service: S) -> Self {
        Self { service, timeout: Duration::from_secs(10), max_body: 4 * 1024 * 1024 }
    }

    /// The whole-request timeout ([`TransportError::Timeout`] past it). Default 10 s, as the default transport.
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body accepted ([`TransportError::BodyTooLarge`] past it). Default 4 MiB, as the default
    /// transport.
    #[must_use]
    pub const fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }
}

impl<S> fmt::Debug for TowerTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
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
        let (timeout, limit) = (self.timeout, self.max_body);
        Box::pin(async move {
            let response = tokio::time::timeout(timeout, svc.oneshot(request))
                .await
                .map_err(|_| TransportError::Timeout)?
                .map_err(|e| TransportError::Io(e.into()))?;
            if response.body().len() > limit {
                return Err(TransportError::BodyTooLarge { limit });
            }
            Ok(response)
        })
    }
}
