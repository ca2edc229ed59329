//! [`VerifierBuilder`]: every option with its default, the key source precedence of the official SDKs, and the
//! checks of a combination at build time.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::clock::{Clock, SystemClock};
use crate::error::BuildError;
use crate::jwk::{Algorithm, KeySet};
use crate::jwks::{BackendApiJwks, JwksSource, KeyCacheConfig, KeyStore, UrlJwks};
use crate::keys::{PublishableKey, parse_secret_key};
use crate::source::TokenExtractor;
use crate::transport::{HttpTransport, RetryPolicy};

use super::check::KeySettings;
use super::options::{DEFAULT_MAX_TOKEN_BYTES, IssuerCheck, Options, PendingSessions};
use super::token_cache::{TokenCache, TokenCacheConfig};
use super::{Inner, Verifier};

/// The default Backend API URL.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";

/// Where the verifier gets its keys.
#[derive(Clone)]
enum KeySourceConfig {
    None,
    Pem(String),
    Jwks(Vec<u8>),
    Custom(Arc<dyn JwksSource>),
    Url(String),
}

/// Builds a [`Verifier`]. Every option has a documented default; `build()` checks the combination.
///
/// Key source precedence, as the official SDKs: a JWT public key (networkless) or static JWKS, else a custom
/// [`JwksSource`], else the Backend API (secret key), else a JWKS URL (explicit, or from the domain or the
/// publishable key).
#[must_use]
pub struct VerifierBuilder {
    secret_key: Option<SecretString>,
    api_url: String,
    publishable_key: Option<PublishableKey>,
    domain: Option<String>,
    source: KeySourceConfig,
    transport: Option<Arc<dyn HttpTransport>>,
    retry: RetryPolicy,
    options: Options,
    issuer: IssuerCheck,
    clock: Arc<dyn Clock>,
    key_cache: KeyCacheConfig,
    token_cache: TokenCacheConfig,
    cookie_name: Option<String>,
    /// Plain `http://` to hosts other than this machine allowed (off: loopback only).
    insecure_http: bool,
    /// The environment variable the API URL came from, for errors.
    api_url_variable: Option<&'static str>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("api_url", &self.api_url)
            .field("publishable_key", &self.publishable_key)
            .field("domain", &self.domain)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            publishable_key: None,
            domain: None,
            source: KeySourceConfig::None,
            transport: None,
            retry: RetryPolicy::default(),
            options: Options {
                algorithms: [true; 3],
                skew_ms: 5000,
                authorized_parties: Vec::new(),
                audience: Vec::new(),
                issuers: Vec::new(),
                pending: PendingSessions::Reject,
                max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            },
            issuer: IssuerCheck::Off,
            clock: Arc::new(SystemClock),
            key_cache: KeyCacheConfig::default(),
            token_cache: TokenCacheConfig::default(),
            cookie_name: None,
            insecure_http: false,
            api_url_variable: None,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl VerifierBuilder {
    /// Reads `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY` and
    /// `CLERK_AUTHORIZED_PARTIES` (comma-separated); unset or empty variables are skipped.
    ///
    /// # Errors
    /// When a set variable is invalid.
    pub fn from_env() -> Result<Self, BuildError> {
        let mut b = Self::default();
        if let Some(sk) = env("CLERK_SECRET_KEY") {
            b = b.secret_key(&sk).map_err(|e| e.in_variable("CLERK_SECRET_KEY"))?;
        }
        if let Some(url) = env("CLERK_API_URL") {
            b = b.api_url(&url).map_err(|e| e.in_variable("CLERK_API_URL"))?;
            b.api_url_variable = Some("CLERK_API_URL");
        }
        if let Some(pk) = env("CLERK_PUBLISHABLE_KEY") {
            b = b.publishable_key(&pk).map_err(|e| e.in_variable("CLERK_PUBLISHABLE_KEY"))?;
        }
        if let Some(pem) = env("CLERK_JWT_KEY") {
            b = b.jwt_key(&pem).map_err(|e| e.in_variable("CLERK_JWT_KEY"))?;
        }
        if let Some(parties) = env("CLERK_AUTHORIZED_PARTIES") {
            b = b.authorized_parties(parties.split(',').map(str::trim).filter(|p| !p.is_empty()));
        }
        Ok(b)
    }

    /// The instance's secret key: keys come from `GET {api_url}/v1/jwks`.
    ///
    /// # Errors
    /// [`BuildError::InvalidSecretKey`] unless it starts `sk_test_`/`sk_live_`.
    pub fn secret_key(mut self, key: &str) -> Result<Self, BuildError> {
        self.secret_key = Some(parse_secret_key(key)?);
        Ok(self)
    }

    /// The Backend API URL. Default `https://api.clerk.com`. Plain `http://` is for loopback hosts (a local
    /// emulator) only, unless [`allow_insecure_http`](Self::allow_insecure_http): [`build`](Self::build) refuses it
    /// otherwise.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] unless it is an `http(s)://` URL.
    pub fn api_url(mut self, url: &str) -> Result<Self, BuildError> {
        check_url(url, "api_url")?;
        self.api_url = url.trim_end_matches('/').to_owned();
        self.api_url_variable = None;
        Ok(self)
    }

    /// Allows plain `http://` API and JWKS URLs to hosts other than this machine (default: refused, since the
    /// secret key and the keys would travel unprotected). For a trusted network path only, such as a sidecar proxy.
    pub const fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.insecure_http = yes;
        self
    }

