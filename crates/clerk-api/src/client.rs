//! The client: configuration, sending with retries, decoding.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_core::BuildError;
use clerk_core::{HttpTransport, RetryPolicy};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DecodeError, Error};
use crate::request::Req;

/// The API version this crate is generated from, sent as `Clerk-API-Version` unless overridden.
pub const API_VERSION: &str = "2026-05-12";

/// The default Backend API URL.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";

/// The client's default retry policy: 3 attempts, backoff from 250 ms doubling to at most 5 s, at most 30 s in all;
/// idempotent methods only (GET, PUT, DELETE) unless a request or the policy opts POST and PATCH in.
fn default_retry() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(250), Duration::from_secs(5))
}

/// Resolved client settings.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) secret_key: SecretString,
    pub(crate) api_url: String,
    pub(crate) api_version: String,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("secret_key", &"[redacted]")
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .finish()
    }
}

struct Inner {
    config: Config,
    transport: Arc<dyn HttpTransport>,
}

/// A Clerk Backend API client. Cheap to clone; clones share the connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), clerk_api::Error> {
/// let client = clerk_api::Client::from_env()?.build()?;
/// let users = client.users().list().email_address(vec!["ada@example.com".into()]).limit(50).send().await?;
/// # let _ = users; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).field("transport", &self.inner.transport).finish()
    }
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    secret_key: Option<SecretString>,
    api_url: String,
    api_version: String,
    user_agent: String,
    retry: RetryPolicy,
    transport: Option<Arc<dyn HttpTransport>>,
    /// Plain `http://` to hosts other than this machine allowed (off: loopback only).
    insecure_http: bool,
    /// The environment variable the API URL came from, for errors.
    api_url_variable: Option<&'static str>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            api_version: API_VERSION.to_owned(),
            user_agent: format!("clerk-rs/{} (clerk-api; rust)", env!("CARGO_PKG_VERSION")),
            retry: default_retry(),
            transport: None,
            insecure_http: false,
            api_url_variable: None,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl ClientBuilder {
    /// The instance's secret key (`sk_test_…`/`sk_live_…`). Required.
    ///
    /// # Errors
    /// [`BuildError::InvalidSecretKey`] unless it looks like a Clerk secret key.
    pub fn secret_key(mut self, key: &str) -> Result<Self, BuildError> {
        self.secret_key = Some(clerk_core::parse_secret_key(key)?);
        Ok(self)
    }

    /// The API URL. Default `https://api.clerk.com` (`/v1` is appended to paths). Plain `http://` is for loopback
    /// hosts (a local emulator) only, unless [`allow_insecure_http`](Self::allow_insecure_http): the secret key is
    /// sent with every request.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] unless it is an `http(s)://` URL.
    pub fn api_url(mut self, url: &str) -> Result<Self, BuildError> {
        let trimmed = url.trim().trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
        let ok = trimmed.parse::<http::Uri>().ok().is_some_and(|u| {
            matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
        });
        if !ok {
            return Err(BuildError::InvalidUrl { field: "api_url" });
        }
        self.api_url = trimmed.to_owned();
        self.api_url_variable = None;
        Ok(self)
    }

    /// Allows a plain `http://` API URL to a host other than this machine (default: refused, since the secret key
    /// would travel unprotected). For a trusted network path only, such as a sidecar proxy.
    pub const fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.insecure_http = yes;
        self
    }

    /// The `Clerk-API-Version` sent. Default [`API_VERSION`]. Pin `2021-02-05` to keep the older behaviour (e.g.
    /// metadata accepted by `PATCH /users/{id}`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The `User-Agent` sent. Default `clerk-rs/<version> (clerk-api; rust)`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The retry policy. Default: 3 attempts, backoff from 250 ms doubling to at most 5 s, at most 30 s in all,
    /// idempotent methods only ([`RetryPolicy`]).
    pub const fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The transport. Default: clerk-core's [`HyperTransport`](clerk_core::HyperTransport) (pooled, keep-alive,
    /// HTTP/2 where offered, rustls; connect timeout 5 s, request timeout 10 s).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Any `tower::Service` as the transport, so you can add your own layers (tracing, metrics, rate limits).
    pub fn tower_service<S>(self, service: S) -> Self
    where
        S: tower::Service<http::Request<Bytes>, Response = http::Response<Bytes>> + Clone + Send + Sync + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        S::Future: Send + 'static,
    {
        self.transport(Arc::new(crate::tower_transport::TowerTransport::new(service)))
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`BuildError::InvalidOption`] without a secret key; [`BuildError::InsecureUrl`] for a plain `http://` URL to
    /// another machine; [`BuildError::Transport`] when the default transport cannot be built.
    pub fn build(self) -> Result<Client, BuildError> {
        if !self.insecure_http && clerk_core::is_insecure_url(&self.api_url) {
            return Err(BuildError::InsecureUrl { field: "api_url", variable: self.api_url_variable });
        }
        let secret_key = self
            .secret_key
            .ok_or(BuildError::InvalidOption { field: "secret_key", why: "a secret key is required" })?;
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport()?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config: Config {
                    secret_key,
                    api_url: self.api_url,
                    api_version: self.api_version,
                    user_agent: self.user_agent,
                    retry: self.retry,
                },
                transport,
            }),
        })
    }
}

