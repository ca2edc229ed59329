//! Machine tokens: API keys, M2M tokens and OAuth access tokens, classified as Clerk's official JavaScript SDK
//! classifies them, and the verified [`MachineAuth`].
//!
//! | kind | opaque form | JWT form | verified by |
//! |---|---|---|---|
//! | [`TokenType::ApiKey`] | `ak_…` | — | the Backend API (`POST /api_keys/verify`) |
//! | [`TokenType::M2mToken`] | `mt_…` | `sub` starts with `mch_` | the Backend API, or the instance JWKS |
//! | [`TokenType::OAuthToken`] | `oat_…` | header `typ` `at+jwt` (RFC 9068) | the Backend API, or the instance JWKS |
//!
//! Anything else is a session token. JWT forms are verified locally by
//! [`Verifier::verify_machine_jwt`](crate::Verifier::verify_machine_jwt); opaque forms need the Backend API (the
//! `clerk-api` crate). Machine tokens are only ever read from the `Authorization` header, never from a cookie.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ids::{MachineId, OrganizationId, UserId};
use crate::jwk::B64URL;

/// The prefix of machine ids, the subject of M2M tokens.
pub(crate) const MACHINE_SUBJECT_PREFIX: &str = "mch_";
const API_KEY_PREFIX: &str = "ak_";
const M2M_TOKEN_PREFIX: &str = "mt_";
const OAUTH_TOKEN_PREFIX: &str = "oat_";

/// The longest token [`TokenType::of`] looks inside. Longer input is not decoded and classifies as a session token
/// (which session verification then refuses for its size).
const MAX_CLASSIFY_BYTES: usize = 16 * 1024;
/// The longest JOSE header [`TokenType::of`] decodes (as the verifier's bound).
const MAX_HEADER: usize = 1024;

/// Whether a header `typ` names an OAuth 2.0 JWT access token (RFC 9068: `at+jwt` or `application/at+jwt`, compared
/// without regard to ASCII case, as media types are).
pub(crate) fn is_access_token_typ(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
}

/// Whether a JSON text starts as an object (after whitespace).
pub(crate) fn is_json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The kind of a bearer token, with the names Clerk's JavaScript SDK uses (`TokenType` in `@clerk/backend`).
///
/// ```
/// use clerk_core::TokenType;
/// assert_eq!(TokenType::of("ak_2b8f…"), TokenType::ApiKey);
/// assert_eq!(TokenType::of("mt_81c0…"), TokenType::M2mToken);
/// assert_eq!(TokenType::of("oat_5d2e…"), TokenType::OAuthToken);
/// assert_eq!(TokenType::of("eyJhbGciOi…"), TokenType::SessionToken);
/// assert_eq!(TokenType::M2mToken.as_str(), "m2m_token");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// A Clerk session token (a JWT), `session_token`.
    SessionToken,
    /// An API key (`ak_…`), `api_key`.
    ApiKey,
    /// A machine-to-machine token (`mt_…`, or a JWT whose subject is a machine `mch_…`), `m2m_token`.
    M2mToken,
    /// An OAuth access token (`oat_…`, or an RFC 9068 JWT with header `typ: at+jwt`), `oauth_token`.
    OAuthToken,
}

impl TokenType {
    /// Every kind, in the order [`TokenTypes`] lists them.
    const EVERY: [Self; 4] = [Self::SessionToken, Self::ApiKey, Self::M2mToken, Self::OAuthToken];