    /// The publishable key: enables the suffixed session cookie, the derived issuer, and (without a secret key) the
    /// Frontend API JWKS.
    ///
    /// # Errors
    /// [`BuildError::InvalidPublishableKey`].
    pub fn publishable_key(mut self, key: &str) -> Result<Self, BuildError> {
        self.publishable_key = Some(PublishableKey::parse(key)?);
        Ok(self)
    }

    /// The Frontend API domain (e.g. `example.clerk.accounts.dev`): keys from
    /// `https://{domain}/.well-known/jwks.json` (without a secret key), issuer `https://{domain}`.
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`] when the domain is not a host name.
    pub fn domain(mut self, domain: &str) -> Result<Self, BuildError> {
        let d = domain.trim().trim_start_matches("https://").trim_end_matches('/');
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':')) {
            return Err(BuildError::InvalidUrl { field: "domain" });
        }
        self.domain = Some(d.to_owned());
        Ok(self)
    }

    /// Keys from this JWKS URL (no credentials sent). Plain `http://` is for loopback hosts only, unless
    /// [`allow_insecure_http`](Self::allow_insecure_http).
    ///
    /// # Errors
    /// [`BuildError::InvalidUrl`].
    pub fn jwks_url(mut self, url: &str) -> Result<Self, BuildError> {
        check_url(url, "jwks_url")?;
        self.source = KeySourceConfig::Url(url.to_owned());
        Ok(self)
    }

    /// Networkless verification with a PEM public key (`CLERK_JWT_KEY`), of any RSA size from 2048 to 8192 bits.
    ///
    /// # Errors
    /// [`BuildError::InvalidKey`] when it does not parse.
    pub fn jwt_key(mut self, pem: &str) -> Result<Self, BuildError> {
        KeySet::from_pem(pem).map_err(BuildError::InvalidKey)?;
        self.source = KeySourceConfig::Pem(pem.to_owned());
        Ok(self)
    }

    /// Networkless verification with a static JWKS document.
    ///
    /// # Errors
    /// [`BuildError::InvalidKey`] when it holds no usable key.
    pub fn jwks_json(mut self, json: impl Into<Vec<u8>>) -> Result<Self, BuildError> {
        let json = json.into();
        KeySet::from_jwks_json(&json).map_err(BuildError::InvalidKey)?;
        self.source = KeySourceConfig::Jwks(json);
        Ok(self)
    }

