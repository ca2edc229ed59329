//! The Elixir `AuthenticationPlug`'s logic, framework-neutral: find and verify the session token, optionally load
//! the user through the Backend API (with a short, bounded cache), and say what to answer. `clerk-axum` and
//! `clerk-actix` are thin adapters over [`Authenticator`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_core::{Reason, RequestAuthError, SessionAuth, TokenOrigin, Verifier};

use crate::error::Error;
use crate::request::Req;
use crate::{Client, User};

/// Whether to load the signed-in user from the Backend API (the plug's `fetch_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FetchUser {
    /// Build the request's auth from the token's claims alone (the plug's `fetch_user: false`).
    #[default]
    Never,
    /// Load the user with `GET /v1/users/{sub}` for every authenticated request (the plug's default).
    Always,
}

/// A signed-in request: the verified session and, when fetched, the user.
#[derive(Clone)]
pub struct Authenticated {
    auth: SessionAuth,
    origin: TokenOrigin,
    user: Option<Arc<FetchedUser>>,
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("auth", &self.auth)
            .field("origin", &self.origin)
            .field("user", &self.user.as_ref().map(|u| u.user.id.clone()))
            .finish()
    }
}

/// A user as the Backend API returned it: typed, and the raw JSON (with any field this SDK does not model).
#[derive(Debug)]
pub struct FetchedUser {
    /// The typed user.
    pub user: User,
    /// The body exactly as Clerk sent it.
    pub raw: serde_json::Value,
}

impl Authenticated {
    /// The verified session.
    #[must_use]
    pub const fn auth(&self) -> &SessionAuth {
        &self.auth
    }

    /// Where the token came from (header or cookie).
    #[must_use]
    pub const fn origin(&self) -> TokenOrigin {
        self.origin
    }

    /// The user, when the authenticator fetches users.
    #[must_use]
    pub fn user(&self) -> Option<&FetchedUser> {
        self.user.as_deref()
    }

    /// The user as a shared pointer, when fetched.
    #[must_use]
    pub fn user_arc(&self) -> Option<Arc<FetchedUser>> {
        self.user.clone()
    }
}

/// Why a request was not authenticated. Clients only ever see a status (401 or 503) and a fixed body; the
/// reason goes to `tracing` (target `clerk::auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The credentials were refused: answer 401.
    Unauthorized {
        /// Whether a token was present (then `WWW-Authenticate: Bearer error="invalid_token"`).
        token_present: bool,
        /// Clerk's reason code, for logs.
        reason: &'static str,
    },
    /// Clerk could not be reached to judge the credentials (keys or the user could not be loaded): answer 503 (or
    /// the configured status), never 401: an outage must not log users out.
    Unavailable {
        /// What could not be loaded, for logs.
        reason: &'static str,
    },
}

impl Failure {
    /// The Clerk reason code or outage reason, for logs and metrics.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Unauthorized { reason, .. } | Self::Unavailable { reason } => reason,
        }
    }
}

struct UserCache {
    cache: quick_cache::sync::Cache<String, (Instant, Arc<FetchedUser>)>,
    ttl: Duration,
}

struct Inner {
    verifier: Verifier,
    client: Option<Client>,
    fetch_user: FetchUser,
    user_cache: Option<UserCache>,
}

