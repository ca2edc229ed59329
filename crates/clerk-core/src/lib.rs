//! # clerk-core
//!
//! Verify [Clerk](https://clerk.com) session tokens in any Rust program, with no web framework: find the token in a
//! request, fetch and cache the instance's keys, check the token exactly as Clerk's official SDKs do, and get a typed
//! [`SessionAuth`] back.
//!
//! ```no_run
//! use clerk_core::Verifier;
//!
//! # async fn handler(headers: http::HeaderMap) -> Result<(), Box<dyn std::error::Error>> {
//! // CLERK_SECRET_KEY (keys from the Backend API) or CLERK_JWT_KEY (networkless), plus optional
//! // CLERK_PUBLISHABLE_KEY, CLERK_API_URL and CLERK_AUTHORIZED_PARTIES.
//! let verifier = Verifier::from_env()?.build()?;
//! match verifier.verify_request(&headers).await {
//!     Ok(Some((auth, _origin))) => println!("user {} in org {:?}", auth.user_id(), auth.org_id()),
//!     Ok(None) => println!("signed out"),
//!     Err(err) => println!("refused: {}", err.reason()), // e.g. "token-expired"
//! }
//! # Ok(()) }
//! ```
//!
//! A verification that runs for real, networkless, with a PEM key:
//!
//! ```
//! # use clerk_core::{Verifier, Reason};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pem = "-----BEGIN PUBLIC KEY-----
//! MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAveShCp16TnXqn8RlCl0+
//! uixhYbJk49khygE39zTG5piof/BOIQrr4sEN1iVPiiqGAUoBlnFgeA3PIYGQ/Jz1
//! eaGlEqekB6rBkj57u+xn/asWtF8tQbSX/6BzRC84yVW1KBuHwe6JoZ7wzqbO57VN
//! Rdl7pOxqC9IkhSuyaznVvB+dSYFdAIQ3lIC8GCNg4gSIjsnqA7tfckGDeFzYObJF
//! PEsFBYhzkt3S2bqkGPek/Gw3P26oaYHxhOeenjgQxaJxWDeJM5to3v3Of/PapYxq
//! o3ox4nBC0m8FD7WjxY4DWgtWV9p7kYT9H/FpTdYQ4O98HsIiq9H2ilyndmGM6QsZ
//! FQIDAQAB
//! -----END PUBLIC KEY-----";
//! let verifier = Verifier::builder().jwt_key(pem).unwrap().build().unwrap();
//! let err = verifier.verify("not-a-token").await.unwrap_err();
//! assert_eq!(err.reason(), Reason::TokenInvalid);
//! assert_eq!(err.reason().as_str(), "token-invalid");
//! # }
//! ```
//!
//! ## What it does
//!
//! - **Token sources** ([`TokenExtractor`]): `Authorization: Bearer`, else the `__session` cookie (name configurable;
//!   the instance-suffixed cookie preferred when the publishable key is known). "No token" and "unreadable
//!   credentials" are distinct outcomes.
//! - **Keys**: the Backend API JWKS (secret key), a Frontend API JWKS URL (publishable key or domain), a PEM public
//!   key, or a static JWKS; parsed once per fetch into aws-lc-rs verifiers held in an `ArcSwap`. Per-verifier cache,
//!   single-flight refresh, refresh ahead of expiry, rate-limited unknown-`kid` refresh, stale keys served through
//!   outages for a bounded time ([`KeyCacheConfig`]).
//! - **Verification** in Clerk's order with Clerk's reason codes ([`Reason`]), an injectable [`Clock`], and a
//!   verified-token cache so a repeated token costs a hash lookup ([`TokenCacheConfig`]; a token is cached the second
//!   time it passes verification).
//! - **Claims** v1 and v2 normalised into [`SessionAuth`], with [`SessionAuth::has`] for roles, permissions,
//!   features, plans and reverification.
//! - **The authentication engine** ([`Authenticator`]): a request's credentials to an answer — a session (with its
//!   user, loaded through a [`BackendApi`] such as `clerk_api::Client`), a machine token, signed out, or a
//!   [`Failure`] that says what went wrong and which status to answer. A token verified before is answered at once
//!   ([`Authentication::Ready`]); anything else is one future. The framework adapters (`clerk-axum`, `clerk-actix`)
//!   are thin layers over it and over [`policy`]: [`Mode`], [`Requirement`] (and their combinations), [`Outcome`]
//!   and [`Refusal`], the answer to a refused request as data.
//! - **Machine tokens** ([`TokenType`], [`MachineAuth`]): API keys, M2M tokens and OAuth access tokens classified as
//!   Clerk's JavaScript SDK does ([`TokenType::of`]); their JWT forms verified against the same keys
//!   ([`Verifier::verify_machine_jwt`]); session verification refuses them (`token-type-mismatch`). Opaque machine
//!   tokens need the Backend API ([`BackendApi`], implemented by `clerk-api`).
//! - **Transport** ([`HttpTransport`]): one object-safe trait, shared with `clerk-api`; default on hyper-util with
//!   rustls ([`HyperTransport`], feature `hyper`).
//!
//! ## Features
//!
//! | feature | what it adds | default |
//! |---|---|---|
//! | `hyper` | [`HyperTransport`], the default HTTP transport (hyper-util + rustls with aws-lc-rs, webpki roots) | yes |
//! | `native-roots` | the default transport trusts the platform's root store (a corporate proxy's CA), falling back to the compiled-in Mozilla roots when it is empty | no |
//!
//! Secrets and tokens never appear in `Debug` output, errors or logs.