    /// Keys from a custom source (e.g. a `clerk-api` client).
    pub fn key_source(mut self, source: Arc<dyn JwksSource>) -> Self {
        self.source = KeySourceConfig::Custom(source);
        self
    }

    /// The HTTP transport for key fetches. Default: [`HyperTransport`](crate::HyperTransport) (feature `hyper`).
    pub fn transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Retries of key fetches. Default: 3 attempts, I/O errors and 5xx only.
    pub const fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The origins allowed in `azp`. Default: none configured, `azp` not checked. When set, a token without `azp`
    /// or with another one is refused. Set this when tokens may come from cookies.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.authorized_parties = parties.into_iter().map(Into::into).collect();
        self
    }

    /// Accepted audiences; checked only when the token has an `aud`. Default: none.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// The strict issuer check. Default [`IssuerCheck::Off`], as the official SDKs.
    pub fn issuer(mut self, check: IssuerCheck) -> Self {
        self.issuer = check;
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`. Default 5 s; zero is honoured.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.options.skew_ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// What to do with pending sessions. Default [`PendingSessions::Reject`].
    pub const fn pending_sessions(mut self, policy: PendingSessions) -> Self {
        self.options.pending = policy;
        self
    }

    /// The accepted algorithms. Default RS256, RS384, RS512.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.options.algorithms = [false; 3];
        for a in algs {
            self.options.algorithms[a as usize] = true;
        }
        self
    }

    /// The longest token accepted, in bytes. Default [`DEFAULT_MAX_TOKEN_BYTES`] (8 KiB).
    pub const fn max_token_bytes(mut self, n: usize) -> Self {
        self.options.max_token_bytes = n;
        self
    }

    /// The clock. Default: the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The key cache policy. Default [`KeyCacheConfig::default`].
    pub const fn key_cache(mut self, config: KeyCacheConfig) -> Self {
        self.key_cache = config;
        self
    }

    /// The verified-token cache. Default 4096 entries, a token cached the second time it passes verification.
    pub const fn token_cache(mut self, config: TokenCacheConfig) -> Self {
        self.token_cache = config;
        self
    }

    /// The session cookie's name for [`Verifier::verify_request`]. Default `__session`.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Some(name.into());
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`BuildError::NoKeySource`] without any key source; [`BuildError::InsecureUrl`] for a plain `http://` URL to
    /// another machine; [`BuildError::InvalidOption`] for an unusable combination (e.g. the derived issuer check without a publishable key or domain, or no algorithm).
    pub fn build(self) -> Result<Verifier, BuildError> {
        if !self.insecure_http {
            if self.secret_key.is_some() && crate::keys::is_insecure_url(&self.api_url) {
                return Err(BuildError::InsecureUrl { field: "api_url", variable: self.api_url_variable });
            }
            if let KeySourceConfig::Url(url) = &self.source
                && crate::keys::is_insecure_url(url)
            {
                return Err(BuildError::InsecureUrl { field: "jwks_url", variable: None });
            }
        }
        self.key_cache.check()?;
        let mut options = self.options;
        if !options.algorithms.iter().any(|a| *a) {
            return Err(BuildError::InvalidOption { field: "algorithms", why: "at least one algorithm is required" });
        }
        if options.skew_ms < 0 {
            return Err(BuildError::InvalidOption { field: "clock_skew", why: "out of range" });
        }
        if options.max_token_bytes == 0 {
            return Err(BuildError::InvalidOption { field: "max_token_bytes", why: "must be positive" });
        }
        options.issuers = match self.issuer {
            IssuerCheck::Off => Vec::new(),
            IssuerCheck::OneOf(list) if list.is_empty() => {
                return Err(BuildError::InvalidOption { field: "issuer", why: "empty issuer list" });
            }
            IssuerCheck::OneOf(list) => list,
            IssuerCheck::Derived => {
                let mut list = Vec::new();
                if let Some(pk) = &self.publishable_key {
                    list.push(pk.frontend_api_url());
                }
                if let Some(d) = &self.domain {
                    list.push(format!("https://{d}"));
                }
                if list.is_empty() {
                    return Err(BuildError::InvalidOption {
                        field: "issuer",
                        why: "the derived issuer needs a publishable key or a domain",
                    });
                }
                list
            }
        };
        let transport = |t: &Option<Arc<dyn HttpTransport>>| -> Result<Arc<dyn HttpTransport>, BuildError> {
            match t {
                Some(t) => Ok(Arc::clone(t)),
                None => default_transport(),
            }
        };
        if options.authorized_parties.is_empty() {
            // Cookies are always read (after the header): a token replayed from another site's request would pass.
            tracing::warn!(target: "clerk::config", "session tokens are accepted from cookies without authorized parties, so a token's `azp` is not checked against your origins (cross-site request forgery): set CLERK_AUTHORIZED_PARTIES (or .authorized_parties(..)) to your app's origins");
        }
        let key_settings = match &self.source {
            KeySourceConfig::Pem(_) => KeySettings::Local("CLERK_JWT_KEY (jwt_key)"),
            KeySourceConfig::Jwks(_) => KeySettings::Local("jwks_json"),
            KeySourceConfig::Custom(_) => KeySettings::Remote("the custom key source (key_source)"),
            KeySourceConfig::Url(_) => KeySettings::Remote("jwks_url"),
            KeySourceConfig::None if self.secret_key.is_some() => {
                KeySettings::BackendApi { api_url_variable: self.api_url_variable }
            }
            KeySourceConfig::None if self.domain.is_some() => KeySettings::Remote("domain"),
            KeySourceConfig::None => KeySettings::Remote("CLERK_PUBLISHABLE_KEY (publishable_key)"),
        };
        let keys = match self.source {
            KeySourceConfig::Pem(pem) => {
                KeyStore::new_static(KeySet::from_pem(&pem).map_err(BuildError::InvalidKey)?, Arc::clone(&self.clock))
            }
            KeySourceConfig::Jwks(json) => KeyStore::new_static(
                KeySet::from_jwks_json(&json).map_err(BuildError::InvalidKey)?,
                Arc::clone(&self.clock),
            ),
            KeySourceConfig::Custom(src) => KeyStore::new_remote(src, self.key_cache, Arc::clone(&self.clock)),
            KeySourceConfig::Url(url) => KeyStore::new_remote(
                Arc::new(UrlJwks::new(url, transport(&self.transport)?, self.retry)),
                self.key_cache,
                Arc::clone(&self.clock),
            ),
            KeySourceConfig::None => {
                let source: Arc<dyn JwksSource> = if let Some(sk) = self.secret_key {
                    Arc::new(BackendApiJwks::new(&self.api_url, sk, transport(&self.transport)?, self.retry))
                } else if let Some(d) = &self.domain {
                    Arc::new(UrlJwks::new(
                        format!("https://{d}/.well-known/jwks.json"),
                        transport(&self.transport)?,
                        self.retry,
                    ))
                } else if let Some(pk) = &self.publishable_key {
                    Arc::new(UrlJwks::new(pk.jwks_url(), transport(&self.transport)?, self.retry))
                } else {
                    return Err(BuildError::NoKeySource);
                };
                KeyStore::new_remote(source, self.key_cache, Arc::clone(&self.clock))
            }
        };
        let mut extractor = TokenExtractor::new();
        if let Some(name) = self.cookie_name {
            extractor = extractor.with_cookie_name(name)?;
        }
        if let Some(pk) = &self.publishable_key {
            extractor = extractor.with_publishable_key(pk);
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys: Arc::new(keys),
                options,
                clock: self.clock,
                cache: TokenCache::new(self.token_cache),
                extractor,
                key_settings,
            }),
        })
    }
}

