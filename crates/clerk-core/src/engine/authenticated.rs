//! [`Authenticated`]: who a request is authenticated as.

use std::fmt;

use crate::auth::SessionAuth;
use crate::machine::{MachineAuth, TokenType};
use crate::source::TokenOrigin;

use super::backend::BackendUser;

/// Who a request is authenticated as.
#[derive(Clone)]
enum Principal {
    Session(SessionAuth),
    Machine(MachineAuth),
}

/// An authenticated request: a verified session (and, when loaded, its user) or a verified machine token.
#[derive(Clone)]
pub struct Authenticated {
    principal: Principal,
    origin: TokenOrigin,
    user: Option<BackendUser>,
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Authenticated");
        match &self.principal {
            Principal::Session(s) => d.field("session", s),
            Principal::Machine(m) => d.field("machine", m),
        };
        d.field("origin", &self.origin).field("user", &self.user.as_ref().map(BackendUser::id)).finish()
    }
}

impl Authenticated {
    pub(super) const fn session_of(auth: SessionAuth, origin: TokenOrigin, user: Option<BackendUser>) -> Self {
        Self { principal: Principal::Session(auth), origin, user }
    }

    pub(super) const fn machine_of(auth: MachineAuth, origin: TokenOrigin) -> Self {
        Self { principal: Principal::Machine(auth), origin, user: None }
    }

    /// The verified session, when a session token authenticated the request.
    #[must_use]
    pub const fn session(&self) -> Option<&SessionAuth> {
        match &self.principal {
            Principal::Session(s) => Some(s),
            Principal::Machine(_) => None,
        }
    }

    /// The verified machine token (API key, M2M token, OAuth access token), when one authenticated the request.
    #[must_use]
    pub const fn machine(&self) -> Option<&MachineAuth> {
        match &self.principal {
            Principal::Session(_) => None,
            Principal::Machine(m) => Some(m),
        }
    }

    /// The kind of token that authenticated the request.
    #[must_use]
    pub fn token_type(&self) -> TokenType {
        match &self.principal {
            Principal::Session(_) => TokenType::SessionToken,
            Principal::Machine(m) => m.token_type(),
        }
    }

    /// Where the token came from (header or cookie; machine tokens always come from the header).
    #[must_use]
    pub const fn origin(&self) -> TokenOrigin {
        self.origin
    }

    /// The user, when the authenticator loads users ([`FetchUser::Always`](super::FetchUser::Always)); session
    /// tokens only. With `clerk-api`, [`BackendUser::get`] gives a `clerk_api::FetchedUser`.
    #[must_use]
    pub const fn user(&self) -> Option<&BackendUser> {
        self.user.as_ref()
    }
}