/// Authenticates requests: token → verified session → optionally the user. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("verifier", &self.inner.verifier)
            .field("fetch_user", &self.inner.fetch_user)
            .field("user_cache_ttl", &self.inner.user_cache.as_ref().map(|c| c.ttl))
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authenticator`].
#[must_use]
#[derive(Debug, Default)]
pub struct AuthenticatorBuilder {
    verifier: Option<Verifier>,
    client: Option<Client>,
    fetch_user: FetchUser,
    user_cache: Option<(usize, Duration)>,
}

impl AuthenticatorBuilder {
    /// The verifier. Default: built from the client ([`Client::verifier`]) when one is set.
    pub fn verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The Backend API client, for [`FetchUser::Always`] (and the keys, when no verifier is set).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Whether to load the user. Default [`FetchUser::Never`].
    pub const fn fetch_user(mut self, fetch: FetchUser) -> Self {
        self.fetch_user = fetch;
        self
    }

    /// Cache fetched users for `ttl` (at most `capacity` users), so a busy app does not call the Backend API on
    /// every request. Default: no cache. A `ttl` above 5 minutes is refused (stale users hide bans and deletions).
    pub const fn user_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.user_cache = Some((capacity, ttl));
        self
    }

    /// Builds the authenticator.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] without a verifier or client, when fetching users without a client, or for a user
    /// cache TTL over 5 minutes.
    pub fn build(self) -> Result<Authenticator, Error> {
        let verifier = match (self.verifier, &self.client) {
            (Some(v), _) => v,
            (None, Some(c)) => c.verifier().build().map_err(|e| Error::InvalidRequest(e.to_string()))?,
            (None, None) => return Err(Error::InvalidRequest("a verifier or a client is required".to_owned())),
        };
        if self.fetch_user == FetchUser::Always && self.client.is_none() {
            return Err(Error::InvalidRequest("fetching users needs a Backend API client".to_owned()));
        }
        let user_cache = match self.user_cache {
            Some((_, ttl)) if ttl > Duration::from_secs(300) => {
                return Err(Error::InvalidRequest("the user cache TTL must be at most 5 minutes".to_owned()));
            }
            Some((capacity, ttl)) if capacity > 0 && !ttl.is_zero() => {
                Some(UserCache { cache: quick_cache::sync::Cache::new(capacity), ttl })
            }
            _ => None,
        };
        Ok(Authenticator {
            inner: Arc::new(Inner { verifier, client: self.client, fetch_user: self.fetch_user, user_cache }),
        })
    }
}

fn reason_str(r: Reason) -> &'static str {
    r.as_str()
}

impl Authenticator {
    /// A builder.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder::default()
    }

    /// The verifier in use.
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Whether users are fetched.
    #[must_use]
    pub fn fetch_user(&self) -> FetchUser {
        self.inner.fetch_user
    }

    /// Authenticates a request by its headers. `Ok(None)`: no credentials at all (signed out).
    ///
    /// # Errors
    /// [`Failure`]: refused credentials (401) or an outage (503).
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Option<Authenticated>, Failure> {
        let outcome = self.inner.verifier.verify_request(headers).await;
        let (auth, origin) = match outcome {
            Ok(None) => return Ok(None),
            Ok(Some(found)) => found,
            Err(RequestAuthError::Source(_)) => {
                let f = Failure::Unauthorized { token_present: true, reason: reason_str(Reason::TokenInvalid) };
                tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused: unreadable credentials");
                return Err(f);
            }
            Err(RequestAuthError::Verify(e)) if e.is_key_unavailable() => {
                let f = Failure::Unavailable { reason: reason_str(e.reason()) };
                tracing::warn!(target: "clerk::auth", reason = f.reason(), error = %e, "cannot verify: keys unavailable");
                return Err(f);
            }
            Err(RequestAuthError::Verify(e)) => {
                let f = Failure::Unauthorized { token_present: true, reason: reason_str(e.reason()) };
                tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused");
                return Err(f);
            }
            Err(_) => return Err(Failure::Unauthorized { token_present: true, reason: "token-invalid" }),
        };
        let user = match self.inner.fetch_user {
            FetchUser::Never => None,
            FetchUser::Always => Some(self.user(auth.user_id().as_str()).await?),
        };
        Ok(Some(Authenticated { auth, origin, user }))
    }

    /// Loads a user through the Backend API (or the user cache): what [`FetchUser::Always`] does for every
    /// request, available on demand so a framework adapter can fetch only for the routes that need the user.
    ///
    /// # Errors
    /// [`Failure::Unauthorized`] (`user-not-found`) when the user no longer exists; [`Failure::Unavailable`] when
    /// the Backend API cannot be reached or no client is configured.
    pub async fn user(&self, user_id: &str) -> Result<Arc<FetchedUser>, Failure> {
        if let Some(c) = &self.inner.user_cache
            && let Some((at, user)) = c.cache.get(user_id)
            && at.elapsed() < c.ttl
        {
            return Ok(user);
        }
        let Some(client) = &self.inner.client else {
            return Err(Failure::Unavailable { reason: "no-backend-api-client" });
        };
        let req = Req::new(http::Method::GET, "GetUser")
            .lit("/users/")
            .seg("user_id", user_id)
            .map_err(|_| Failure::Unauthorized { token_present: true, reason: "token-invalid" })?;
        let resp = match client.execute(&req).await {
            Ok(r) => r,
            Err(Error::Api(e)) if e.is_not_found() => {
                tracing::info!(target: "clerk::auth", reason = "user-not-found", "request refused: the token's user no longer exists");
                return Err(Failure::Unauthorized { token_present: true, reason: "user-not-found" });
            }
            Err(e) => {
                tracing::warn!(target: "clerk::auth", error = %e, "cannot load the user from the Backend API");
                return Err(Failure::Unavailable { reason: "user-fetch-failed" });
            }
        };
        let fetched = decode_user(resp.body()).map_err(|e| {
            tracing::warn!(target: "clerk::auth", error = %e, "the Backend API answered a user that does not decode");
            Failure::Unavailable { reason: "user-fetch-failed" }
        })?;
        let fetched = Arc::new(fetched);
        if let Some(c) = &self.inner.user_cache {
            c.cache.insert(user_id.to_owned(), (Instant::now(), Arc::clone(&fetched)));
        }
        Ok(fetched)
    }
}

fn decode_user(body: &Bytes) -> Result<FetchedUser, Error> {
    let raw: serde_json::Value = crate::client::decode(200, body)?;
    let user: User = crate::client::decode(200, body)?;
    Ok(FetchedUser { user, raw })
}