    /// The name Clerk's JavaScript SDK gives this kind: `session_token`, `api_key`, `m2m_token`, `oauth_token`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SessionToken => "session_token",
            Self::ApiKey => "api_key",
            Self::M2mToken => "m2m_token",
            Self::OAuthToken => "oauth_token",
        }
    }

    /// Whether this is a machine token (anything but a session token).
    #[must_use]
    pub const fn is_machine(self) -> bool {
        !matches!(self, Self::SessionToken)
    }

    /// The kind of an opaque machine token by its prefix alone: `ak_` → API key, `mt_` → M2M token, `oat_` → OAuth
    /// access token; `None` otherwise (a JWT, or garbage). Costs a few byte comparisons.
    #[must_use]
    pub fn from_prefix(token: &str) -> Option<Self> {
        if token.starts_with(M2M_TOKEN_PREFIX) {
            Some(Self::M2mToken)
        } else if token.starts_with(OAUTH_TOKEN_PREFIX) {
            Some(Self::OAuthToken)
        } else if token.starts_with(API_KEY_PREFIX) {
            Some(Self::ApiKey)
        } else {
            None
        }
    }

    /// Classifies a bearer token as Clerk's JavaScript SDK does (`getMachineTokenType`, `isM2MJwt`, `isOAuthJwt`):
    ///
    /// 1. the opaque prefixes ([`from_prefix`](Self::from_prefix));
    /// 2. a compact JWT (three non-empty base64url segments) whose payload `sub` is a string starting with `mch_` →
    ///    [`M2mToken`](Self::M2mToken);
    /// 3. a compact JWT whose header `typ` is `at+jwt` or `application/at+jwt` → [`OAuthToken`](Self::OAuthToken);
    /// 4. anything else → [`SessionToken`](Self::SessionToken) (including garbage, which session verification then
    ///    refuses).
    ///
    /// Nothing is verified: the answer only routes the token to the right verification. Cheap and panic-free on any
    /// input: a token over 16 KiB is not decoded, the header is decoded into a fixed buffer, and no signature is
    /// checked.
    #[must_use]
    pub fn of(token: &str) -> Self {
        Self::from_prefix(token).unwrap_or_else(|| classify_jwt(token.as_bytes()))
    }

    const fn bit(self) -> u8 {
        match self {
            Self::SessionToken => 1,
            Self::ApiKey => 2,
            Self::M2mToken => 4,
            Self::OAuthToken => 8,
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn classify_jwt(bytes: &[u8]) -> TokenType {
    if bytes.len() > MAX_CLASSIFY_BYTES || !bytes.iter().all(|&b| is_b64url(b) || b == b'.') {
        return TokenType::SessionToken;
    }
    let mut dots = memchr::memchr_iter(b'.', bytes);
    let (Some(d1), Some(d2), None) = (dots.next(), dots.next(), dots.next()) else {
        return TokenType::SessionToken;
    };
    let (h64, p64, s64) = (&bytes[..d1], &bytes[d1 + 1..d2], &bytes[d2 + 1..]);
    if h64.is_empty() || p64.is_empty() || s64.is_empty() {
        return TokenType::SessionToken;
    }
    // Clerk's order: a machine subject makes an M2M token whatever the header says; then the header's `typ`.
    if payload_has_machine_subject(p64) {
        TokenType::M2mToken
    } else if header_is_access_token(h64) {
        TokenType::OAuthToken
    } else {
        TokenType::SessionToken
    }
}

fn payload_has_machine_subject(p64: &[u8]) -> bool {
    B64URL.decode(p64).is_ok_and(|payload| json_has_machine_subject(&payload))
}

/// Whether a JWT payload (JSON) is an object whose `sub` is a string starting with `mch_`, whatever its other
/// claims. A `sub` that is not a string (or a duplicated one) fails the parse: not a machine subject, as in the JS
/// SDK.
pub(crate) fn json_has_machine_subject(payload: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Subject<'a> {
        #[serde(borrow)]
        sub: Option<Cow<'a, str>>,
    }
    is_json_object(payload)
        && serde_json::from_slice::<Subject<'_>>(payload)
            .ok()
            .and_then(|s| s.sub)
            .is_some_and(|s| s.starts_with(MACHINE_SUBJECT_PREFIX))
}

fn header_is_access_token(h64: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Typ<'a> {
        #[serde(borrow)]
        typ: Option<Cow<'a, str>>,
    }
    if h64.len() > MAX_HEADER * 4 / 3 + 4 {
        return false;
    }
    let mut buf = [0u8; MAX_HEADER + 8];
    let Ok(len) = B64URL.decode_slice(h64, &mut buf) else { return false };
    let json = &buf[..len];
    if !is_json_object(json) {
        return false;
    }
    serde_json::from_slice::<Typ<'_>>(json).ok().and_then(|h| h.typ).is_some_and(|t| is_access_token_typ(&t))
}

