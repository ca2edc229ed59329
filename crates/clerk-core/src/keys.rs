//! Clerk API keys: the publishable key (public, names the Frontend API host) and the secret key (private).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

use crate::error::BuildError;

/// Whether a key belongs to a development (`test`) or production (`live`) instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceType {
    /// A development instance (`pk_test_…`, `sk_test_…`).
    Development,
    /// A production instance (`pk_live_…`, `sk_live_…`).
    Production,
}

/// A parsed publishable key: `pk_test_` or `pk_live_` followed by the base64 of the Frontend API host and `$`.
///
/// ```
/// use clerk_core::PublishableKey;
/// let pk = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap();
/// assert_eq!(pk.frontend_api(), "clerk.example.com");
/// assert_eq!(pk.jwks_url(), "https://clerk.example.com/.well-known/jwks.json");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PublishableKey {
    key: String,
    frontend_api: String,
    instance_type: InstanceType,
}

impl fmt::Debug for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishableKey")
            .field("frontend_api", &self.frontend_api)
            .field("instance_type", &self.instance_type)
            .finish_non_exhaustive()
    }
}

impl PublishableKey {
    /// Parses a publishable key.
    ///
    /// # Errors
    /// [`BuildError::InvalidPublishableKey`] when the prefix is wrong, the rest is not base64, or it does not decode
    /// to a host name followed by `$`.
    pub fn parse(key: &str) -> Result<Self, BuildError> {
        let key = key.trim();
        let (instance_type, rest) = if let Some(rest) = key.strip_prefix("pk_test_") {
            (InstanceType::Development, rest)
        } else if let Some(rest) = key.strip_prefix("pk_live_") {
            (InstanceType::Production, rest)
        } else {
            return Err(BuildError::InvalidPublishableKey);
        };
        let decoded = STANDARD
            .decode(rest)
            .or_else(|_| STANDARD_NO_PAD.decode(rest))
            .map_err(|_| BuildError::InvalidPublishableKey)?;
        let decoded = String::from_utf8(decoded).map_err(|_| BuildError::InvalidPublishableKey)?;
        let host = decoded.strip_suffix('$').ok_or(BuildError::InvalidPublishableKey)?;
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':')) {
            return Err(BuildError::InvalidPublishableKey);
        }
        Ok(Self { key: key.to_owned(), frontend_api: host.to_owned(), instance_type })
    }

    /// The key as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The Frontend API host, e.g. `clerk.example.com` or `happy-cat-12.clerk.accounts.dev`.
    #[must_use]
    pub fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    /// Development or production.
    #[must_use]
    pub const fn instance_type(&self) -> InstanceType {
        self.instance_type
    }

    /// The Frontend API URL, `https://{frontend_api}`: what Clerk puts in a session token's `iss`. A loopback host
    /// (`localhost`, `127.x.x.x`, `[::1]`, as a local emulator has) gets `http://`.
    #[must_use]
    pub fn frontend_api_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.frontend_api)
    }

    /// The Frontend API JWKS URL, `{frontend_api_url}/.well-known/jwks.json`.
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.frontend_api_url())
    }

    /// Whether the Frontend API host is a loopback address (a local emulator).
    #[must_use]
    pub fn is_loopback(&self) -> bool {
        let host = self.frontend_api.rsplit_once(':').map_or(self.frontend_api.as_str(), |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) { h } else { self.frontend_api.as_str() }
        });
        is_loopback_host(host)
    }

    fn scheme(&self) -> &'static str {
        if self.is_loopback() { "http" } else { "https" }
    }

    /// The suffix Clerk appends to its cookies for this instance: the first 8 characters of
    /// base64url(SHA-1(publishable key)). The session cookie is then `__session_<suffix>`.
    #[must_use]
    pub fn cookie_suffix(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, self.key.as_bytes());
        let mut encoded = URL_SAFE_NO_PAD.encode(digest.as_ref());
        encoded.truncate(8);
        encoded
    }
}

