//! What to do with an authentication's outcome, framework-neutral: whether a route requires a signed-in request
//! ([`Mode`]), what a route requires of the session ([`Requirement`]), and the answer for a request that is refused
//! ([`Refusal`]: status, challenge, body). Each framework adapter turns a `Refusal` into its own response and
//! otherwise only speaks its framework.

mod refusal;
mod requirement;

pub use refusal::Refusal;
pub use requirement::Requirement;

use http::StatusCode;

use crate::engine::{Authenticated, Failure};

/// Whether a route refuses requests that are not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Refuse with `401` (or the outage status). The default.
    #[default]
    Required,
    /// Never refuse; record the outcome for the handlers (and guards) to decide.
    Optional,
}

/// How a request was authenticated: what an adapter records for its extractors and guards.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Valid credentials: a session (with its user, when loaded) or a machine token.
    SignedIn(Authenticated),
    /// No credentials at all.
    SignedOut,
    /// Credentials refused, or Clerk could not judge them.
    Failed(Failure),
}

impl From<Result<Option<Authenticated>, Failure>> for Outcome {
    fn from(r: Result<Option<Authenticated>, Failure>) -> Self {
        match r {
            Ok(Some(a)) => Self::SignedIn(a),
            Ok(None) => Self::SignedOut,
            Err(f) => Self::Failed(f),
        }
    }
}

impl Outcome {
    /// The refusal for this outcome under `mode`, `None` when the request goes on. `unavailable` is the status for
    /// outages (default `503`).
    #[must_use]
    pub fn refusal(&self, mode: Mode, unavailable: StatusCode) -> Option<Refusal> {
        if mode == Mode::Optional {
            return None;
        }
        match self {
            Self::SignedIn(_) => None,
            Self::SignedOut => Some(Refusal::signed_out()),
            Self::Failed(f) => Some(Refusal::failure(f, unavailable)),
        }
    }

    /// The failure, when the credentials were refused or could not be judged.
    #[must_use]
    pub const fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// The authenticated request, when signed in.
    #[must_use]
    pub const fn authenticated(&self) -> Option<&Authenticated> {
        match self {
            Self::SignedIn(a) => Some(a),
            _ => None,
        }
    }
}