/// A set of [`TokenType`]s: which kinds an endpoint accepts. Small and `Copy`; the default is
/// [`SESSION`](Self::SESSION), so machine tokens must be opted into.
///
/// ```
/// use clerk_core::{TokenType, TokenTypes};
/// let api = TokenTypes::only(TokenType::ApiKey).with(TokenType::M2mToken);
/// assert!(api.contains(TokenType::ApiKey) && !api.contains(TokenType::SessionToken));
/// assert_eq!(TokenTypes::default(), TokenTypes::SESSION);
/// assert_eq!(format!("{:?}", TokenTypes::MACHINE), r#"{"api_key", "m2m_token", "oauth_token"}"#);
/// let from_list: TokenTypes = [TokenType::SessionToken, TokenType::OAuthToken].into_iter().collect();
/// assert!(from_list.contains(TokenType::OAuthToken));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenTypes(u8);

impl TokenTypes {
    /// No kind at all: every token is refused.
    pub const NONE: Self = Self(0);
    /// Session tokens only. The default.
    pub const SESSION: Self = Self(TokenType::SessionToken.bit());
    /// The three machine kinds: API keys, M2M tokens and OAuth access tokens.
    pub const MACHINE: Self = Self(TokenType::ApiKey.bit() | TokenType::M2mToken.bit() | TokenType::OAuthToken.bit());
    /// Every kind (the JS SDK's `acceptsToken: 'any'`).
    pub const ALL: Self = Self(Self::SESSION.0 | Self::MACHINE.0);

    /// Only this kind.
    #[must_use]
    pub const fn only(t: TokenType) -> Self {
        Self(t.bit())
    }

    /// This set and `t`.
    #[must_use]
    pub const fn with(self, t: TokenType) -> Self {
        Self(self.0 | t.bit())
    }

    /// This set without `t`.
    #[must_use]
    pub const fn without(self, t: TokenType) -> Self {
        Self(self.0 & !t.bit())
    }

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether `t` is in the set.
    #[must_use]
    pub const fn contains(self, t: TokenType) -> bool {
        self.0 & t.bit() != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether any machine kind is in the set.
    #[must_use]
    pub const fn accepts_machine(self) -> bool {
        self.0 & Self::MACHINE.0 != 0
    }

    /// The kinds in the set.
    pub fn iter(self) -> impl Iterator<Item = TokenType> {
        TokenType::EVERY.into_iter().filter(move |t| self.contains(*t))
    }
}

impl Default for TokenTypes {
    fn default() -> Self {
        Self::SESSION
    }
}

impl From<TokenType> for TokenTypes {
    fn from(t: TokenType) -> Self {
        Self::only(t)
    }
}

impl FromIterator<TokenType> for TokenTypes {
    fn from_iter<I: IntoIterator<Item = TokenType>>(iter: I) -> Self {
        iter.into_iter().fold(Self::NONE, Self::with)
    }
}

impl fmt::Debug for TokenTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(TokenType::as_str)).finish()
    }
}

/// How a machine token travels: an opaque string verified by the Backend API, or a JWT verified locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenFormat {
    /// An opaque string (`ak_…`, `mt_…`, `oat_…`), verified by the Backend API on every request.
    Opaque,
    /// A JWT signed by the instance key, verified against the instance JWKS.
    Jwt,
}

impl TokenFormat {
    /// `opaque` or `jwt`, as the Backend API's `token_format` spells them.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
        }
    }
}

/// JWT claims mapped onto fields of an M2M token (the JS SDK's `M2M_RESERVED_JWT_CLAIMS`): everything else in the
/// payload is a custom claim.
const M2M_RESERVED_CLAIMS: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];
/// Secrets a Backend API object may carry (creation answers); never kept.
const SECRET_FIELDS: [&str; 2] = ["secret", "token"];

/// The fields every kind maps onto, before the subject-derived ones.
struct Fields {
    scopes: Vec<String>,
    claims: Option<Map<String, Value>>,
    name: Option<String>,
    client_id: Option<String>,
    expires_at_ms: Option<i64>,
}

struct MachineInner {
    token_type: TokenType,
    format: TokenFormat,
    id: String,
    subject: String,
    machine_id: Option<MachineId>,
    user_id: Option<UserId>,
    org_id: Option<OrganizationId>,
    scopes: Vec<String>,
    claims: Option<Map<String, Value>>,
    name: Option<String>,
    client_id: Option<String>,
    expires_at_ms: Option<i64>,
    raw: Map<String, Value>,
}

