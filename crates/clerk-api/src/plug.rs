//! The Elixir `AuthenticationPlug`'s logic, framework-neutral: find and verify the session token, optionally load
//! the user through the Backend API (with a short, bounded cache), and say what to answer. `clerk-axum` and
//! `clerk-actix` are thin adapters over [`Authenticator`].
//!
//! Machine tokens (API keys, M2M tokens, OAuth access tokens) are accepted only where asked for
//! ([`AuthenticatorBuilder::accepts`], [`Authenticator::accepting`]); they are read from the `Authorization` header
//! only. A token of a kind the endpoint does not accept is refused (`token-type-mismatch`) before any network call or
//! RSA work. See `docs/decisions/0009-machine-auth.md`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_core::{
    CredentialHeaders, MachineAuth, Reason, SessionAuth, TokenOrigin, TokenType, TokenTypes, Verifier, VerifyError,
};

use crate::error::Error;
use crate::machine::{MachineVerifyError, NegativeCache};
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

/// Who a request is authenticated as.
#[derive(Clone)]
enum Principal {
    Session(SessionAuth),
    Machine(MachineAuth),
}

/// An authenticated request: a verified session (and, when fetched, its user) or a verified machine token.
#[derive(Clone)]
pub struct Authenticated {
    principal: Principal,
    origin: TokenOrigin,
    user: Option<Arc<FetchedUser>>,
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Authenticated");
        match &self.principal {
            Principal::Session(s) => d.field("session", s),
            Principal::Machine(m) => d.field("machine", m),
        };
        d.field("origin", &self.origin).field("user", &self.user.as_ref().map(|u| u.user.id.clone())).finish()
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
    /// The verified session, when a session token authenticated the request.
    #[must_use]
    pub const fn session(&self) -> Option<&SessionAuth> {
        match &self.principal {
            Principal::Session(s) => Some(s),
            Principal::Machine(_) => None,
        }
    }

    /// The verified machine token (API key, M2M token, OAuth access token), when one authenticated the request.
    #[must_use]
    pub const fn machine(&self) -> Option<&MachineAuth> {
        match &self.principal {
            Principal::Session(_) => None,
            Principal::Machine(m) => Some(m),
        }
    }

    /// The kind of token that authenticated the request.
    #[must_use]
    pub fn token_type(&self) -> TokenType {
        match &self.principal {
            Principal::Session(_) => TokenType::SessionToken,
            Principal::Machine(m) => m.token_type(),
        }
    }

    /// Where the token came from (header or cookie; machine tokens always come from the header).
    #[must_use]
    pub const fn origin(&self) -> TokenOrigin {
        self.origin
    }

    /// The user, when the authenticator fetches users (session tokens only).
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
    /// Clerk could not be reached to judge the credentials (keys or the user could not be loaded, the Backend API
    /// could not verify an opaque machine token): answer 503 (or the configured status), never 401: an outage must
    /// not log users out.
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
    negative_cache: Option<NegativeCache>,
}

/// Authenticates requests: token → verified session (→ optionally the user), or verified machine token. Cheap to
/// clone; [`accepting`](Self::accepting) makes a copy that accepts other token types, sharing everything else.
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
            .field("user_cache_ttl", &self.inner.user_cache.as_ref().map(|c| c.ttl))
            .field("machine_negative_cache_ttl", &self.inner.negative_cache.as_ref().map(NegativeCache::ttl))
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
    accepts: TokenTypes,
    negative_cache: Option<(usize, Duration)>,
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

    /// The token types accepted. Default [`TokenTypes::SESSION`]: machine tokens are refused
    /// (`token-type-mismatch`) unless listed. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are verified by the
    /// Backend API and need a [`client`](Self::client); JWT forms (M2M JWTs, OAuth `at+jwt`) are verified locally.
    /// Per-route variations: [`Authenticator::accepting`].
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
    /// [`Error::InvalidRequest`] without a verifier or client, when fetching users without a client, or for a user
    /// cache or machine negative cache TTL over 5 minutes.
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
        let negative_cache = match self.negative_cache {
            Some((_, ttl)) if ttl > Duration::from_secs(300) => {
                return Err(Error::InvalidRequest(
                    "the machine negative cache TTL must be at most 5 minutes".to_owned(),
                ));
            }
            Some((capacity, ttl)) if capacity > 0 && !ttl.is_zero() => Some(NegativeCache::new(capacity, ttl)),
            _ => None,
        };
        Ok(Authenticator {
            inner: Arc::new(Inner {
                verifier,
                client: self.client,
                fetch_user: self.fetch_user,
                user_cache,
                negative_cache,
            }),
            accepts: self.accepts,
        })
    }
}

