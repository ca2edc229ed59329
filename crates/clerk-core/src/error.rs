//! Errors and the Clerk reason codes they map to.
//!
//! Every verification failure is a [`VerifyError`]. Its [`reason()`](VerifyError::reason) returns the reason string
//! Clerk's official SDKs use (`token-expired`, `token-invalid-signature`, …), byte for byte, so that logs, metrics and
//! tests port between SDKs. `Display` is a short human sentence; neither ever contains the token or a key.

use std::fmt;

/// The Clerk reason code of a verification failure.
///
/// The string forms ([`as_str`](Self::as_str)) are byte-identical to the reason codes of Clerk's official backend SDKs,
/// plus `token-invalid-issuer`, `token-type-mismatch` and `session-token-pending` for the checks this SDK adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// `token-expired`: `exp` is in the past (beyond the clock skew).
    TokenExpired,
    /// `token-invalid`: not a well-formed session token (size, encoding, JSON shape, claim types).
    TokenInvalid,
    /// `token-invalid-algorithm`: the header `alg` is not allowed, or disagrees with the key's algorithm.
    TokenInvalidAlgorithm,
    /// `token-invalid-authorized-parties`: `azp` missing or not among the configured authorized parties.
    TokenInvalidAuthorizedParties,
    /// `token-invalid-signature`: the signature does not verify with the instance key.
    TokenInvalidSignature,
    /// `token-not-active-yet`: `nbf` is in the future (beyond the clock skew).
    TokenNotActiveYet,
    /// `token-iat-in-the-future`: `iat` is in the future (beyond the clock skew).
    TokenIatInTheFuture,
    /// `token-verification-failed`: a claim check failed that has no more specific code (e.g. the audience).
    TokenVerificationFailed,
    /// `token-invalid-issuer`: the opt-in strict issuer check failed.
    TokenInvalidIssuer,
    /// `token-type-mismatch`: a valid-looking token of another kind was given: a machine token (API key, M2M token,
    /// OAuth access token) where a session token is required, a session token where a machine token is required, or
    /// a kind the endpoint does not accept.
    TokenTypeMismatch,
    /// `session-token-pending`: the session is `pending` and the verifier does not accept pending sessions.
    SessionTokenPending,
    /// `secret-key-invalid`: the Backend API refused the secret key while fetching keys.
    SecretKeyInvalid,
    /// `jwk-local-missing`: networkless mode without a usable local key.
    JwkLocalMissing,
    /// `jwk-remote-failed-to-load`: the key set could not be fetched or held no usable key.
    JwkRemoteFailedToLoad,
    /// `jwk-failed-to-resolve`: no key could be resolved for the token.
    JwkFailedToResolve,
    /// `jwk-kid-mismatch`: the token's `kid` is not in the key set, even after a refresh.
    JwkKidMismatch,
}

