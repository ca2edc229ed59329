//! # clerk-actix
//!
//! [Clerk](https://clerk.com) authentication for [actix-web] 4: a middleware, extractors and per-route guards; machine tokens (API keys, M2M tokens, OAuth access tokens)
//! where a route asks for them; and verified, typed Clerk webhooks. The same behaviour, statuses and bodies as
//! `clerk-axum`.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use clerk_actix::{Clerk, ClerkAuth, ClerkMachine, ClerkWebhook, Webhook};
//!
//! async fn me(auth: ClerkAuth) -> String {
//!     auth.user_id().to_string()
//! }
//!
//! async fn api(machine: ClerkMachine) -> String {
//!     format!("{} {}", machine.token_type(), machine.subject())
//! }
//!
//! async fn clerk_webhook(ClerkWebhook(event): ClerkWebhook) -> String {
//!     event.event_type
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // CLERK_SECRET_KEY (and optionally CLERK_API_URL, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES).
//! let clerk = Clerk::from_env()?;
//! let webhook = web::Data::new(Webhook::new(&std::env::var("CLERK_WEBHOOK_SIGNING_SECRET")?)?);
//! HttpServer::new(move || {
//!     App::new()
//!         // Registered before the catch-all scope, each with its own authentication.
//!         .service(web::resource("/webhooks/clerk").app_data(webhook.clone()).route(web::post().to(clerk_webhook)))
//!         .service(web::resource("/api").wrap(clerk.clone().machine()).route(web::get().to(api)))
//!         .service(web::scope("").wrap(clerk.clone()).route("/me", web::get().to(me)))
//! })
//! .bind(("127.0.0.1", 3000))?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! | what | type | behaviour |
//! |---|---|---|
//! | middleware | [`Clerk`] (a `Transform`) → [`ClerkMiddleware`] | `App::wrap`, `Scope::wrap` or `Resource::wrap`. [`Mode::Required`] (the default) answers `401` with body `Unauthorized` and `WWW-Authenticate: Bearer` (`Bearer error="invalid_token"` when a token was present); [`Mode::Optional`] (`.optional()`) never rejects and records the outcome in the request's extensions for the extractors and guards |
//! | outages | [`Clerk::unavailable_status`] | keys or the user cannot be loaded → `503` (configurable) with `Retry-After: 5`, never `401`: an outage must not log users out |
//! | session | [`ClerkAuth`] | derefs to [`SessionAuth`](clerk_core::SessionAuth); signed out or refused → `401`, outage → `503` |
//! | optional session | [`OptionalClerkAuth`] | no credentials → `None`; present but refused → `401`; outage → `503`; `Result<ClerkAuth, ClerkRejection>` sees every outcome, with the [`Failure`] behind a refusal |
//! | user | `ClerkUser` (feature `api`) | the Backend API user (typed and raw JSON): the one the middleware loaded ([`FetchUser::Always`]), else loaded on demand once per request, through the authenticator's TTL cache |
//! | machine tokens | [`Clerk::accepting`], [`Clerk::machine`] | a middleware accepts session tokens only unless told otherwise; a kind it does not accept is `401` (`token-type-mismatch` in the log), before any network call or RSA work; machine tokens come from the `Authorization` header only |
//! | machine | [`ClerkMachine`], [`OptionalClerkMachine`] | derefs to [`MachineAuth`]: token type, id, subject, scopes; a session token → `401` (and [`ClerkAuth`] refuses machine tokens the same way) |
//! | guards | [`Require`] (a `Transform`) → [`RequireMiddleware`] | role, permission, feature, plan and any/all combinations ([`Requirement`]) → `403 Forbidden`; reverification → `403` with the JSON body Clerk's frontends read; a machine token meets no session requirement → `403` |
//! | errors | [`ClerkRejection`] | an actix [`ResponseError`](actix_web::ResponseError); bodies never say why, the reason goes to `tracing` (target `clerk::auth`) |
//! | webhooks | `ClerkWebhook`, `VerifiedWebhook`, `ClerkWebhookError` (feature `webhooks`) | the `Webhook` from app data verifies the raw body (read up to `Webhook::body_limit`: `413` past it) and the `svix-*` headers; the handler gets the typed `WebhookEvent` (or the `VerifiedMessage`); refused → `400 Bad Request`, the reason in `tracing` (target `clerk::webhooks`); no `Webhook` configured → `500` |
//! | headers | — | actix-web 4 keeps headers in an `http` 0.2 map: the credential (`Authorization`, `Cookie`) and webhook headers are copied byte for byte into the `http` 1 maps the verifiers read; a non-ASCII value is a `401` (webhooks: `400`), never a panic |
//!
//! ## `Option<ClerkAuth>` does not do what it says
//!
//! actix-web implements `FromRequest` for every `Option<T>` by turning *any* error into `None`. `Option<ClerkAuth>`
//! therefore treats an expired or forged token, and a Clerk outage, as "signed out". Take [`OptionalClerkAuth`]:
//! `None` only when the request carried no credentials at all. (`Result<ClerkAuth, ClerkRejection>` also works and lets
//! a handler see every outcome, with the [`Failure`](ClerkRejection::failure).)
//!
//! ## Cookies
//!
//! A session token is read from `Authorization: Bearer`, else from the `__session` cookie. Cookie tokens can be
//! replayed by another site's requests (CSRF): configure authorized parties (`CLERK_AUTHORIZED_PARTIES`) so the
//! token's `azp` is checked.
//!
//! ## In your own middleware
//!
//! `ServiceRequest::extract::<OptionalClerkAuth>()` (or [`ClerkAuth`]) reads what [`Clerk`] recorded, when
//! your middleware runs inside it.
//!
//! The guide, with every option: `docs/actix.md` in the repository (its snippets are this crate's doctests).
//!
//! ## Features
//!
//! | feature | what it adds | default |
//! |---|---|---|
//! | `api` | the Backend API (`clerk-api`): `ClerkUser`, opaque machine tokens, `from_env` with a secret key | yes |
//! | `webhooks` | `ClerkWebhook`, `VerifiedWebhook` (`clerk-webhooks`) | yes |
//!
//! With `default-features = false`, an app that only verifies session tokens compiles `clerk-core` and actix-web.
//!
//! [actix-web]: https://actix.rs

mod extract;
mod guard;
mod headers;
mod middleware;
mod rejection;
#[cfg(feature = "webhooks")]
mod webhook;

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
pub use guard::{Require, RequireMiddleware};
pub use middleware::{Clerk, ClerkMiddleware, ResponseFuture};
pub use rejection::ClerkRejection;
#[cfg(feature = "webhooks")]
pub use webhook::{ClerkWebhook, ClerkWebhookError, VerifiedWebhook};

/// What the middleware records in each request's extensions (one entry), for the extractors and guards: the outcome
/// and the middleware's configuration (shared, not copied).
#[derive(Debug)]
pub(crate) struct ClerkState {
    pub(crate) outcome: clerk_core::Outcome,
    pub(crate) config: std::rc::Rc<Clerk>,
}

/// actix futures need not be `Send`.
pub(crate) type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// The guide (`docs/actix.md`), whose Rust snippets are compiled (and, unless marked otherwise, run) as doctests.
#[cfg(all(doctest, feature = "api", feature = "webhooks"))]
#[doc = include_str!("../../../docs/actix.md")]
pub struct GuideDoctests;
