//! The authentication engine, framework-neutral: find the credentials in a request, verify a session token or a
//! machine token, optionally load the user, and say what happened. The framework adapters (`clerk-axum`,
//! `clerk-actix`) are thin layers over [`Authenticator::authenticate`] and [`crate::policy`].
//!
//! Machine tokens (API keys, M2M tokens, OAuth access tokens) are accepted only where asked for
//! ([`AuthenticatorBuilder::accepts`], [`Authenticator::accepting`]); they are read from the `Authorization` header
//! only. A token of a kind the endpoint does not accept is refused (`token-type-mismatch`) before any network call or
//! RSA work. The Backend API (users, opaque machine tokens) is reached through [`BackendApi`], which
//! `clerk_api::Client` implements.

mod authenticated;
mod backend;
mod caches;
mod failure;
mod flow;

pub use authenticated::Authenticated;
pub use backend::{BackendApi, BackendError, BackendUser};
pub use failure::Failure;
pub use flow::{Authentication, PendingAuthentication};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::BuildError;
use crate::machine::TokenTypes;
use crate::verify::Verifier;

use caches::{MAX_TTL, NegativeCache, UserCache};

/// Whether to load the signed-in user from the Backend API for every authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FetchUser {
    /// Build the request's auth from the token's claims alone; load the user only where a handler asks for it.
    /// The default.
    #[default]
    Never,
    /// Load the user with `GET /v1/users/{sub}` for every authenticated session (through the user cache, when
    /// configured).
    Always,
}

struct Inner {
    verifier: Verifier,
    backend: Option<Arc<dyn BackendApi>>,
    fetch_user: FetchUser,
    user_cache: Option<UserCache>,
    negative_cache: Option<NegativeCache>,
    /// When the last misconfiguration was logged at `error` (clock ms; 0: never), so it is logged once a minute.
    misconfiguration_logged_at: std::sync::atomic::AtomicU64,
}