impl Reason {
    /// The reason code as Clerk's official SDKs spell it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenExpired => "token-expired",
            Self::TokenInvalid => "token-invalid",
            Self::TokenInvalidAlgorithm => "token-invalid-algorithm",
            Self::TokenInvalidAuthorizedParties => "token-invalid-authorized-parties",
            Self::TokenInvalidSignature => "token-invalid-signature",
            Self::TokenNotActiveYet => "token-not-active-yet",
            Self::TokenIatInTheFuture => "token-iat-in-the-future",
            Self::TokenVerificationFailed => "token-verification-failed",
            Self::TokenInvalidIssuer => "token-invalid-issuer",
            Self::TokenTypeMismatch => "token-type-mismatch",
            Self::SessionTokenPending => "session-token-pending",
            Self::SecretKeyInvalid => "secret-key-invalid",
            Self::JwkLocalMissing => "jwk-local-missing",
            Self::JwkRemoteFailedToLoad => "jwk-remote-failed-to-load",
            Self::JwkFailedToResolve => "jwk-failed-to-resolve",
            Self::JwkKidMismatch => "jwk-kid-mismatch",
        }
    }

    /// Whether this failure is about the keys (the instance or the network), not about the token itself.
    ///
    /// Middleware uses this to answer `503` during an outage instead of logging users out with a `401`.
    #[must_use]
    pub const fn is_key_unavailable(self) -> bool {
        matches!(self, Self::SecretKeyInvalid | Self::JwkRemoteFailedToLoad | Self::JwkLocalMissing)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a session token was refused.
///
/// Branch on [`reason()`](Self::reason). The error never contains the token, a key or a claim value supplied by the
/// caller, so it is safe to log and to return to code that logs.
#[derive(Debug, thiserror::Error)]
#[error("{}", message(self.reason, self.detail))]
pub struct VerifyError {
    reason: Reason,
    detail: Detail,
    #[source]
    source: Option<std::sync::Arc<KeyError>>,
}

/// A fixed, static refinement of a reason, for humans. Never contains input data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    None,
    Static(&'static str),
}

fn message(reason: Reason, detail: Detail) -> String {
    let base = match reason {
        Reason::TokenExpired => "session token has expired",
        Reason::TokenInvalid => "session token is malformed",
        Reason::TokenInvalidAlgorithm => "session token algorithm is not allowed",
        Reason::TokenInvalidAuthorizedParties => "session token authorized party is not allowed",
        Reason::TokenInvalidSignature => "session token signature is invalid",
        Reason::TokenNotActiveYet => "session token is not active yet",
        Reason::TokenIatInTheFuture => "session token was issued in the future",
        Reason::TokenVerificationFailed => "session token claim verification failed",
        Reason::TokenInvalidIssuer => "session token issuer is not the expected one",
        Reason::TokenTypeMismatch => "token is not of the expected type",
        Reason::SessionTokenPending => "session is pending",
        Reason::SecretKeyInvalid => "secret key was refused by the Clerk Backend API",
        Reason::JwkLocalMissing => "no local verification key is configured",
        Reason::JwkRemoteFailedToLoad => "instance keys could not be loaded",
        Reason::JwkFailedToResolve => "no key could be resolved for the token",
        Reason::JwkKidMismatch => "token key id is not in the instance key set",
    };
    match detail {
        Detail::None => base.to_owned(),
        Detail::Static(d) => format!("{base}: {d}"),
    }
}

impl VerifyError {
    #[inline]
    pub(crate) const fn new(reason: Reason) -> Self {
        Self { reason, detail: Detail::None, source: None }
    }

    #[inline]
    pub(crate) const fn with_detail(reason: Reason, detail: &'static str) -> Self {
        Self { reason, detail: Detail::Static(detail), source: None }
    }

    pub(crate) const fn with_source(reason: Reason, err: std::sync::Arc<KeyError>) -> Self {
        Self { reason, detail: Detail::None, source: Some(err) }
    }

    /// The Clerk reason code.
    #[must_use]
    pub const fn reason(&self) -> Reason {
        self.reason
    }

    /// Shorthand for `self.reason().is_key_unavailable()`: the keys could not be had, the token was not judged.
    #[must_use]
    pub const fn is_key_unavailable(&self) -> bool {
        self.reason.is_key_unavailable()
    }
}

/// Why a key set could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The Backend API refused the secret key (`401`/`403`, or Clerk's `clerk_key_invalid`).
    #[error("the Clerk Backend API refused the secret key (status {status})")]
    SecretKeyInvalid {
        /// The HTTP status code of the answer.
        status: u16,
    },
    /// The key endpoint answered with a status other than 2xx.
    #[error("the key endpoint answered with status {status}")]
    Status {
        /// The HTTP status code of the answer.
        status: u16,
    },
    /// The request for keys failed before an answer arrived.
    #[error("the key endpoint could not be reached")]
    Transport(#[source] TransportError),
    /// The key set is not valid JSON of the JWKS shape.
    #[error("the key set is not a valid JSON Web Key Set")]
    MalformedJwks(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The key set parsed but holds no key usable for RS256/RS384/RS512 verification.
    #[error("the key set holds no usable RSA signing key")]
    NoUsableKey,
    /// A PEM public key could not be parsed.
    #[error("the PEM public key is invalid: {0}")]
    InvalidPem(&'static str),
    /// An RSA key was rejected (malformed, or outside the 2048–8192-bit range).
    #[error("the RSA public key was rejected: {0}")]
    InvalidKey(&'static str),
    /// A refresh was not attempted because the last one was too recent (rate limit).
    #[error("a key refresh was attempted too recently")]
    RateLimited,
    /// No local key is configured (networkless mode).
    #[error("no local key is configured")]
    LocalMissing,
}

impl KeyError {
    /// The Clerk reason code for this key failure.
    #[must_use]
    pub const fn reason(&self) -> Reason {
        match self {
            Self::SecretKeyInvalid { .. } => Reason::SecretKeyInvalid,
            Self::LocalMissing => Reason::JwkLocalMissing,
            Self::RateLimited => Reason::JwkKidMismatch,
            Self::Status { .. }
            | Self::Transport(_)
            | Self::MalformedJwks(_)
            | Self::NoUsableKey
            | Self::InvalidPem(_)
            | Self::InvalidKey(_) => Reason::JwkRemoteFailedToLoad,
        }
    }
}

/// An HTTP request that did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connecting to the server took longer than the connect timeout.
    #[error("connecting timed out")]
    ConnectTimeout,
    /// The whole request took longer than the request timeout.
    #[error("the request timed out")]
    Timeout,
    /// The connection failed or broke (DNS, TCP, TLS, HTTP framing).
    #[error("the connection failed")]
    Io(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The response body was larger than the transport accepts.
    #[error("the response body exceeded {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request could not be built (invalid URL or header).
    #[error("the request is invalid: {0}")]
    InvalidRequest(&'static str),
}

impl TransportError {
    /// Whether the failure may go away on retry (I/O and timeouts do; invalid requests do not).
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::ConnectTimeout | Self::Timeout | Self::Io(_))
    }
}

/// A configuration that cannot be built. Its `Debug` is its `Display` (what a `main` returning the error prints),
/// naming the setting or the environment variable to fix.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No key source was configured and none could be derived.
    #[error(
        "no key source: set CLERK_SECRET_KEY (keys from the Backend API), CLERK_JWT_KEY (a PEM public key) or \
         CLERK_PUBLISHABLE_KEY (keys from the Frontend API), or give the builder a key source"
    )]
    NoKeySource,
    /// An environment variable holds a value that cannot be used.
    #[error("`{variable}`: {source}")]
    Variable {
        /// The environment variable.
        variable: &'static str,
        /// What is wrong with its value.
        #[source]
        source: Box<Self>,
    },
    /// A secret key that does not look like a Clerk secret key (`sk_test_…`/`sk_live_…`).
    #[error("the secret key is not a Clerk secret key (expected sk_test_… or sk_live_…)")]
    InvalidSecretKey,
    /// A publishable key that does not decode to a Frontend API host.
    #[error("the publishable key is invalid (expected pk_test_… or pk_live_… followed by base64 of a host and `$`)")]
    InvalidPublishableKey,
    /// A URL that cannot be used.
    #[error("invalid URL in `{field}`")]
    InvalidUrl {
        /// The setting that holds the URL.
        field: &'static str,
    },
    /// A plain `http://` URL to a host that is not this machine: the secret key, and the keys every token is checked
    /// against, would travel unprotected (an attacker on the path could serve a key set and forge any session).
    #[error(
        "{} is a plain http:// URL to a host that is not loopback: use https:// (plain http is accepted for \
         localhost, 127.0.0.0/8 and [::1] only, or everywhere with allow_insecure_http(true))",
        setting(field, variable)
    )]
    InsecureUrl {
        /// The setting that holds the URL.
        field: &'static str,
        /// The environment variable it was read from, when it was.
        variable: Option<&'static str>,
    },
    /// A local key (PEM or JWKS) that cannot be parsed.
    #[error("invalid local key")]
    InvalidKey(#[source] KeyError),
    /// An option outside its allowed range.
    #[error("invalid value for `{field}`: {why}")]
    InvalidOption {
        /// The option's name.
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A cookie name that is not a valid cookie token.
    #[error("invalid cookie name")]
    InvalidCookieName,
    /// The default transport could not be built (e.g. no TLS roots).
    #[error("the default HTTP transport could not be built")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl BuildError {
    /// This error, as the value of the environment variable `variable`.
    #[must_use]
    pub fn in_variable(self, variable: &'static str) -> Self {
        match self {
            already @ (Self::Variable { .. } | Self::InsecureUrl { variable: Some(_), .. }) => already,
            other => Self::Variable { variable, source: Box::new(other) },
        }
    }
}

/// How an error names a setting: by its environment variable when it came from one.
fn setting(field: &str, variable: &Option<&'static str>) -> String {
    match variable {
        Some(var) => format!("`{var}` (`{field}`)"),
        None => format!("`{field}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_strings_match_official_sdks() {
        let all = [
            (Reason::TokenExpired, "token-expired"),
            (Reason::TokenInvalid, "token-invalid"),
            (Reason::TokenInvalidAlgorithm, "token-invalid-algorithm"),
            (Reason::TokenInvalidAuthorizedParties, "token-invalid-authorized-parties"),
            (Reason::TokenInvalidSignature, "token-invalid-signature"),
            (Reason::TokenNotActiveYet, "token-not-active-yet"),
            (Reason::TokenIatInTheFuture, "token-iat-in-the-future"),
            (Reason::TokenVerificationFailed, "token-verification-failed"),
            (Reason::SecretKeyInvalid, "secret-key-invalid"),
            (Reason::JwkLocalMissing, "jwk-local-missing"),
            (Reason::JwkRemoteFailedToLoad, "jwk-remote-failed-to-load"),
            (Reason::JwkFailedToResolve, "jwk-failed-to-resolve"),
            (Reason::JwkKidMismatch, "jwk-kid-mismatch"),
        ];
        for (reason, s) in all {
            assert_eq!(reason.as_str(), s);
            assert_eq!(reason.to_string(), s);
        }
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn assert<T: Send + Sync + 'static + std::error::Error>() {}
        assert::<VerifyError>();
        assert::<KeyError>();
        assert::<TransportError>();
        assert::<BuildError>();
    }

    #[test]
    fn a_main_returning_a_build_error_prints_what_to_fix() {
        let e = BuildError::InvalidSecretKey.in_variable("CLERK_SECRET_KEY");
        assert_eq!(format!("{e:?}"), format!("{e}"));
        assert!(e.to_string().starts_with("`CLERK_SECRET_KEY`: the secret key is not a Clerk secret key"), "{e}");
        assert!(format!("{:?}", BuildError::NoKeySource).contains("CLERK_SECRET_KEY"));
    }

    #[test]
    fn an_insecure_url_names_its_variable_and_the_fix() {
        let from_env = BuildError::InsecureUrl { field: "api_url", variable: Some("CLERK_API_URL") };
        let text = from_env.to_string();
        assert!(text.starts_with("`CLERK_API_URL` (`api_url`) is a plain http:// URL"), "{text}");
        assert!(text.contains("use https://") && text.contains("allow_insecure_http(true)"), "{text}");
        let set = BuildError::InsecureUrl { field: "jwks_url", variable: None };
        assert!(set.to_string().starts_with("`jwks_url` is a plain http:// URL"), "{set}");
    }

    #[test]
    fn display_has_detail_but_no_input() {
        let e = VerifyError::with_detail(Reason::TokenInvalid, "payload is not a JSON object");
        assert_eq!(e.to_string(), "session token is malformed: payload is not a JSON object");
        assert_eq!(e.reason().as_str(), "token-invalid");
    }
}