#![cfg_attr(docsrs, feature(doc_cfg))]

/// Not API: the fuzz targets' entry points (feature `fuzzing`, never on by default; see `fuzz/`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
mod auth;
mod claims;
mod clock;
mod engine;
mod error;
mod fastclaims;
mod ids;
mod jwk;
mod jwks;
mod keys;
mod machine;
pub mod policy;
mod source;
mod transport;
mod verify;

pub use auth::{ActiveOrganization, Check, FactorLevel, Reverification, SessionAuth, SessionStatus};
pub use claims::Actor;
pub use clock::{Clock, SystemClock, TestClock};
pub use engine::{
    Authenticated, Authentication, Authenticator, AuthenticatorBuilder, BackendApi, BackendError, BackendUser, Failure,
    FetchUser, PendingAuthentication,
};
pub use error::{BuildError, KeyError, Reason, TransportError, VerifyError};
pub use ids::{MachineId, OrganizationId, SessionId, UserId};
pub use jwk::{Algorithm, KeySet, RSA_BITS, VerifyingKey};
pub use jwks::{BackendApiJwks, JwksSource, KeyCacheConfig, UrlJwks};
pub use keys::{InstanceType, PublishableKey, is_insecure_url, parse_secret_key, secret_key_instance_type};
pub use machine::{MachineAuth, TokenFormat, TokenType, TokenTypes};
pub use policy::{Mode, Outcome, Refusal, Requirement};
pub use source::{
    CredentialHeaders, DEFAULT_COOKIE, FoundToken, TokenExtractor, TokenOrigin, TokenSourceError, bearer_token,
    cookie_value,
};
pub use transport::{BoxFuture, HttpTransport, RetryPolicy};
#[cfg(feature = "hyper")]
pub use transport::{HyperTransport, HyperTransportBuilder};
pub use verify::{
    CheckError, DEFAULT_API_URL, DEFAULT_MAX_TOKEN_BYTES, IssuerCheck, PendingSessions, RequestAuthError,
    TokenCacheConfig, Verifier, VerifierBuilder,
};

/// The `User-Agent` this SDK sends.
pub const USER_AGENT: &str = concat!("clerk-rs/", env!("CARGO_PKG_VERSION"));
