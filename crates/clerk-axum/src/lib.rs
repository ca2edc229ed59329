//! # clerk-axum
//!
//! [Clerk](https://clerk.com) authentication for [axum] and any tower service over `http`: a layer, extractors
//! and per-route guards; machine tokens (API keys, M2M tokens, OAuth access tokens) where a route asks for
//! them; and verified, typed Clerk webhooks.
//!
//! ```no_run
//! use axum::{Extension, Json, Router, routing::{get, post}};
//! use clerk_axum::{ClerkAuth, ClerkLayer, ClerkMachine, ClerkWebhook, Webhook};
//! use serde_json::{Value, json};
//!
//! async fn me(auth: ClerkAuth) -> String {
//!     auth.user_id().to_string()
//! }
//!
//! async fn api(machine: ClerkMachine) -> String {
//!     format!("{} {}", machine.token_type(), machine.subject())
//! }
//!
//! async fn clerk_webhook(webhook: ClerkWebhook) -> Json<Value> {
//!     Json(json!({ "id": webhook.id, "type": webhook.event_type }))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // CLERK_SECRET_KEY (and optionally CLERK_API_URL, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES).
//! let clerk = ClerkLayer::from_env()?;
//! let webhook = Webhook::new(&std::env::var("CLERK_WEBHOOK_SIGNING_SECRET")?)?;
//! let app: Router = Router::new()
//!     .merge(Router::new().route("/me", get(me)).layer(clerk.clone()))
//!     .merge(Router::new().route("/api", get(api)).layer(clerk.machine()))
//!     .route("/webhooks/clerk", post(clerk_webhook).layer(Extension(webhook)));
//! # let _ = app; Ok(()) }
//! ```
//!
//! - [`ClerkLayer`] → [`Clerk`] → [`ResponseFuture`]: a real tower layer over `http::Request<B>`, for
//!   `Router::layer`, `route_layer`, a tonic server or any tower service ([`RefusalBody`]). [`Mode::Required`] (the
//!   default) answers `401` with body `Unauthorized`
//!   and `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a token was present) and never says why; the
//!   reason goes to a `tracing` event (target `clerk::auth`). [`Mode::Optional`] attaches auth when present and lets
//!   the extractors decide.
//! - Outages are not bad tokens: when keys or the user cannot be loaded, or the Backend API cannot verify an opaque
//!   machine token, the answer is `503` (configurable), never `401`.
//! - Extractors: [`ClerkAuth`] (required), `Option<ClerkAuth>` (absent → `None`; present but invalid → rejected, as
//!   axum's own optional extractors do), `Result<ClerkAuth, ClerkRejection>` (every outcome, with the
//!   [`Failure`] behind a refusal), `ClerkUser` (feature `api`: the user from the Backend API, loaded once per
//!   request when the layer does not already load it, with the authenticator's TTL cache).
//! - Machine tokens: a layer accepts session tokens only unless told otherwise ([`ClerkLayer::accepting`],
//!   [`ClerkLayer::machine`]); [`ClerkMachine`] / `Option<ClerkMachine>` give the verified [`MachineAuth`]. A
//!   machine token where a session is expected, or the reverse, is a `401` (`token-type-mismatch` in the log).
//! - Guards: [`RequireLayer`] for role, permission, feature, plan and reverification, and any/all combinations of
//!   them ([`Requirement`]) → `403` (reverification failures with the body Clerk's frontends understand; a machine
//!   token meets no session requirement: `403`).
//! - Webhooks (feature `webhooks`): `ClerkWebhook` verifies a Clerk (Svix) webhook over the raw body with the `Webhook` found in the
//!   request's extensions and decodes the typed `WebhookEvent`; `VerifiedWebhook` stops at the verified
//!   `VerifiedMessage`. Refusals are `400` (`413` over the body limit) with a fixed body; the reason goes to
//!   `tracing` (target `clerk::webhooks`).
//!
//! The guide, with every option: `docs/axum.md` in the repository.
//!
//! ## Features
//!
//! | feature | what it adds | default |
//! |---|---|---|
//! | `api` | the Backend API (`clerk-api`): `ClerkUser`, opaque machine tokens, `from_env` with a secret key | yes |
//! | `webhooks` | `ClerkWebhook`, `VerifiedWebhook` (`clerk-webhooks`) | yes |
//! | `tonic` | [`RefusalBody`] for tonic's body: the layer in front of a tonic gRPC server | no |
//!
//! With `default-features = false`, an app that only verifies session tokens compiles `clerk-core` and axum.
//!
//! [axum]: https://docs.rs/axum

mod body;
mod env;
mod extract;
mod future;
mod guard;
mod layer;
mod rejection;
#[cfg(feature = "webhooks")]
mod webhook;

pub use body::RefusalBody;
#[cfg(feature = "api")]
pub use clerk_api::FetchedUser;
pub use clerk_core::{
    Authenticated, Authenticator, AuthenticatorBuilder, Failure, FetchUser, MachineAuth, Mode, Requirement, TokenType,
    TokenTypes,
};
#[cfg(feature = "webhooks")]
pub use clerk_webhooks::{Event, VerifiedMessage, Webhook, WebhookError, WebhookEvent};
#[cfg(feature = "api")]
pub use extract::ClerkUser;
pub use extract::{ClerkAuth, ClerkMachine, OptionalClerkAuth, OptionalClerkMachine};
pub use future::ResponseFuture;
pub use guard::{Require, RequireLayer};
pub use layer::{Clerk, ClerkLayer};
pub use rejection::ClerkRejection;
#[cfg(feature = "webhooks")]
pub use webhook::{ClerkWebhook, VerifiedWebhook, WebhookRejection};

/// The guide (`docs/axum.md`), whose Rust snippets are compiled (and, unless marked otherwise, run) as doctests.
#[cfg(all(doctest, feature = "api", feature = "webhooks"))]
#[doc = include_str!("../../../docs/axum.md")]
pub struct GuideDoctests;
