//! # clerk-axum
//!
//! [Clerk](https://clerk.com) authentication for [axum]: the Elixir `AuthenticationPlug`, as a tower layer, with
//! extractors and per-route guards.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use clerk_axum::{ClerkAuth, ClerkLayer};
//!
//! async fn me(auth: ClerkAuth) -> String {
//!     auth.user_id().to_string()
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // CLERK_SECRET_KEY (and optionally CLERK_API_URL, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES).
//! let app: Router = Router::new().route("/me", get(me)).layer(ClerkLayer::from_env()?);
//! # let _ = app; Ok(()) }
//! ```
//!
//! - [`ClerkLayer`] → [`Clerk`] → [`ResponseFuture`]: a real tower layer, for `Router::layer`, `route_layer` or any
//!   tower service. [`Mode::Required`] (the plug's behaviour, the default) answers `401` with body `Unauthorized`
//!   and `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a token was present) and never says why; the
//!   reason goes to a `tracing` event (target `clerk::auth`). [`Mode::Optional`] attaches auth when present and lets
//!   the extractors decide.
//! - Outages are not bad tokens: when keys or the user cannot be loaded, the answer is `503` (configurable), never
//!   `401`.
//! - Extractors: [`ClerkAuth`] (required), `Option<ClerkAuth>` (absent → `None`; present but invalid → rejected, as
//!   axum's own optional extractors do), [`ClerkUser`] (the user from the Backend API, fetched once per request
//!   when the layer does not already fetch it, with the authenticator's TTL cache).
//! - Guards: [`RequireLayer`] for role, permission, feature, plan and reverification → `403` (reverification failures
//!   with the body Clerk's frontends understand).

mod extract;
mod guard;
mod layer;
mod rejection;

pub use clerk_api::plug::{Authenticated, Authenticator, AuthenticatorBuilder, Failure, FetchUser, FetchedUser};
pub use extract::{ClerkAuth, ClerkUser};
pub use guard::{Require, RequireLayer, Requirement};
pub use layer::{Clerk, ClerkLayer, Mode, ResponseFuture};
pub use rejection::ClerkRejection;

/// What the layer records in each request's extensions, for the extractors.
#[derive(Debug, Clone)]
pub(crate) enum ClerkState {
    SignedIn(Authenticated),
    SignedOut,
    Failed(Failure),
}
