//! The HTTP transport: one small object-safe trait, shared with `clerk-api`, and a default on hyper-util + rustls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::TransportError;

/// A boxed, sendable future, as the transport trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one HTTP request and returns the whole response.
///
/// Object-safe, so a client holds an `Arc<dyn HttpTransport>` and tests or users swap in their own (a replay double,
/// a proxy, a `tower` stack). Implementations do not retry; callers decide with a [`RetryPolicy`].
pub trait HttpTransport: Send + Sync + fmt::Debug + 'static {
    /// Sends `request`; errors only when no response was received.
    fn send(&self, request: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        (**self).send(request)
    }
}

/// When and how requests are retried, for every HTTP call this SDK makes: key-set fetches here, and every Backend API
/// call in `clerk-api`. One type, one meaning.
///
/// Retried: I/O errors, timeouts and 5xx answers (and, in `clerk-api`, `429`, honouring `Retry-After`), with
/// exponential backoff and jitter, bounded in attempts and in total time; other 4xx answers are final. POST and PATCH
/// are retried only when [`with_retry_non_idempotent`](Self::with_retry_non_idempotent) says so (or the request
/// opts in).
///
/// Defaults: 3 attempts in all, backoff from 100 ms doubling to at most 2 s, at most 30 s in all (the Backend API
/// client starts from 250 ms doubling to at most 5 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(30),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub const fn none() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_elapsed: Duration::ZERO,
            retry_non_idempotent: false,
        }
    }

    /// Total attempts, including the first (at least 1).
    pub const fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = if attempts == 0 { 1 } else { attempts };
        self
    }

    /// The first backoff; each later one doubles, up to `max`.
    pub const fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The most time spent across attempts and waits; a wait (or a `Retry-After`) beyond it is not waited for.
    pub const fn with_max_elapsed(mut self, max: Duration) -> Self {
        self.max_elapsed = max;
        self
    }

    /// Retry POST and PATCH too (only when every such call is safe to repeat). Default off.
    pub const fn with_retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// Total attempts.
    #[must_use]
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The most time spent across attempts and waits.
    #[must_use]
    pub const fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether POST and PATCH are retried too.
    #[must_use]
    pub const fn retries_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// The delay before retry number `retry` (1-based): a random duration between half and all of the capped
    /// exponential backoff.
    #[must_use]
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max_backoff);
        let mut b = [0u8; 4];
        let frac = if aws_lc_rs::rand::fill(&mut b).is_ok() {
            f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
        } else {
            1.0
        };
        cap.mul_f64(0.5 + frac / 2.0)
    }

    /// Sends `request` through `transport`, retrying I/O errors and 5xx answers.
    ///
    /// # Errors
    /// The last transport error when every attempt failed without a response.
    pub async fn send(
        &self,
        transport: &dyn HttpTransport,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = rebuild(&parts, body.clone());
            let last = attempt >= self.max_attempts || started.elapsed() >= self.max_elapsed;
            match transport.send(req).await {
                Ok(resp) if resp.status().is_server_error() && !last => {
                    tracing::debug!(target: "clerk::http", status = resp.status().as_u16(), attempt, "retrying after server error");
                }
                Ok(resp) => return Ok(resp),
                Err(e) if e.is_retryable() && !last => {
                    tracing::debug!(target: "clerk::http", error = %e, attempt, "retrying after transport error");
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }
}

fn rebuild(parts: &http::request::Parts, body: Bytes) -> http::Request<Bytes> {
    let mut req = http::Request::new(body);
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    req
}

#[cfg(feature = "hyper")]
pub use self::hyper_transport::{HyperTransport, HyperTransportBuilder};

#[cfg(feature = "hyper")]
mod hyper_transport {
    use super::{BoxFuture, HttpTransport};
    use crate::error::{BuildError, TransportError};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, Limited};
    use hyper_rustls::HttpsConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use std::time::Duration;

    /// The default transport: hyper-util's pooled client (keep-alive, HTTP/2 where offered) over rustls with the
    /// aws-lc-rs provider and the Mozilla root store; plain `http://` is allowed for loopback emulators.
    ///
    /// Defaults: connect timeout 5 s, whole-request timeout 10 s, response bodies up to 4 MiB.
    #[derive(Clone)]
    pub struct HyperTransport {
        client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
        timeout: Duration,
        max_body: usize,
    }

    impl std::fmt::Debug for HyperTransport {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("HyperTransport")
                .field("timeout", &self.timeout)
                .field("max_body", &self.max_body)
                .finish_non_exhaustive()
        }
    }

    /// Builds a [`HyperTransport`].
    #[derive(Debug, Clone)]
    #[must_use]
    pub struct HyperTransportBuilder {
        connect_timeout: Duration,
        timeout: Duration,
        max_body: usize,
        pool_idle_timeout: Duration,
    }

    impl Default for HyperTransportBuilder {
        fn default() -> Self {
            Self {
                connect_timeout: Duration::from_secs(5),
                timeout: Duration::from_secs(10),
                max_body: 4 * 1024 * 1024,
                pool_idle_timeout: Duration::from_secs(90),
            }
        }
    }

    impl HyperTransportBuilder {
        /// TCP + TLS connect timeout. Default 5 s.
        pub const fn connect_timeout(mut self, d: Duration) -> Self {
            self.connect_timeout = d;
            self
        }

        /// Whole-request timeout, from sending to the end of the body. Default 10 s.
        pub const fn timeout(mut self, d: Duration) -> Self {
            self.timeout = d;
            self
        }

        /// Largest response body accepted. Default 4 MiB.
        pub const fn max_response_bytes(mut self, n: usize) -> Self {
            self.max_body = n;
            self
        }

        /// How long an idle pooled connection is kept. Default 90 s.
        pub const fn pool_idle_timeout(mut self, d: Duration) -> Self {
            self.pool_idle_timeout = d;
            self
        }

        /// Builds the transport. Needs no runtime until the first request.
        ///
        /// # Errors
        /// [`BuildError::Transport`] when TLS cannot be configured.
        pub fn build(self) -> Result<HyperTransport, BuildError> {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(self.connect_timeout));
            http.set_nodelay(true);
            let https = roots()?.https_or_http().enable_http1().enable_http2().wrap_connector(http);
            let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(self.pool_idle_timeout).build(https);
            Ok(HyperTransport { client, timeout: self.timeout, max_body: self.max_body })
        }
    }

    type WantsSchemes = hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>;

    /// The trusted roots: the Mozilla set compiled in (webpki-roots), or with the `native-roots` feature the
    /// platform's store (a corporate proxy's CA included), falling back to the compiled-in set, with a warning, when
    /// the platform's store has no usable certificate.
    fn roots() -> Result<WantsSchemes, BuildError> {
        let provider = || std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        #[cfg(feature = "native-roots")]
        match hyper_rustls::HttpsConnectorBuilder::new().with_provider_and_native_roots(provider()) {
            Ok(builder) => return Ok(builder),
            Err(e) => {
                tracing::warn!(target: "clerk::http", error = %e, "the platform's root store has no usable certificate: using the compiled-in Mozilla roots");
            }
        }
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider())
            .map_err(|e| BuildError::Transport(Box::new(e)))
    }

    impl HyperTransport {
        /// A builder with the documented defaults.
        pub fn builder() -> HyperTransportBuilder {
            HyperTransportBuilder::default()
        }

        /// The transport with default settings.
        ///
        /// # Errors
        /// As [`HyperTransportBuilder::build`].
        pub fn new() -> Result<Self, BuildError> {
            HyperTransportBuilder::default().build()
        }

        async fn send_inner(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
            let (parts, body) = request.into_parts();
            let request = http::Request::from_parts(parts, Full::new(body));
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() && is_timeout(&e) {
                    TransportError::ConnectTimeout
                } else {
                    TransportError::Io(Box::new(e))
                }
            })?;
            let (parts, body) = response.into_parts();
            let collected = Limited::new(body, self.max_body).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    TransportError::BodyTooLarge { limit: self.max_body }
                } else {
                    TransportError::Io(e)
                }
            })?;
            Ok(http::Response::from_parts(parts, collected.to_bytes()))
        }
    }

    fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::TimedOut
            {
                return true;
            }
            if err.to_string().contains("timed out") {
                return true;
            }
            cur = err.source();
        }
        false
    }

    impl HttpTransport for HyperTransport {
        fn send(&self, request: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
            Box::pin(async move {
                match tokio::time::timeout(self.timeout, self.send_inner(request)).await {
                    Ok(r) => r,
                    Err(_) => Err(TransportError::Timeout),
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_millis(300));
        for retry in 1..10 {
            let d = p.backoff(retry);
            assert!(d <= Duration::from_millis(300), "{d:?}");
        }
        assert!(p.backoff(1) >= Duration::from_millis(50));
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts(), 1);
    }
}