fn reason_str(r: Reason) -> &'static str {
    r.as_str()
}

/// The answer for a token of a kind the endpoint does not accept: no network call, no RSA work.
fn mismatch(kind: TokenType) -> Failure {
    let f = Failure::Unauthorized { token_present: true, reason: reason_str(Reason::TokenTypeMismatch) };
    tracing::info!(target: "clerk::auth", reason = f.reason(), token_type = kind.as_str(), "request refused: token type not accepted");
    f
}

/// The answer for a token verification refused or impossible: 503 when the keys could not be had, else 401.
fn refused(e: &VerifyError) -> Failure {
    if e.is_key_unavailable() {
        let f = Failure::Unavailable { reason: reason_str(e.reason()) };
        tracing::warn!(target: "clerk::auth", reason = f.reason(), error = %e, "cannot verify: keys unavailable");
        f
    } else {
        let f = Failure::Unauthorized { token_present: true, reason: reason_str(e.reason()) };
        tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused");
        f
    }
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

    /// The token types this authenticator accepts.
    #[must_use]
    pub const fn accepted_types(&self) -> TokenTypes {
        self.accepts
    }

    /// A copy accepting `types` instead, sharing the verifier, the client and the caches (one reference count): for
    /// per-route layers, e.g. session tokens for the app and API keys for `/api`.
    #[must_use]
    pub fn accepting(&self, types: TokenTypes) -> Self {
        Self { inner: Arc::clone(&self.inner), accepts: types }
    }

    /// How many refused opaque machine tokens the negative cache holds (0 without one).
    #[must_use]
    pub fn machine_negative_cache_len(&self) -> usize {
        self.inner.negative_cache.as_ref().map_or(0, NegativeCache::len)
    }

    /// Authenticates a request by its headers. `Ok(None)`: no credentials at all (signed out).
    ///
    /// Session tokens come from `Authorization: Bearer`, else the session cookie; machine tokens from the header
    /// only (when session tokens are not accepted, cookies are not read at all). The header token is classified as
    /// Clerk's JS SDK does ([`TokenType::of`]); a kind not [accepted](AuthenticatorBuilder::accepts) is refused with
    /// `token-type-mismatch` before any network call or RSA work. Session tokens take the session path unchanged;
    /// machine JWTs are verified against the instance keys; opaque machine tokens by the Backend API, every time
    /// (never a positive cache), through the optional negative cache.
    ///
    /// # Errors
    /// [`Failure`]: refused credentials (401) or an outage (503).
    pub async fn authenticate<H: CredentialHeaders + Sync + ?Sized>(
        &self,
        headers: &H,
    ) -> Result<Option<Authenticated>, Failure> {
        let accepts = self.accepts;
        if let Some(hit) = self.cached_session(headers) {
            return match hit {
                Ok(auth) => self.signed_in(auth, TokenOrigin::Header).await,
                Err(e) => Err(refused(&e)),
            };
        }
        let found = if accepts.contains(TokenType::SessionToken) {
            self.inner.verifier.extractor().extract(headers).map(|f| f.map(|f| (f.token(), f.origin())))
        } else {
            clerk_core::bearer_token(headers).map(|t| t.map(|t| (t, TokenOrigin::Header)))
        };
        let (token, origin) = match found {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(_) => {
                let f = Failure::Unauthorized { token_present: true, reason: reason_str(Reason::TokenInvalid) };
                tracing::info!(target: "clerk::auth", reason = f.reason(), "request refused: unreadable credentials");
                return Err(f);
            }
        };
        // Opaque machine tokens, by prefix (a cookie is never a machine credential: it takes the session path).
        if origin == TokenOrigin::Header
            && let Some(kind) = TokenType::from_prefix(token)
        {
            if !accepts.contains(kind) {
                return Err(mismatch(kind));
            }
            // Boxed, here and below: these futures (an HTTP call) are large, and the middlewares box one
            // `authenticate` future per request; keeping them out of it keeps the session path's future small.
            let machine = Box::pin(self.verify_opaque(token, kind)).await?;
            return Ok(Some(Authenticated { principal: Principal::Machine(machine), origin, user: None }));
        }
        // Session tokens: the session verifier refuses machine JWTs itself (`token-type-mismatch`, before any key or
        // RSA work), so the session path pays nothing for machine support.
        if origin == TokenOrigin::Cookie || accepts.contains(TokenType::SessionToken) {
            match self.inner.verifier.verify(token).await {
                Ok(auth) => return self.signed_in(auth, origin).await,
                Err(e)
                    if e.reason() == Reason::TokenTypeMismatch
                        && origin == TokenOrigin::Header
                        && accepts.accepts_machine() => {}
                Err(e) => return Err(refused(&e)),
            }
        }
        // Machine JWTs (M2M JWTs, OAuth `at+jwt`), or anything else on an endpoint that takes no session tokens.
        let kind = TokenType::of(token);
        if !kind.is_machine() || !accepts.contains(kind) {
            return Err(mismatch(kind));
        }
        match Box::pin(self.inner.verifier.verify_machine_jwt(token)).await {
            Ok(machine) if accepts.contains(machine.token_type()) => {
                Ok(Some(Authenticated { principal: Principal::Machine(machine), origin, user: None }))
            }
            Ok(machine) => Err(mismatch(machine.token_type())),
            Err(e) => Err(refused(&e)),
        }
    }

    /// What [`authenticate`](Self::authenticate) answers when it can answer at once, without awaiting anything: for
    /// a session token in the `Authorization` header that the verifier's verified-token cache holds, when no user is
    /// to be fetched ([`FetchUser::Never`]). `None`: call `authenticate`.
    ///
    /// Most requests of a signed-in user carry a token verified before, so a middleware that tries this first
    /// decides them without allocating a future (both adapters do). The answer is the one `authenticate` would
    /// give, with the same `tracing` event for a refusal (a cached token that has expired since).
    #[must_use]
    pub fn authenticate_cached<H: CredentialHeaders + ?Sized>(
        &self,
        headers: &H,
    ) -> Option<Result<Authenticated, Failure>> {
        if self.inner.fetch_user != FetchUser::Never {
            return None;
        }
        Some(match self.cached_session(headers)? {
            Ok(auth) => {
                Ok(Authenticated { principal: Principal::Session(auth), origin: TokenOrigin::Header, user: None })
            }
            Err(e) => Err(refused(&e)),
        })
    }

    /// A session token verified before (most requests): found by its bytes in the verified-token cache, without
    /// reading or checking the header's text. `None`: not there (or session tokens not accepted); the full path
    /// decides.
    fn cached_session<H: CredentialHeaders + ?Sized>(&self, headers: &H) -> Option<Result<SessionAuth, VerifyError>> {
        if !self.accepts.contains(TokenType::SessionToken) {
            return None;
        }
        self.inner.verifier.verify_cached(clerk_core::bearer_token_bytes(headers)?)
    }

    /// A verified session, with its user when the authenticator fetches users.
    async fn signed_in(&self, auth: SessionAuth, origin: TokenOrigin) -> Result<Option<Authenticated>, Failure> {
        let user = match self.inner.fetch_user {
            FetchUser::Never => None,
            FetchUser::Always => Some(Box::pin(self.user(auth.user_id().as_str())).await?),
        };
        Ok(Some(Authenticated { principal: Principal::Session(auth), origin, user }))
    }

    /// An opaque machine token through the negative cache and the Backend API.
    async fn verify_opaque(&self, token: &str, kind: TokenType) -> Result<MachineAuth, Failure> {
        let invalid = Failure::Unauthorized { token_present: true, reason: reason_str(Reason::TokenInvalid) };
        if let Some(cache) = &self.inner.negative_cache
            && cache.contains(token)
        {
            tracing::info!(target: "clerk::auth", reason = invalid.reason(), token_type = kind.as_str(), "request refused: machine token refused recently");
            return Err(invalid);
        }
        let Some(client) = &self.inner.client else {
            tracing::warn!(target: "clerk::auth", token_type = kind.as_str(), "cannot verify an opaque machine token without a Backend API client");
            return Err(Failure::Unavailable { reason: "no-backend-api-client" });
        };
        match client.verify_machine_token(token).await {
            Ok(machine) if machine.token_type() == kind => Ok(machine),
            Ok(_) | Err(MachineVerifyError::UnexpectedResponse) => {
                tracing::warn!(target: "clerk::auth", token_type = kind.as_str(), "the Backend API answered an unexpected verification object");
                Err(Failure::Unavailable { reason: "unexpected-error" })
            }
            Err(e) if e.is_invalid() => {
                if let Some(cache) = &self.inner.negative_cache {
                    cache.insert(token);
                }
                tracing::info!(target: "clerk::auth", reason = invalid.reason(), token_type = kind.as_str(), "request refused");
                Err(invalid)
            }
            Err(e) => {
                let f = Failure::Unavailable { reason: e.code() };
                tracing::warn!(target: "clerk::auth", reason = f.reason(), token_type = kind.as_str(), error = %e, "cannot verify a machine token: Backend API unavailable");
                Err(f)
            }
        }
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