fn check_url(url: &str, field: &'static str) -> Result<(), BuildError> {
    let ok = url
        .parse::<http::Uri>()
        .ok()
        .is_some_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty()));
    if ok { Ok(()) } else { Err(BuildError::InvalidUrl { field }) }
}

#[cfg(feature = "hyper")]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Ok(Arc::new(crate::transport::HyperTransport::new()?))
}

#[cfg(not(feature = "hyper"))]
fn default_transport() -> Result<Arc<dyn HttpTransport>, BuildError> {
    Err(BuildError::InvalidOption {
        field: "transport",
        why: "no transport configured and the `hyper` feature (the default transport) is off",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_rejects_bad_config() {
        assert!(matches!(Verifier::builder().build(), Err(BuildError::NoKeySource)));
        assert!(Verifier::builder().secret_key("pk_test_x").is_err());
        assert!(Verifier::builder().api_url("ftp://x").is_err());
        assert!(Verifier::builder().jwks_url("not a url").is_err());
        assert!(Verifier::builder().domain("evil.com/path").is_err());
        let b = Verifier::builder().secret_key("sk_test_abc").unwrap();
        assert!(b.issuer(IssuerCheck::Derived).build().is_err());
        let b = Verifier::builder().secret_key("sk_test_abc").unwrap();
        assert!(b.algorithms([]).build().is_err());
        let dbg = format!("{:?}", Verifier::builder().secret_key("sk_test_abc").unwrap());
        assert!(!dbg.contains("sk_test_abc"), "{dbg}");
    }

    /// Key-cache settings that would fetch the key set on every request are refused at build time.
    #[test]
    fn key_cache_settings_that_loop_are_refused() {
        use std::time::Duration;
        let with =
            |cache: KeyCacheConfig| Verifier::builder().secret_key("sk_test_abc").unwrap().key_cache(cache).build();
        let s = Duration::from_secs;
        for (cache, field) in [
            (KeyCacheConfig::default().ttl(Duration::ZERO), "key_cache.ttl"),
            (KeyCacheConfig::default().ttl(s(60)).refresh_ahead(s(60)), "key_cache.refresh_ahead"),
            (KeyCacheConfig::default().ttl(s(30)).refresh_ahead(s(60)), "key_cache.refresh_ahead"),
        ] {
            let err = with(cache).unwrap_err();
            assert!(matches!(err, BuildError::InvalidOption { field: f, .. } if f == field), "{cache:?}: {err}");
        }
        with(KeyCacheConfig::default().ttl(s(60)).refresh_ahead(s(59))).unwrap();
        with(KeyCacheConfig::default().ttl(s(60)).refresh_ahead(Duration::ZERO)).unwrap();
        with(KeyCacheConfig::default().min_refresh_interval(Duration::ZERO)).unwrap();
    }

    /// Plain `http://` carries the secret key and the keys in clear: refused for other machines unless allowed by
    /// name, accepted for this one (a local emulator).
    #[test]
    fn plain_http_is_for_loopback_hosts_only() {
        let with_api = |url: &str| Verifier::builder().secret_key("sk_test_abc").unwrap().api_url(url).unwrap();
        let with_jwks = |url: &str| Verifier::builder().jwks_url(url).unwrap();
        for url in ["http://api.clerk.com", "http://10.0.0.8:8080", "http://[2001:db8::1]", "http://localhost.evil.com"]
        {
            let err = with_api(url).build().unwrap_err();
            assert!(matches!(err, BuildError::InsecureUrl { field: "api_url", variable: None }), "{url}: {err}");
            assert!(err.to_string().contains("https://"), "{err}");
            let err = with_jwks(url).build().unwrap_err();
            assert!(matches!(err, BuildError::InsecureUrl { field: "jwks_url", .. }), "{url}: {err}");
            with_api(url).allow_insecure_http(true).build().unwrap();
            with_jwks(url).allow_insecure_http(true).build().unwrap();
        }
        for url in
            ["http://127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:3000", "http://localhost:4000", "https://x.io"]
        {
            with_api(url).build().unwrap();
            with_jwks(url).build().unwrap();
        }
    }
}
