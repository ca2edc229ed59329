//! Per-route requirements on the signed-in session, and their combinations.

use crate::auth::{Check, Reverification, SessionAuth};
use crate::engine::Authenticated;

/// What a route requires of the signed-in session, checked with [`SessionAuth::has`]. Owned, so it can live in a
/// layer or middleware; combine with [`all`](Self::all) and [`any`](Self::any).
///
/// A request authenticated by a machine token has no session, so it meets no requirement.
///
/// ```
/// use clerk_core::{Requirement, Reverification};
///
/// // Admins, or members who may manage billing, who verified in the last 10 minutes.
/// let r = Requirement::all([
///     Requirement::any([Requirement::role("org:admin"), Requirement::permission("org:billing:manage")]),
///     Requirement::Reverification(Reverification::Strict),
/// ]);
/// # let _ = r;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// The member's role in the active organization (`org:admin` or `admin`).
    Role(String),
    /// A permission in the active organization.
    Permission(String),
    /// A feature (`o:`/`u:` scoped or not).
    Feature(String),
    /// A plan (`o:`/`u:` scoped or not).
    Plan(String),
    /// A recent enough verification.
    Reverification(Reverification),
    /// Every one of these.
    All(Vec<Self>),
    /// At least one of these.
    Any(Vec<Self>),
}

impl Requirement {
    /// An organization role.
    pub fn role(role: impl Into<String>) -> Self {
        Self::Role(role.into())
    }

    /// An organization permission.
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::Permission(permission.into())
    }

    /// A feature.
    pub fn feature(feature: impl Into<String>) -> Self {
        Self::Feature(feature.into())
    }

    /// A plan.
    pub fn plan(plan: impl Into<String>) -> Self {
        Self::Plan(plan.into())
    }

    /// Every one of `requirements` (an empty list is always met).
    pub fn all(requirements: impl IntoIterator<Item = Self>) -> Self {
        Self::All(requirements.into_iter().collect())
    }

    /// At least one of `requirements` (an empty list is never met).
    pub fn any(requirements: impl IntoIterator<Item = Self>) -> Self {
        Self::Any(requirements.into_iter().collect())
    }

    /// Whether `session` meets the requirement.
    #[must_use]
    pub fn is_met_by(&self, session: &SessionAuth) -> bool {
        let check = |c: Check<'_>| session.has(c);
        match self {
            Self::Role(r) => check(Check::Role(r)),
            Self::Permission(p) => check(Check::Permission(p)),
            Self::Feature(f) => check(Check::Feature(f)),
            Self::Plan(p) => check(Check::Plan(p)),
            Self::Reverification(r) => check(Check::Reverification(*r)),
            Self::All(list) => list.iter().all(|r| r.is_met_by(session)),
            Self::Any(list) => list.iter().any(|r| r.is_met_by(session)),
        }
    }

    /// Whether an authenticated request meets the requirement (a machine token meets none).
    #[must_use]
    pub fn is_met(&self, auth: &Authenticated) -> bool {
        auth.session().is_some_and(|s| self.is_met_by(s))
    }

    /// The reverification that would let `session` meet the requirement, when that is what it misses: the answer
    /// then asks Clerk's frontends to reverify instead of a plain `403`. For [`All`](Self::All), the first unmet
    /// member decides; for [`Any`](Self::Any), the first reverification among its members (reverifying is a way to
    /// meet it).
    #[must_use]
    pub fn missing_reverification(&self, session: Option<&SessionAuth>) -> Option<Reverification> {
        match self {
            Self::Reverification(r) => Some(*r),
            Self::All(list) => list
                .iter()
                .find(|r| !session.is_some_and(|s| r.is_met_by(s)))
                .and_then(|r| r.missing_reverification(session)),
            Self::Any(list) => list.iter().find_map(|r| r.missing_reverification(session)),
            _ => None,
        }
    }
}
