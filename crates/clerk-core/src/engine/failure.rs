//! [`Failure`]: why a request was not authenticated, as one enum with Clerk's reason code and the status to answer.

use http::StatusCode;

use crate::error::Reason;
use crate::source::TokenSourceError;

/// Why a request was not authenticated. Clients only ever see a status (and a fixed body); the reason goes to
/// `tracing` (target `clerk::auth`), never to the client.
///
/// | variant | [`reason`](Self::reason) | [`status`](Self::status) |
/// |---|---|---|
/// | [`Token`](Self::Token) | Clerk's reason code (`token-expired`, `token-type-mismatch`, …) | `401` |
/// | [`Credentials`](Self::Credentials) | `token-invalid` | `401` |
/// | [`UserNotFound`](Self::UserNotFound) | `user-not-found` | `401` |
/// | [`KeysUnavailable`](Self::KeysUnavailable) | `jwk-remote-failed-to-load`, … | `503` |
/// | [`KeysUnavailable`](Self::KeysUnavailable) with `secret-key-invalid` | `secret-key-invalid` | `500` |
/// | [`UserUnavailable`](Self::UserUnavailable) | `user-fetch-failed` | `503` |
/// | [`MachineTokenUnavailable`](Self::MachineTokenUnavailable) | `unexpected-error` | `503` |
/// | [`MachineTokenUnavailable`](Self::MachineTokenUnavailable) with `secret-key-invalid` | `secret-key-invalid` | `500` |
/// | [`NoBackendApi`](Self::NoBackendApi) | `no-backend-api-client` | `500` |
///
/// An outage is never a `401`: it must not log users out. (The configured outage status replaces `503` in the
/// framework adapters.) A misconfiguration — the Backend API refuses the secret key, or none is configured — is not
/// an outage either: a retry will not fix it, so it is a `500` (with an `error` log naming what to fix), not a `503`
/// with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The token was refused (also: a token of a kind the endpoint does not accept, `token-type-mismatch`, and an
    /// opaque machine token the Backend API said is not valid, `token-invalid`).
    Token(Reason),
    /// The request's credentials cannot be read (several `Authorization` headers, non-ASCII, an empty bearer).
    Credentials(TokenSourceError),
    /// The token is valid but its user no longer exists.
    UserNotFound,
    /// The instance's keys could not be had, so the token was not judged.
    KeysUnavailable(Reason),
    /// The user could not be loaded from the Backend API.
    UserUnavailable,
    /// The Backend API could not verify an opaque machine token (`code` as Clerk's JavaScript SDK names it).
    MachineTokenUnavailable {
        /// `unexpected-error` (unreachable, unexpected answer) or `secret-key-invalid`.
        code: &'static str,
    },
    /// The request needs the Backend API (an opaque machine token, a user) and none is configured.
    NoBackendApi,
}

impl Failure {
    /// The reason code, for logs and metrics: Clerk's where Clerk has one.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Token(r) | Self::KeysUnavailable(r) => r.as_str(),
            Self::Credentials(_) => Reason::TokenInvalid.as_str(),
            Self::UserNotFound => "user-not-found",
            Self::UserUnavailable => "user-fetch-failed",
            Self::MachineTokenUnavailable { code } => code,
            Self::NoBackendApi => "no-backend-api-client",
        }
    }

    /// Whether Clerk could not be reached to judge the credentials: answer an outage status, never `401`.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        !self.is_misconfiguration()
            && matches!(self, Self::KeysUnavailable(_) | Self::UserUnavailable | Self::MachineTokenUnavailable { .. })
    }

    /// Whether the app is misconfigured: the Backend API refused the secret key, or none is configured for what the
    /// request needs. Not the caller's fault, and not something a retry fixes.
    #[must_use]
    pub fn is_misconfiguration(&self) -> bool {
        match self {
            Self::KeysUnavailable(reason) => *reason == Reason::SecretKeyInvalid,
            Self::MachineTokenUnavailable { code } => *code == "secret-key-invalid",
            Self::NoBackendApi => true,
            _ => false,
        }
    }

    /// The status to answer: `401` when the credentials were refused, `503` when they could not be judged, `500`
    /// for a misconfiguration.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        if self.is_misconfiguration() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if self.is_unavailable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Token(_) => "the token was refused",
            Self::Credentials(_) => "the credentials cannot be read",
            Self::UserNotFound => "the token's user no longer exists",
            Self::KeysUnavailable(_) => "the instance's keys could not be loaded",
            Self::UserUnavailable => "the user could not be loaded from the Clerk Backend API",
            Self::MachineTokenUnavailable { .. } => "the Clerk Backend API could not verify the machine token",
            Self::NoBackendApi => "no Clerk Backend API client is configured",
        })?;
        write!(f, " ({})", self.reason())
    }
}

impl std::error::Error for Failure {}
