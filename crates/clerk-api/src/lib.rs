//! # clerk-api
//!
//! The [Clerk](https://clerk.com) Backend API, typed: every operation of the 2026-05-12 OpenAPI spec as a request
//! builder, over a pluggable transport.
//!
//! ```no_run
//! # async fn demo() -> Result<(), clerk_api::Error> {
//! use clerk_api::Client;
//!
//! let client = Client::builder().secret_key("sk_test_...")?.build()?;
//! let user = client.users().get("user_123").send().await?;
//! # let _ = user; Ok(()) }
//! ```
//!
//! - **Requests** are builders that own their data: required parameters in the constructor, optional ones through
//!   setters, then `.send().await`. Every request turns into an `http::Request` without sending
//!   (`.to_http_request()`), for logging or snapshots.
//! - **Models** survive change: unknown fields are ignored, unknown enum values are kept as `Unknown(String)`,
//!   timestamps are [`Timestamp`]s (milliseconds).
//! - **Lists** answer a [`Page`] whatever the shape on the wire; `.paginate()` streams every item.
//! - **Errors** ([`Error`]) carry Clerk's `errors[]`, the trace id and `Retry-After`; decode errors carry the JSON path.
//! - **Retries** ([`RetryPolicy`], the same type `clerk-core` uses for key fetches): idempotent methods on I/O errors, 5xx and 429 (honouring `Retry-After`); POST and
//!   PATCH only when opted in.
//! - **Transport**: clerk-core's [`HttpTransport`](clerk_core::HttpTransport); the default is its pooled hyper client;
//!   [`ClientBuilder::tower_service`] takes any `tower::Service`.
//! - **Per-request options** ([`RequestOptions`]): another secret key, extra headers.
//! - **JWKS**: [`Client::verifier`] builds a `clerk-core` verifier whose keys come from this client.
//! - **Authentication**: the client is `clerk-core`'s [`BackendApi`](clerk_core::BackendApi), so the
//!   framework-neutral [`Authenticator`](clerk_core::Authenticator) loads users ([`FetchedUser`]) and verifies opaque
//!   machine tokens through it; [`Client::authenticator`] builds one with keys, users and machine tokens all from
//!   this client.
//! - **Machine tokens**: [`Client::verify_machine_token`] verifies opaque API keys, M2M tokens and OAuth access tokens
//!   (never cached when valid).
//!
//! ## Features
//!
//! | feature | what it adds | default |
//! |---|---|---|
//! | `hyper` | the default transport (clerk-core's hyper-util client over rustls) | yes |
//! | `native-roots` | the default transport trusts the platform's root store (`clerk-core`'s `native-roots`) | no |

mod backend;
mod client;
mod error;
mod generated;
mod jwks;
mod machine;
mod pagination;
mod request;
mod tower_transport;
mod types;

pub use backend::{FetchedUser, authenticator_from_env};
pub use clerk_core::RetryPolicy;
pub use clerk_core::{MachineAuth, MachineId, OrganizationId, SessionId, TokenFormat, TokenType, TokenTypes, UserId};
pub use client::{API_VERSION, Client, ClientBuilder, DEFAULT_API_URL};
pub use error::{ApiError, ClerkError, DecodeError, Error};
pub use generated::*;
pub use machine::MachineVerifyError;
pub use pagination::{Page, Paginated, paginate};
pub use request::{FilePart, RequestOptions};
pub use tower_transport::TowerTransport;
pub use types::{Nullable, Timestamp};