impl std::str::FromStr for PublishableKey {
    type Err = BuildError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks that a secret key looks like a Clerk secret key and wraps it so it never prints.
///
/// # Errors
/// [`BuildError::InvalidSecretKey`] unless the key starts with `sk_test_` or `sk_live_` and has more after it.
pub fn parse_secret_key(key: &str) -> Result<SecretString, BuildError> {
    let key = key.trim();
    let rest = key.strip_prefix("sk_test_").or_else(|| key.strip_prefix("sk_live_"));
    match rest {
        Some(r) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_graphic()) => Ok(SecretString::from(key.to_owned())),
        _ => Err(BuildError::InvalidSecretKey),
    }
}

/// Development or production, read from a secret key's prefix.
#[must_use]
pub fn secret_key_instance_type(key: &SecretString) -> Option<InstanceType> {
    let k = key.expose_secret();
    if k.starts_with("sk_test_") {
        Some(InstanceType::Development)
    } else if k.starts_with("sk_live_") {
        Some(InstanceType::Production)
    } else {
        None
    }
}

/// Whether a URL's host (without the port; an IPv6 address with or without its brackets) is this machine:
/// `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` sends requests in clear to another machine: `http://` to a host that is not loopback.
#[must_use]
pub fn is_insecure_url(url: &str) -> bool {
    url.parse::<http::Uri>()
        .ok()
        .is_some_and(|u| u.scheme_str() == Some("http") && !u.host().is_some_and(is_loopback_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_publishable_keys() {
        let pk = PublishableKey::parse("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap();
        assert_eq!(pk.frontend_api(), "clerk.example.com");
        assert_eq!(pk.instance_type(), InstanceType::Production);
        assert_eq!(pk.frontend_api_url(), "https://clerk.example.com");
        // "happy-cat-12.clerk.accounts.dev$" with padding.
        let enc = STANDARD.encode("happy-cat-12.clerk.accounts.dev$");
        let pk = PublishableKey::parse(&format!("pk_test_{enc}")).unwrap();
        assert_eq!(pk.frontend_api(), "happy-cat-12.clerk.accounts.dev");
        assert_eq!(pk.instance_type(), InstanceType::Development);
    }

    #[test]
    fn loopback_hosts_use_http() {
        for (host, url) in [
            ("127.0.0.1:4000", "http://127.0.0.1:4000"),
            ("localhost:3000", "http://localhost:3000"),
            ("localhost", "http://localhost"),
            ("clerk.example.com", "https://clerk.example.com"),
            ("127.0.0.1.evil.com", "https://127.0.0.1.evil.com"),
        ] {
            let pk = PublishableKey::parse(&format!("pk_test_{}", STANDARD.encode(format!("{host}$")))).unwrap();
            assert_eq!(pk.frontend_api_url(), url, "{host}");
        }
    }

    #[test]
    fn rejects_bad_publishable_keys() {
        for bad in [
            "",
            "pk_test_",
            "sk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
            "pk_test_!!!",
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20", // no `$`
            "pk_prod_Y2xlcmsuZXhhbXBsZS5jb20k",
        ] {
            assert!(PublishableKey::parse(bad).is_err(), "{bad}");
        }
        // A `$` but a host with a slash (path injection into the JWKS URL).
        let enc = STANDARD.encode("evil.com/x$");
        assert!(PublishableKey::parse(&format!("pk_test_{enc}")).is_err());
    }

    #[test]
    fn cookie_suffix_is_first_8_of_base64url_sha1() {
        let pk = PublishableKey::parse("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap();
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            b"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
        );
        let full = URL_SAFE_NO_PAD.encode(digest.as_ref());
        assert_eq!(pk.cookie_suffix(), &full[..8]);
        assert_eq!(pk.cookie_suffix().len(), 8);
    }

    #[test]
    fn debug_is_safe_and_secret_key_checked() {
        let pk = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap();
        assert!(!format!("{pk:?}").contains("pk_test"));
        let sk = parse_secret_key("sk_test_abc123").unwrap();
        assert!(!format!("{sk:?}").contains("abc123"));
        assert_eq!(secret_key_instance_type(&sk), Some(InstanceType::Development));
        assert!(parse_secret_key("sk_test_").is_err());
        assert!(parse_secret_key("pk_test_abc").is_err());
        assert!(parse_secret_key("sk_live_a b").is_err());
    }
}