/// A verified machine token: an API key, an M2M token or an OAuth access token. Cheap to clone (one reference
/// count).
///
/// Built by [`Verifier::verify_machine_jwt`](crate::Verifier::verify_machine_jwt) for JWTs and by the Backend API
/// client (`clerk-api`) for opaque tokens. It never holds the token or a secret: `Debug` and [`raw`](Self::raw) are
/// safe to log.
#[derive(Clone)]
pub struct MachineAuth(Arc<MachineInner>);

impl fmt::Debug for MachineAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.0;
        f.debug_struct("MachineAuth")
            .field("token_type", &i.token_type)
            .field("format", &i.format)
            .field("id", &i.id)
            .field("subject", &i.subject)
            .field("scopes", &i.scopes)
            .field("name", &i.name)
            .field("client_id", &i.client_id)
            .field("expires_at_ms", &i.expires_at_ms)
            .finish_non_exhaustive()
    }
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(s.split_ascii_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    }
}

fn string_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl MachineAuth {
    fn build(
        token_type: TokenType,
        format: TokenFormat,
        id: String,
        subject: String,
        fields: Fields,
        mut raw: Map<String, Value>,
    ) -> Self {
        let Fields { scopes, claims, name, client_id, expires_at_ms } = fields;
        for secret in SECRET_FIELDS {
            raw.remove(secret);
        }
        let prefixed = |p: &str| subject.starts_with(p).then(|| subject.clone());
        Self(Arc::new(MachineInner {
            token_type,
            format,
            machine_id: prefixed(MachineId::PREFIX).map(MachineId::new),
            user_id: prefixed(UserId::PREFIX).map(UserId::new),
            org_id: prefixed(OrganizationId::PREFIX).map(OrganizationId::new),
            id,
            subject,
            scopes,
            claims,
            name,
            client_id,
            expires_at_ms,
            raw,
        }))
    }

    /// Builds the auth object of a verified machine JWT from its payload, as the JS SDK's `fromJwtPayload`s read it:
    /// M2M scopes from `scopes` (space-separated) else `aud`, custom claims = the payload minus
    /// `iss sub exp nbf iat jti`; OAuth scopes from `scp` else `scope` (space-separated, RFC 9068).
    pub(crate) fn from_jwt(token_type: TokenType, payload: Map<String, Value>, subject: String, exp_ms: i64) -> Self {
        let id = string_field(&payload, "jti").unwrap_or_default();
        let (scopes, claims, client_id) = if token_type == TokenType::M2mToken {
            let scopes =
                string_list(payload.get("scopes")).or_else(|| string_list(payload.get("aud"))).unwrap_or_default();
            let custom: Map<String, Value> = payload
                .iter()
                .filter(|(k, _)| !M2M_RESERVED_CLAIMS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (scopes, (!custom.is_empty()).then_some(custom), None)
        } else {
            let scopes =
                string_list(payload.get("scp")).or_else(|| string_list(payload.get("scope"))).unwrap_or_default();
            (scopes, None, string_field(&payload, "client_id"))
        };
        Self::build(
            token_type,
            TokenFormat::Jwt,
            id,
            subject,
            Fields { scopes, claims, name: None, client_id, expires_at_ms: Some(exp_ms) },
            payload,
        )
    }

    /// Builds the auth object from a Backend API verification answer (the `APIKey`, `M2MToken` or
    /// `OAuthAccessToken` object of `POST /api_keys/verify`, `POST /m2m_tokens/verify` or
    /// `POST /oauth_applications/access_tokens/verify`), with [`format`](Self::format) `Opaque`.
    ///
    /// This is a conversion, not a verification: call it only with an object the Backend API returned for a token it
    /// verified (`clerk-api` does). Any `secret` or `token` field is dropped. The kind is the one the object says it
    /// is (`object`: `api_key`, `machine_to_machine_token`, `clerk_idp_oauth_access_token`), `token_type` (the kind
    /// that was asked about) only when it says nothing, so a caller comparing the two sees an answer about another
    /// kind of token. `None` when `token_type` is [`TokenType::SessionToken`], the object names a kind this SDK does
    /// not know, or it has no string `id` and `subject`.
    #[must_use]
    pub fn from_backend_api_object(token_type: TokenType, object: Map<String, Value>) -> Option<Self> {
        if !token_type.is_machine() {
            return None;
        }
        let token_type = match object.get("object") {
            None | Some(Value::Null) => token_type,
            Some(Value::String(kind)) => match kind.as_str() {
                "api_key" => TokenType::ApiKey,
                "machine_to_machine_token" => TokenType::M2mToken,
                "clerk_idp_oauth_access_token" => TokenType::OAuthToken,
                _ => return None,
            },
            Some(_) => return None,
        };
        let id = string_field(&object, "id")?;
        let subject = string_field(&object, "subject")?;
        let scopes = string_list(object.get("scopes")).unwrap_or_default();
        let claims = object.get("claims").and_then(Value::as_object).cloned();
        let name = string_field(&object, "name");
        let client_id = string_field(&object, "client_id");
        #[allow(clippy::cast_possible_truncation)]
        let expires_at_ms = object
            .get("expiration")
            .and_then(Value::as_f64)
            .filter(|ms| ms.is_finite() && ms.abs() < 9.0e15)
            .map(|ms| ms.floor() as i64);
        Some(Self::build(
            token_type,
            TokenFormat::Opaque,
            id,
            subject,
            Fields { scopes, claims, name, client_id, expires_at_ms },
            object,
        ))
    }

    /// The kind of token: API key, M2M token or OAuth access token.
    #[must_use]
    pub fn token_type(&self) -> TokenType {
        self.0.token_type
    }

    /// Opaque (verified by the Backend API) or JWT (verified locally).
    #[must_use]
    pub fn format(&self) -> TokenFormat {
        self.0.format
    }

    /// The token's id: the API key id (`ak_…`), the M2M token id (`mt_…`), the OAuth access token id (`oat_…`); for
    /// JWTs the `jti` (empty when the token has none). Not the secret.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Whom the token stands for: a machine (`mch_…`) for M2M tokens, a user (`user_…`) for OAuth access tokens, and
    /// a user, an organization (`org_…`) or a machine for API keys.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The subject when it is a machine (`mch_…`).
    #[must_use]
    pub fn machine_id(&self) -> Option<&MachineId> {
        self.0.machine_id.as_ref()
    }

    /// The subject when it is a user (`user_…`).
    #[must_use]
    pub fn user_id(&self) -> Option<&UserId> {
        self.0.user_id.as_ref()
    }

    /// The subject when it is an organization (`org_…`).
    #[must_use]
    pub fn org_id(&self) -> Option<&OrganizationId> {
        self.0.org_id.as_ref()
    }

    /// The scopes: the API key's scopes, the machines an M2M token may call, the OAuth scopes granted.
    #[must_use]
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Whether `scope` is among [`scopes`](Self::scopes) (exact match).
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
    }

    /// The custom claims given when the API key or M2M token was created (for M2M JWTs: the payload without the
    /// registered claims). `None` for OAuth access tokens and when there are none.
    #[must_use]
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.0.claims.as_ref()
    }

    /// The API key's name.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The OAuth application's client id (OAuth access tokens).
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// Expiry in milliseconds since the epoch; `None` for a token that does not expire.
    #[must_use]
    pub fn expires_at_ms(&self) -> Option<i64> {
        self.0.expires_at_ms
    }

    /// Everything Clerk said: the Backend API's JSON object (without any secret) or the JWT payload.
    #[must_use]
    pub fn raw(&self) -> &Map<String, Value> {
        &self.0.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(header: &Value, payload: &Value) -> String {
        format!(
            "{}.{}.c2ln",
            B64URL.encode(header.to_string().as_bytes()),
            B64URL.encode(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn classification_follows_the_js_sdk() {
        let session = jwt(&json!({"alg": "RS256", "typ": "JWT"}), &json!({"sub": "user_1"}));
        assert_eq!(TokenType::of(&session), TokenType::SessionToken);
        let m2m = jwt(&json!({"alg": "RS256", "typ": "JWT"}), &json!({"sub": "mch_1"}));
        assert_eq!(TokenType::of(&m2m), TokenType::M2mToken);
        let oauth = jwt(&json!({"alg": "RS256", "typ": "at+jwt"}), &json!({"sub": "user_1"}));
        assert_eq!(TokenType::of(&oauth), TokenType::OAuthToken);
        let oauth = jwt(&json!({"typ": "Application/AT+JWT"}), &json!({}));
        assert_eq!(TokenType::of(&oauth), TokenType::OAuthToken);
        // The machine subject wins over the header, as in the JS SDK.
        let both = jwt(&json!({"typ": "at+jwt"}), &json!({"sub": "mch_1"}));
        assert_eq!(TokenType::of(&both), TokenType::M2mToken);
        // A non-string `sub`, an array payload: not machine subjects.
        assert_eq!(TokenType::of(&jwt(&json!({}), &json!({"sub": 5}))), TokenType::SessionToken);
        assert_eq!(TokenType::of(&jwt(&json!({}), &json!(["mch_1"]))), TokenType::SessionToken);
        assert_eq!(TokenType::of(&jwt(&json!(["at+jwt"]), &json!({}))), TokenType::SessionToken);
    }

    #[test]
    fn token_types_set() {
        let s = TokenTypes::NONE.with(TokenType::ApiKey).with(TokenType::OAuthToken);
        assert!(s.contains(TokenType::ApiKey) && s.contains(TokenType::OAuthToken));
        assert!(!s.contains(TokenType::M2mToken) && !s.contains(TokenType::SessionToken));
        assert_eq!(s.without(TokenType::ApiKey), TokenTypes::only(TokenType::OAuthToken));
        assert_eq!(TokenTypes::SESSION.union(TokenTypes::MACHINE), TokenTypes::ALL);
        assert!(TokenTypes::NONE.is_empty() && !TokenTypes::SESSION.accepts_machine());
        assert_eq!(TokenTypes::ALL.iter().count(), 4);
        assert_eq!(format!("{:?}", TokenTypes::SESSION), r#"{"session_token"}"#);
        assert!(TokenType::ApiKey.is_machine() && !TokenType::SessionToken.is_machine());
        assert_eq!(TokenType::OAuthToken.to_string(), "oauth_token");
    }

    #[test]
    fn backend_objects_drop_secrets() {
        let obj = json!({"object": "api_key", "id": "ak_1", "subject": "org_9", "name": "ci", "secret": "ak_secret",
            "scopes": ["read", "write"], "claims": {"tier": "gold"}, "expiration": 1.7e12});
        let Value::Object(map) = obj else { unreachable!() };
        let a = MachineAuth::from_backend_api_object(TokenType::ApiKey, map).unwrap();
        assert_eq!(a.org_id().unwrap(), "org_9");
        assert!(a.user_id().is_none() && a.machine_id().is_none());
        assert!(a.has_scope("write") && !a.has_scope("admin"));
        assert_eq!(a.claims().unwrap()["tier"], "gold");
        assert_eq!(a.expires_at_ms(), Some(1_700_000_000_000));
        assert!(!a.raw().contains_key("secret"));
        assert!(!format!("{a:?}").contains("ak_secret"));
        assert!(MachineAuth::from_backend_api_object(TokenType::SessionToken, Map::new()).is_none());
        assert!(MachineAuth::from_backend_api_object(TokenType::ApiKey, Map::new()).is_none());
    }

    /// The kind comes from the answer's `object`, so an answer about another kind of token than the one asked about
    /// shows (the engine refuses it); without `object`, the kind asked about.
    #[test]
    fn backend_objects_say_their_own_kind() {
        let object = |kind: Value| {
            let Value::Object(map) = json!({"object": kind, "id": "x_1", "subject": "user_1"}) else { unreachable!() };
            map
        };
        let kind_of = |asked, kind| MachineAuth::from_backend_api_object(asked, object(kind)).map(|a| a.token_type());
        assert_eq!(kind_of(TokenType::ApiKey, json!("api_key")), Some(TokenType::ApiKey));
        assert_eq!(kind_of(TokenType::ApiKey, json!("machine_to_machine_token")), Some(TokenType::M2mToken));
        assert_eq!(kind_of(TokenType::M2mToken, json!("clerk_idp_oauth_access_token")), Some(TokenType::OAuthToken));
        assert_eq!(kind_of(TokenType::OAuthToken, json!(null)), Some(TokenType::OAuthToken));
        assert_eq!(kind_of(TokenType::ApiKey, json!("session")), None);
        assert_eq!(kind_of(TokenType::ApiKey, json!(5)), None);
    }
}