/// `CLERK_API_VERSION` as Clerk's SDKs read it: the Backend API's URL path version. Only `v1` exists.
fn check_path_version(v: &str) -> Result<(), BuildError> {
    if v == "v1" {
        return Ok(());
    }
    let why = if v.len() == 10 && v.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        "in Clerk's SDKs it is the URL path version (v1); for the Clerk-API-Version date header, set CLERK_API_DATE_VERSION"
    } else {
        "it is the Backend API's URL path version, and only v1 exists"
    };
    Err(BuildError::InvalidOption { field: "CLERK_API_VERSION", why })
}

#[cfg(feature = "hyper")]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Ok(Arc::new(clerk_core::HyperTransport::new()?))
}

#[cfg(not(feature = "hyper"))]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Err(BuildError::InvalidOption {
        field: "transport",
        why: "no transport configured and the `hyper` feature (the default transport) is off",
    })
}

impl Client {
    /// A builder with the documented defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A builder from the environment, with the names and meanings of Clerk's official SDKs: `CLERK_SECRET_KEY`,
    /// `CLERK_API_URL`, and `CLERK_API_VERSION`, the URL path version (`v1`, the only one there is). The
    /// `Clerk-API-Version` date header, which Clerk's SDKs pin in code, can be set with `CLERK_API_DATE_VERSION`
    /// (e.g. `2021-02-05`; default [`API_VERSION`]).
    ///
    /// # Errors
    /// When a set variable is invalid; a `CLERK_API_VERSION` other than `v1` (a date there is refused with a pointer
    /// to `CLERK_API_DATE_VERSION`).
    pub fn from_env() -> Result<ClientBuilder, BuildError> {
        let mut b = ClientBuilder::default();
        if let Some(k) = env("CLERK_SECRET_KEY") {
            b = b.secret_key(&k).map_err(|e| e.in_variable("CLERK_SECRET_KEY"))?;
        }
        if let Some(u) = env("CLERK_API_URL") {
            b = b.api_url(&u).map_err(|e| e.in_variable("CLERK_API_URL"))?;
            b.api_url_variable = Some("CLERK_API_URL");
        }
        if let Some(v) = env("CLERK_API_VERSION") {
            check_path_version(&v)?;
        }
        if let Some(v) = env("CLERK_API_DATE_VERSION") {
            b = b.api_version(v);
        }
        Ok(b)
    }

    /// The API URL (without `/v1`).
    #[must_use]
    pub fn api_url(&self) -> &str {
        &self.inner.config.api_url
    }

    pub(crate) fn to_http(&self, req: &Req) -> Result<http::Request<Bytes>, Error> {
        req.to_http(&self.inner.config)
    }

    /// Sends with the retry policy; returns the 2xx response or the error.
    pub(crate) async fn execute(&self, req: &Req) -> Result<http::Response<Bytes>, Error> {
        let retry = &self.inner.config.retry;
        let may_retry = req.is_idempotent() || req.options.retry_non_idempotent || retry.retries_non_idempotent();
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let http_req = self.to_http(req)?;
            let last = !may_retry || attempt >= retry.max_attempts();
            let outcome = self.inner.transport.send(http_req).await;
            let (wait, error) = match outcome {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let err = ApiError::from_response(status, resp.headers(), resp.body());
                    let retryable = status == 429 || status >= 500;
                    if !retryable || last {
                        return Err(Error::Api(err));
                    }
                    (err.retry_after().unwrap_or_else(|| retry.backoff(attempt)), Error::Api(err))
                }
                Err(e) => {
                    if !e.is_retryable() || last {
                        return Err(Error::Transport(e));
                    }
                    (retry.backoff(attempt), Error::Transport(e))
                }
            };
            if started.elapsed() + wait > retry.max_elapsed() {
                return Err(error);
            }
            tracing::debug!(target: "clerk::api", operation = req.operation, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(&self, req: &Req) -> Result<T, Error> {
        let resp = self.execute(req).await?;
        decode(resp.status().as_u16(), resp.body())
    }

    pub(crate) async fn send_empty(&self, req: &Req) -> Result<(), Error> {
        self.execute(req).await.map(|_| ())
    }

    pub(crate) async fn send_text(&self, req: &Req) -> Result<String, Error> {
        let resp = self.execute(req).await?;
        Ok(String::from_utf8_lossy(resp.body()).into_owned())
    }
}

pub(crate) fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, Error> {
    // The fast path is plain serde_json; only a failure pays for a second pass that tracks the JSON path
    // (measured: path tracking costs ~1.8× the decode of a 2 KB user).
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(_) => {
            let de = &mut serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(de) {
                Ok(v) => Ok(v),
                Err(e) => Err(Error::Decode(DecodeError::new(status, &e, body))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerk_api_version_is_the_path_version() {
        check_path_version("v1").unwrap();
        let date = check_path_version("2025-04-10").unwrap_err().to_string();
        assert!(date.contains("CLERK_API_VERSION") && date.contains("CLERK_API_DATE_VERSION"), "{date}");
        let other = check_path_version("v2").unwrap_err().to_string();
        assert!(other.contains("only v1"), "{other}");
    }
}