/// Authenticates requests: token → verified session (→ optionally the user), or verified machine token. Cheap to
/// clone; [`accepting`](Self::accepting) makes a copy that accepts other token types, sharing everything else.
///
/// ```
/// # async fn demo(headers: http::HeaderMap, verifier: clerk_core::Verifier) -> Result<(), clerk_core::BuildError> {
/// use clerk_core::Authenticator;
///
/// let authenticator = Authenticator::builder().verifier(verifier).build()?; // once, at start-up
/// match authenticator.authenticate(&headers).await {
///     Ok(Some(auth)) => println!("signed in: {:?}", auth.session().map(|s| s.user_id())),
///     Ok(None) => println!("signed out"),
///     Err(failure) => println!("refused ({}): answer {}", failure.reason(), failure.status()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
    accepts: TokenTypes,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("verifier", &self.inner.verifier)
            .field("accepts", &self.accepts)
            .field("fetch_user", &self.inner.fetch_user)
            .field("backend_api", &self.inner.backend.is_some())
            .field("user_cache_ttl", &self.inner.user_cache.as_ref().map(UserCache::ttl))
            .field("machine_negative_cache_ttl", &self.inner.negative_cache.as_ref().map(NegativeCache::ttl))
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authenticator`].
#[must_use]
#[derive(Debug, Default)]
pub struct AuthenticatorBuilder {
    verifier: Option<Verifier>,
    backend: Option<Arc<dyn BackendApi>>,
    fetch_user: FetchUser,
    user_cache: Option<(usize, Duration)>,
    accepts: TokenTypes,
    negative_cache: Option<(usize, Duration)>,
}

impl AuthenticatorBuilder {
    /// The verifier (keys, claims checks, verified-token cache). Required.
    pub fn verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The Backend API, for loading users and verifying opaque machine tokens (`clerk_api::Client` implements
    /// [`BackendApi`]).
    pub fn backend_api(mut self, backend: impl BackendApi) -> Self {
        self.backend = Some(Arc::new(backend));
        self
    }

    /// The Backend API, shared.
    pub fn backend_api_arc(mut self, backend: Arc<dyn BackendApi>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Whether to load the user for every authenticated session. Default [`FetchUser::Never`].
    pub const fn fetch_user(mut self, fetch: FetchUser) -> Self {
        self.fetch_user = fetch;
        self
    }

    /// Cache loaded users for `ttl` (at most `capacity` users), so a busy app does not call the Backend API on
    /// every request. Default: no cache. A `ttl` above 5 minutes is refused (stale users hide bans and deletions).
    pub const fn user_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.user_cache = Some((capacity, ttl));
        self
    }

    /// The token types accepted. Default [`TokenTypes::SESSION`]: machine tokens are refused
    /// (`token-type-mismatch`) unless listed. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are verified by the
    /// Backend API and need a [`backend_api`](Self::backend_api); JWT forms (M2M JWTs, OAuth `at+jwt`) are verified
    /// locally. Per-route variations: [`Authenticator::accepting`].
    pub const fn accepts(mut self, types: TokenTypes) -> Self {
        self.accepts = types;
        self
    }

    /// Remember opaque machine tokens the Backend API refused for `ttl` (at most `capacity` of them, keyed by their
    /// SHA-256 digest, never the token), so a client retrying a bad or revoked key does not cost a Backend API call
    /// each time. Valid tokens are never cached: revocation takes effect on the next request. Default: no cache. A
    /// `ttl` above 5 minutes is refused.
    pub const fn machine_negative_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.negative_cache = Some((capacity, ttl));
        self
    }

    /// Builds the authenticator.
    ///
    /// # Errors
    /// [`BuildError::InvalidOption`] without a verifier, when fetching users without a Backend API, or for a user
    /// cache or machine negative cache TTL over 5 minutes.
    pub fn build(self) -> Result<Authenticator, BuildError> {
        let Some(verifier) = self.verifier else {
            return Err(BuildError::InvalidOption { field: "verifier", why: "a verifier is required" });
        };
        if self.fetch_user == FetchUser::Always && self.backend.is_none() {
            return Err(BuildError::InvalidOption {
                field: "fetch_user",
                why: "fetching users needs the Backend API (a secret key)",
            });
        }
        let clock = verifier.clock();
        let ttl_cache = |setting: Option<(usize, Duration)>, field| match setting {
            Some((_, ttl)) if ttl > MAX_TTL => Err(BuildError::InvalidOption { field, why: "at most 5 minutes" }),
            Some((capacity, ttl)) if capacity > 0 && !ttl.is_zero() => Ok(Some((capacity, ttl))),
            _ => Ok(None),
        };
        let user_cache = ttl_cache(self.user_cache, "user_cache")?
            .map(|(capacity, ttl)| UserCache::new(capacity, ttl, Arc::clone(&clock)));
        let negative_cache = ttl_cache(self.negative_cache, "machine_negative_cache")?
            .map(|(capacity, ttl)| NegativeCache::new(capacity, ttl, Arc::clone(&clock)));
        Ok(Authenticator {
            inner: Arc::new(Inner {
                verifier,
                backend: self.backend,
                fetch_user: self.fetch_user,
                user_cache,
                negative_cache,
                misconfiguration_logged_at: std::sync::atomic::AtomicU64::new(0),
            }),
            accepts: self.accepts,
        })
    }
}

impl Authenticator {
    /// A builder.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder::default()
    }

    /// An authenticator for session tokens, its verifier configured from the environment
    /// ([`Verifier::from_env`]), without the Backend API (`clerk_api::authenticator_from_env` adds it when a secret
    /// key is set).
    ///
    /// # Errors
    /// When a variable is invalid or no key source is configured.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::builder().verifier(Verifier::from_env()?.build()?).build()
    }

    /// The verifier in use.
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Whether users are loaded for every authenticated session.
    #[must_use]
    pub fn fetch_user(&self) -> FetchUser {
        self.inner.fetch_user
    }

    /// Whether a Backend API is configured (users, opaque machine tokens).
    #[must_use]
    pub fn has_backend_api(&self) -> bool {
        self.inner.backend.is_some()
    }

    /// The token types this authenticator accepts.
    #[must_use]
    pub const fn accepted_types(&self) -> TokenTypes {
        self.accepts
    }

    /// A copy accepting `types` instead, sharing the verifier, the Backend API and the caches (one reference count):
    /// for per-route layers, e.g. session tokens for the app and API keys for `/api`.
    #[must_use]
    pub fn accepting(&self, types: TokenTypes) -> Self {
        Self { inner: Arc::clone(&self.inner), accepts: types }
    }

    /// The start-up check: loads the instance's keys now and names the setting to fix when they cannot be
    /// loaded ([`Verifier::check`]).
    ///
    /// # Errors
    /// [`CheckError`](crate::CheckError).
    pub async fn check(&self) -> Result<(), crate::CheckError> {
        self.inner.verifier.check().await
    }

    /// How many refused opaque machine tokens the negative cache holds (0 without one).
    #[must_use]
    pub fn machine_negative_cache_len(&self) -> usize {
        self.inner.negative_cache.as_ref().map_or(0, NegativeCache::len)
    }
}
