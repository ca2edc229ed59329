//! # clerk-actix
//!
//! [Clerk](https://clerk.com) authentication for [actix-web] 4: the Elixir `AuthenticationPlug`, as an actix
//! middleware, with extractors and per-route guards. The same behaviour, statuses and bodies as `clerk-axum`.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use clerk_actix::{ClerkAuth, ClerkMiddleware};
//!
//! async fn me(auth: ClerkAuth) -> String {
//!     auth.user_id().to_string()
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // CLERK_SECRET_KEY (and optionally CLERK_API_URL, CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY, CLERK_AUTHORIZED_PARTIES).
//! let clerk = ClerkMiddleware::from_env()?;
//! HttpServer::new(move || App::new().wrap(clerk.clone()).route("/me", web::get().to(me)))
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! | what | type | behaviour |
//! |---|---|---|
//! | middleware | [`ClerkMiddleware`] (a `Transform`) → [`ClerkMiddlewareService`] | `App::wrap`, `Scope::wrap` or `Resource::wrap`. [`Mode::Required`] (the plug's behaviour, the default) answers `401` with body `Unauthorized` and `WWW-Authenticate: Bearer` (`Bearer error="invalid_token"` when a token was present); [`Mode::Optional`] (`.optional()`) never rejects and records the outcome in the request's extensions for the extractors and guards |
//! | outages | [`ClerkMiddleware::unavailable_status`] | keys or the user cannot be loaded → `503` (configurable) with `Retry-After: 5`, never `401`: an outage must not log users out |
//! | session | [`ClerkAuth`] | derefs to [`SessionAuth`](clerk_core::SessionAuth); signed out or refused → `401`, outage → `503` |
//! | optional session | [`OptionalClerkAuth`] | no credentials → `None`; present but refused → `401`; outage → `503` |
//! | user | [`ClerkUser`] | the Backend API user (typed and raw JSON): the one the middleware fetched ([`FetchUser::Always`]), else fetched on demand once per request, through the authenticator's TTL cache |
//! | guards | [`Require`] (a `Transform`) → [`RequireService`] | role, permission, feature, plan → `403 Forbidden`; reverification → `403` with the JSON body Clerk's frontends read |
//! | errors | [`ClerkError`] | an actix [`ResponseError`](actix_web::ResponseError); bodies never say why, the reason goes to `tracing` (target `clerk::auth`) |
//! | headers | — | actix-web 4 keeps headers in an `http` 0.2 map: they are copied byte for byte into the `http` 1 map the [`Authenticator`] reads; a non-ASCII `Authorization` is a `401`, never a panic |
//!
//! ## `Option<ClerkAuth>` does not do what it says
//!
//! actix-web implements `FromRequest` for every `Option<T>` by turning *any* error into `None`. `Option<ClerkAuth>`
//! therefore treats an expired or forged token, and a Clerk outage, as "signed out". Take [`OptionalClerkAuth`]:
//! `None` only when the request carried no credentials at all. (`Result<ClerkAuth, ClerkError>` also works and lets
//! a handler see every outcome.)
//!
//! ## Cookies
//!
//! A session token is read from `Authorization: Bearer`, else from the `__session` cookie. Cookie tokens can be
//! replayed by another site's requests (CSRF): configure authorized parties (`CLERK_AUTHORIZED_PARTIES`) so the
//! token's `azp` is checked.
//!
//! ## In your own middleware
//!
//! `ServiceRequest::extract::<OptionalClerkAuth>()` (or [`ClerkAuth`]) reads what [`ClerkMiddleware`] recorded, when
//! your middleware runs inside it.
//!
//! [actix-web]: https://actix.rs

mod error;
mod extract;
mod guard;
mod headers;
mod middleware;

pub use clerk_api::plug::{Authenticated, Authenticator, AuthenticatorBuilder, Failure, FetchUser, FetchedUser};
pub use error::ClerkError;
pub use extract::{ClerkAuth, ClerkUser, OptionalClerkAuth};
pub use guard::{Require, RequireService, Requirement};
pub use middleware::{ClerkMiddleware, ClerkMiddlewareService, Mode};

/// What the middleware records in each request's extensions, for the extractors and guards.
#[derive(Debug, Clone)]
pub(crate) enum ClerkState {
    SignedIn(Authenticated),
    SignedOut,
    Failed(Failure),
}

/// actix futures need not be `Send`.
pub(crate) type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;
