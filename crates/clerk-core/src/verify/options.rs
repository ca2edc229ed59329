//! What a verifier checks, as its builder set it: algorithms, clock skew, authorized parties, audience, issuers,
//! pending sessions and the size bound.

/// The default bound on a token's length: 8 KiB. Clerk session tokens are well under 4 KiB (they travel in a
/// cookie); the margin leaves room for custom claims while capping the work any input can cause.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What to do with a session whose status is `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PendingSessions {
    /// Treat as signed out (`session-token-pending`). The default, as the official SDKs.
    #[default]
    Reject,
    /// Accept; check [`SessionAuth::session_status`](crate::SessionAuth::session_status) yourself.
    Accept,
}

/// The optional strict issuer check (the official SDKs no longer check `iss`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IssuerCheck {
    /// Do not check `iss` (the official SDKs' behaviour). The default.
    #[default]
    Off,
    /// `iss` must equal the Frontend API URL derived from the publishable key or the domain.
    Derived,
    /// `iss` must equal one of these (e.g. a proxy URL).
    OneOf(Vec<String>),
}

/// The checks of one verifier, fixed at build time.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub(super) algorithms: [bool; 3],
    pub(super) skew_ms: i64,
    pub(super) authorized_parties: Vec<String>,
    pub(super) audience: Vec<String>,
    pub(super) issuers: Vec<String>,
    pub(super) pending: PendingSessions,
    pub(super) max_token_bytes: usize,
}
