//! The verified session: one auth object for v1 and v2 tokens, with `has()` authorization checks.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use crate::claims::{self, Actor, RawClaims, Str, Text};
use crate::ids::{OrganizationId, SessionId, UserId};

/// The status of the session a token belongs to (`sts`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionStatus {
    /// `active` (also assumed when the token has no `sts`).
    Active,
    /// `pending`: signed in but with tasks to finish (e.g. choose an organization). Treated as signed out unless
    /// the verifier accepts pending sessions.
    Pending,
    /// A status this SDK does not know yet.
    Unknown(String),
}

impl SessionStatus {
    fn from_claim(s: Option<&str>) -> Self {
        match s {
            None | Some("active") => Self::Active,
            Some("pending") => Self::Pending,
            Some(other) => Self::Unknown(other.to_owned()),
        }
    }

    /// The status as Clerk spells it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Unknown(s) => s,
        }
    }
}

/// The active organization of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActiveOrganization {
    /// The organization id.
    pub id: OrganizationId,
    /// Its slug, when the token carries it.
    pub slug: Option<String>,
    /// The member's role, always `org:`-prefixed (v2 tokens carry it unprefixed; it is normalised).
    pub role: Option<String>,
    /// The member's permissions, `org:<feature>:<permission>` (v2: decoded from `fea`, `o.per` and `o.fpm`).
    pub permissions: Vec<String>,
}

/// A reverification requirement: how recently the user must have verified, and with which factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reverification {
    /// 10 minutes, multi factor (`strict_mfa`).
    StrictMfa,
    /// 10 minutes, second factor (`strict`).
    Strict,
    /// 60 minutes, second factor (`moderate`).
    Moderate,
    /// 1 day, second factor (`lax`).
    Lax,
    /// A custom requirement.
    Custom {
        /// Which factors must be fresh.
        level: FactorLevel,
        /// How recent, in minutes.
        after_minutes: i64,
    },
}

/// Which factors a reverification requirement concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorLevel {
    /// The first factor only.
    FirstFactor,
    /// The second factor, or the first when no second factor is enrolled.
    SecondFactor,
    /// Both factors (the first alone when no second factor is enrolled).
    MultiFactor,
}

impl Reverification {
    /// The preset's name as the official SDKs spell it (`strict_mfa`, …); `None` for custom.
    #[must_use]
    pub const fn preset_name(self) -> Option<&'static str> {
        match self {
            Self::StrictMfa => Some("strict_mfa"),
            Self::Strict => Some("strict"),
            Self::Moderate => Some("moderate"),
            Self::Lax => Some("lax"),
            Self::Custom { .. } => None,
        }
    }

    /// The level and the freshness in minutes.
    #[must_use]
    pub const fn requirement(self) -> (FactorLevel, i64) {
        match self {
            Self::StrictMfa => (FactorLevel::MultiFactor, 10),
            Self::Strict => (FactorLevel::SecondFactor, 10),
            Self::Moderate => (FactorLevel::SecondFactor, 60),
            Self::Lax => (FactorLevel::SecondFactor, 1440),
            Self::Custom { level, after_minutes } => (level, after_minutes),
        }
    }
}

/// One authorization check for [`SessionAuth::has`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check<'a> {
    /// The member's role in the active organization (`org:admin` or `admin`).
    Role(&'a str),
    /// A permission in the active organization (`org:invoices:create` or `invoices:create`).
    Permission(&'a str),
    /// A feature of the plan: `o:`/`org:`/`organization:` or `u:`/`user:` scoped, unscoped = either.
    Feature(&'a str),
    /// A plan, scoped like features.
    Plan(&'a str),
    /// The user verified recently enough.
    Reverification(Reverification),
}

/// The organization claims as signed, decoded into [`ActiveOrganization`] on first use.
pub(crate) struct OrgRaw {
    id: Text,
    slug: Option<Text>,
    role: Option<Text>,
    /// v1: the list as given.
    permissions: Option<Vec<String>>,
    /// v2: `o.per` and `o.fpm`, decoded against the org features of `fea`.
    per: Option<Text>,
    fpm: Option<Text>,
}

pub(crate) struct AuthInner {
    pub(crate) user_id: UserId,
    pub(crate) session_id: Option<SessionId>,
    pub(crate) status: SessionStatus,
    pub(crate) actor: Option<Actor>,
    org_raw: Option<OrgRaw>,
    org: OnceLock<Option<ActiveOrganization>>,
    fea: Option<Text>,
    pla: Option<Text>,
    features: OnceLock<Vec<String>>,
    plans: OnceLock<Vec<String>>,
    pub(crate) fva: Option<[i64; 2]>,
    issuer: Option<Text>,
    authorized_party: Option<Text>,
    pub(crate) expires_at_ms: i64,
    pub(crate) not_before_ms: Option<i64>,
    pub(crate) issued_at_ms: Option<i64>,
    token_id: Option<Text>,
    pub(crate) version: u32,
    /// The token as received, and its decoded payload (most claim strings above are ranges of it). Two buffers,
    /// not one: each usually fits the allocator's per-thread cache (glibc's: up to 1 032 bytes), where the ~1.3 KB
    /// of both together took the slower, shared path on every fresh token and again when its cache entry is evicted.
    token: Box<str>,
    payload: Box<str>,
}

impl AuthInner {
    /// The payload as signed.
    pub(crate) fn payload(&self) -> &str {
        &self.payload
    }

    /// The token as received.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// Everything the auth object takes from the claims, owned (claim strings as ranges of the payload text), so the
/// payload can move into the auth object once the claims that borrowed it are gone.
pub(crate) struct AuthParts {
    user_id: UserId,
    session_id: Option<SessionId>,
    pub(crate) status: SessionStatus,
    actor: Option<Actor>,
    org_raw: Option<OrgRaw>,
    fea: Option<Text>,
    pla: Option<Text>,
    fva: Option<[i64; 2]>,
    issuer: Option<Text>,
    authorized_party: Option<Text>,
    not_before_ms: Option<i64>,
    issued_at_ms: Option<i64>,
    token_id: Option<Text>,
    version: u32,
}

impl AuthParts {
    /// From claims that passed every check (`sub` taken out of them), parsed from `payload`.
    pub(crate) fn new(c: RawClaims<'_>, payload: &str, sub: Str<'_>) -> Self {
        let t = |s: Option<Str<'_>>| s.map(|s| Text::new(s, payload));
        let version = c.v.unwrap_or(1);
        let (org_raw, fea, pla) = if version >= 2 {
            let org_raw = c.o.and_then(|o| {
                Some(OrgRaw {
                    id: Text::new(o.id?, payload),
                    slug: t(o.slg),
                    role: t(o.rol),
                    permissions: None,
                    per: t(o.per),
                    fpm: t(o.fpm),
                })
            });
            (org_raw, t(c.fea), t(c.pla))
        } else {
            let org_raw = c.org_id.map(|id| OrgRaw {
                id: Text::new(id, payload),
                slug: t(c.org_slug),
                role: t(c.org_role),
                permissions: Some(c.org_permissions.0.unwrap_or_default()),
                per: None,
                fpm: None,
            });
            (org_raw, None, None)
        };
        Self {
            user_id: UserId::new(sub.into_owned()),
            session_id: c.sid.map(|s| SessionId::new(s.into_owned())),
            status: SessionStatus::from_claim(c.sts.as_ref().map(Str::as_str)),
            actor: c.act,
            org_raw,
            fea,
            pla,
            fva: c.fva.0,
            issuer: t(c.iss),
            authorized_party: t(c.azp),
            not_before_ms: c.nbf.map(|d| d.0),
            issued_at_ms: c.iat.map(|d| d.0),
            token_id: t(c.jti),
            version,
        }
    }
}

/// A verified Clerk session. Cheap to clone (one reference count).
///
/// `Debug` prints ids and status but never the token.
#[derive(Clone)]
pub struct SessionAuth(pub(crate) Arc<AuthInner>);

impl fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.0;
        f.debug_struct("SessionAuth")
            .field("user_id", &i.user_id)
            .field("session_id", &i.session_id)
            .field("status", &i.status)
            .field("actor", &i.actor)
            .field("org", &self.org())
            .field("version", &i.version)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

fn prefix_org(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with("org:") {
        s.into()
    } else {
        let mut prefixed = String::with_capacity("org:".len() + s.len());
        prefixed.push_str("org:");
        prefixed.push_str(s);
        prefixed.into()
    }
}

impl SessionAuth {
    /// Builds the auth object. Only moves: organization permissions, features and plans are decoded on first
    /// use, off the verification path.
    /// `token` as received, `payload` decoded from it.
    pub(crate) fn assemble(p: AuthParts, token: Box<str>, payload: Box<str>, exp_ms: i64) -> Self {
        Self(Arc::new(AuthInner {
            user_id: p.user_id,
            session_id: p.session_id,
            status: p.status,
            actor: p.actor,
            org_raw: p.org_raw,
            org: OnceLock::new(),
            fea: p.fea,
            pla: p.pla,
            features: OnceLock::new(),
            plans: OnceLock::new(),
            fva: p.fva,
            issuer: p.issuer,
            authorized_party: p.authorized_party,
            expires_at_ms: exp_ms,
            not_before_ms: p.not_before_ms,
            issued_at_ms: p.issued_at_ms,
            token_id: p.token_id,
            version: p.version,
            token,
            payload,
        }))
    }

    fn text<'s>(&'s self, t: Option<&'s Text>) -> Option<&'s str> {
        t.map(|t| t.get(self.0.payload()))
    }

    fn org(&self) -> Option<&ActiveOrganization> {
        self.0
            .org
            .get_or_init(|| {
                let raw = self.0.org_raw.as_ref()?;
                let permissions = match &raw.permissions {
                    Some(list) => list.clone(),
                    None => claims::decode_v2_permissions(
                        self.text(self.0.fea.as_ref()),
                        self.text(raw.per.as_ref()),
                        self.text(raw.fpm.as_ref()),
                    ),
                };
                Some(ActiveOrganization {
                    id: OrganizationId::new(raw.id.get(self.0.payload())),
                    slug: self.text(raw.slug.as_ref()).map(str::to_owned),
                    role: self.text(raw.role.as_ref()).map(|r| prefix_org(r).into_owned()),
                    permissions,
                })
            })
            .as_ref()
    }

    /// The signed-in user (`sub`).
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.0.user_id
    }

    /// The session (`sid`).
    #[must_use]
    pub fn session_id(&self) -> Option<&SessionId> {
        self.0.session_id.as_ref()
    }

    /// The session status (`sts`).
    #[must_use]
    pub fn session_status(&self) -> &SessionStatus {
        &self.0.status
    }

    /// The impersonator, when an actor token started this session (`act`).
    #[must_use]
    pub fn actor(&self) -> Option<&Actor> {
        self.0.actor.as_ref()
    }

    /// The active organization, if any.
    #[must_use]
    pub fn organization(&self) -> Option<&ActiveOrganization> {
        self.org()
    }

    /// The active organization's id.
    #[must_use]
    pub fn org_id(&self) -> Option<&OrganizationId> {
        self.org().map(|o| &o.id)
    }

    /// The active organization's slug.
    #[must_use]
    pub fn org_slug(&self) -> Option<&str> {
        self.org().and_then(|o| o.slug.as_deref())
    }

    /// The member's role in the active organization, `org:`-prefixed.
    #[must_use]
    pub fn org_role(&self) -> Option<&str> {
        self.org().and_then(|o| o.role.as_deref())
    }

    /// The member's permissions in the active organization.
    #[must_use]
    pub fn org_permissions(&self) -> &[String] {
        self.org().map_or(&[], |o| &o.permissions)
    }

    /// Features, as the token lists them (`o:feature`, `u:feature`; v2 tokens only).
    #[must_use]
    pub fn features(&self) -> &[String] {
        self.0.features.get_or_init(|| split_list(self.text(self.0.fea.as_ref())))
    }

    /// Plans, as the token lists them (`u:free`, `o:pro`; v2 tokens only).
    #[must_use]
    pub fn plans(&self) -> &[String] {
        self.0.plans.get_or_init(|| split_list(self.text(self.0.pla.as_ref())))
    }

    /// Minutes since the first and second factor were verified (`fva`); `-1` where a factor is not enrolled.
    #[must_use]
    pub fn factor_verification_age(&self) -> Option<[i64; 2]> {
        self.0.fva
    }

    /// The issuer (`iss`).
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.text(self.0.issuer.as_ref())
    }

    /// The authorized party (`azp`), the origin the token was minted for.
    #[must_use]
    pub fn authorized_party(&self) -> Option<&str> {
        self.text(self.0.authorized_party.as_ref())
    }

    /// Expiry, seconds since the epoch (`exp`).
    #[must_use]
    pub fn expires_at(&self) -> i64 {
        self.0.expires_at_ms.div_euclid(1000)
    }

    /// Issue time, seconds since the epoch (`iat`).
    #[must_use]
    pub fn issued_at(&self) -> Option<i64> {
        self.0.issued_at_ms.map(|ms| ms.div_euclid(1000))
    }

    /// Not-before time, seconds since the epoch (`nbf`).
    #[must_use]
    pub fn not_before(&self) -> Option<i64> {
        self.0.not_before_ms.map(|ms| ms.div_euclid(1000))
    }

    /// The token id (`jti`).
    #[must_use]
    pub fn token_id(&self) -> Option<&str> {
        self.text(self.0.token_id.as_ref())
    }

    /// The claims format version: 1 or 2.
    #[must_use]
    pub fn claims_version(&self) -> u32 {
        self.0.version
    }

    /// The raw JSON payload of the token, as signed.
    #[must_use]
    pub fn raw_claims(&self) -> &[u8] {
        self.0.payload().as_bytes()
    }

    /// All claims as a JSON object (parsed on each call; custom claims included).
    #[must_use]
    pub fn claims(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(self.0.payload()).unwrap_or_default()
    }

    /// One claim by name, parsed on demand.
    #[must_use]
    pub fn claim(&self, name: &str) -> Option<serde_json::Value> {
        self.claims().remove(name)
    }

    /// Deserialises the payload into the caller's type (custom claims from a session token template).
    ///
    /// # Errors
    /// The `serde_json` error when the payload does not fit `T`.
    pub fn custom_claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.payload())
    }

    /// The raw session token, for forwarding to another service. Handle with care: it is a bearer credential.
    #[must_use]
    pub fn token(&self) -> &str {
        self.0.token()
    }

    /// Authorization check with the official SDKs' semantics: false without an active org for role and permission,
    /// scoped feature and plan matching, reverification presets; missing or malformed data fails closed.
    #[must_use]
    pub fn has(&self, check: Check<'_>) -> bool {
        if self.0.user_id.as_str().is_empty() {
            return false;
        }
        match check {
            Check::Role(role) => self.org_role().is_some_and(|r| r == prefix_org(role)),
            Check::Permission(perm) => {
                let wanted = prefix_org(perm);
                self.org_permissions().iter().any(|p| *p == wanted)
            }
            Check::Feature(f) => scoped_match(self.features(), f),
            Check::Plan(p) => scoped_match(self.plans(), p),
            Check::Reverification(r) => self.0.fva.is_some_and(|fva| reverified(fva, r)),
        }
    }
}

fn split_list(s: Option<&str>) -> Vec<String> {
    s.map(|s| claims::comma_list(s).map(str::to_owned).collect()).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Org,
    User,
    Either,
}

fn parse_wanted(wanted: &str) -> (Scope, &str) {
    match wanted.split_once(':') {
        Some(("o" | "org" | "organization", name)) => (Scope::Org, name),
        Some(("u" | "user", name)) => (Scope::User, name),
        _ => (Scope::Either, wanted),
    }
}

fn scoped_match(items: &[String], wanted: &str) -> bool {
    let (scope, name) = parse_wanted(wanted);
    if name.is_empty() {
        return false;
    }
    items.iter().any(|item| {
        let Some((item_scope, item_name)) = item.split_once(':') else { return false };
        if item_name != name {
            return false;
        }
        let org = item_scope.contains('o');
        let user = item_scope.contains('u');
        match scope {
            Scope::Org => org,
            Scope::User => user,
            Scope::Either => org || user,
        }
    })
}

fn reverified([first, second]: [i64; 2], r: Reverification) -> bool {
    let (level, after) = r.requirement();
    if after <= 0 {
        return false;
    }
    let fresh = |age: i64| age >= 0 && age < after;
    let first_ok = fresh(first);
    match level {
        FactorLevel::FirstFactor => first_ok,
        FactorLevel::SecondFactor => {
            if second == -1 {
                first_ok
            } else {
                fresh(second)
            }
        }
        FactorLevel::MultiFactor => {
            if second == -1 {
                first_ok
            } else {
                first_ok && fresh(second)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(json: &str) -> SessionAuth {
        let mut c: RawClaims<'_> = serde_json::from_str(json).unwrap();
        let sub = c.sub.take().unwrap();
        let parts = AuthParts::new(c, json, sub);
        let auth = SessionAuth::assemble(parts, "tok".into(), json.into(), 0);
        assert_eq!((auth.token(), auth.raw_claims()), ("tok", json.as_bytes()));
        auth
    }

    #[test]
    fn claim_strings_with_and_without_json_escapes_read_the_same() {
        // Plain strings are ranges of the payload; escaped ones are unescaped copies. Both must read as signed.
        let plain = auth(
            r#"{"sub":"user_1","iss":"https://clerk.example.com","azp":"http://localhost:3000","jti":"abc","v":2,
               "o":{"id":"org_1","slg":"acme","rol":"admin","per":"read","fpm":"1"},"fea":"o:reports","pla":"o:pro"}"#,
        );
        let escaped = auth(
            r#"{"sub":"user_1","iss":"https:\/\/clerk.example.com","azp":"http:\/\/localhost:3000","jti":"a\u0062c",
               "v":2,"o":{"id":"org\u005f1","slg":"ac\u006de","rol":"adm\u0069n","per":"re\u0061d","fpm":"1"},
               "fea":"o:rep\u006frts","pla":"o:pr\u006f"}"#,
        );
        for a in [&plain, &escaped] {
            assert_eq!(a.issuer(), Some("https://clerk.example.com"));
            assert_eq!(a.authorized_party(), Some("http://localhost:3000"));
            assert_eq!(a.token_id(), Some("abc"));
            assert_eq!(a.org_id().map(OrganizationId::as_str), Some("org_1"));
            assert_eq!(a.org_slug(), Some("acme"));
            assert_eq!(a.org_role(), Some("org:admin"));
            assert_eq!(a.org_permissions(), ["org:reports:read"]);
            assert_eq!(a.features(), ["o:reports"]);
            assert_eq!(a.plans(), ["o:pro"]);
        }
    }

    #[test]
    fn v1_org_claims() {
        let a = auth(
            r#"{"sub":"user_1","sid":"sess_1","org_id":"org_1","org_slug":"acme","org_role":"org:admin",
                "org_permissions":["org:billing:manage"]}"#,
        );
        assert_eq!(a.claims_version(), 1);
        assert_eq!(a.org_id().unwrap(), "org_1");
        assert_eq!(a.org_slug(), Some("acme"));
        assert!(a.has(Check::Role("org:admin")));
        assert!(a.has(Check::Role("admin")));
        assert!(!a.has(Check::Role("member")));
        assert!(a.has(Check::Permission("billing:manage")));
        assert!(a.has(Check::Permission("org:billing:manage")));
        assert!(!a.has(Check::Permission("org:billing:read")));
    }

    #[test]
    fn v2_claims_normalise() {
        let a = auth(
            r#"{"v":2,"sub":"user_1","sid":"sess_1","sts":"active","pla":"u:free,o:pro",
                "fea":"o:repositories,o:projects,u:dashboard,uo:support",
                "o":{"id":"org_9","slg":"acme","rol":"admin","per":"read,create,update,delete,revoke","fpm":"7,21,1"}}"#,
        );
        assert_eq!(a.claims_version(), 2);
        assert_eq!(a.org_role(), Some("org:admin"));
        assert_eq!(a.org_slug(), Some("acme"));
        assert_eq!(
            a.org_permissions(),
            [
                "org:repositories:read",
                "org:repositories:create",
                "org:repositories:update",
                "org:projects:read",
                "org:projects:update",
                "org:projects:revoke",
                "org:support:read",
            ]
        );
        assert!(a.has(Check::Role("admin")));
        assert!(a.has(Check::Permission("org:projects:revoke")));
        assert!(!a.has(Check::Permission("org:projects:delete")));
        assert!(a.has(Check::Plan("pro")));
        assert!(a.has(Check::Plan("o:pro")));
        assert!(a.has(Check::Plan("org:pro")));
        assert!(!a.has(Check::Plan("user:pro")));
        assert!(a.has(Check::Plan("u:free")));
        assert!(a.has(Check::Feature("dashboard")));
        assert!(a.has(Check::Feature("user:dashboard")));
        assert!(!a.has(Check::Feature("organization:dashboard")));
        assert!(a.has(Check::Feature("organization:support")));
        assert!(a.has(Check::Feature("u:support")));
        assert!(!a.has(Check::Feature("nope")));
        assert!(!a.has(Check::Feature("o:")));
    }

    #[test]
    fn no_org_means_no_role_or_permission() {
        let a = auth(r#"{"sub":"user_1","org_role":"org:admin","org_permissions":["org:a:b"]}"#);
        assert!(a.organization().is_none());
        assert!(!a.has(Check::Role("org:admin")));
        assert!(!a.has(Check::Permission("org:a:b")));
    }

    #[test]
    fn reverification_presets() {
        let cases: &[(&str, Reverification, bool)] = &[
            (r#"[5,5]"#, Reverification::StrictMfa, true),
            (r#"[5,10]"#, Reverification::StrictMfa, false),
            (r#"[11,5]"#, Reverification::StrictMfa, false),
            (r#"[5,-1]"#, Reverification::StrictMfa, true),
            (r#"[50,5]"#, Reverification::Strict, true),
            (r#"[5,50]"#, Reverification::Strict, false),
            (r#"[5,50]"#, Reverification::Moderate, true),
            (r#"[70,-1]"#, Reverification::Moderate, false),
            (r#"[1000,-1]"#, Reverification::Lax, true),
            (r#"[1440,-1]"#, Reverification::Lax, false),
            (r#"[-1,-1]"#, Reverification::Lax, false),
            (r#""garbage""#, Reverification::Lax, false),
            (r#"[1,1]"#, Reverification::Custom { level: FactorLevel::FirstFactor, after_minutes: 0 }, false),
            (r#"[1,100]"#, Reverification::Custom { level: FactorLevel::FirstFactor, after_minutes: 2 }, true),
        ];
        for (fva, r, want) in cases {
            let a = auth(&format!(r#"{{"sub":"user_1","fva":{fva}}}"#));
            assert_eq!(a.has(Check::Reverification(*r)), *want, "fva {fva} {r:?}");
        }
        let a = auth(r#"{"sub":"user_1"}"#);
        assert!(!a.has(Check::Reverification(Reverification::Lax)));
    }

    #[test]
    fn custom_claims_and_debug() {
        #[derive(serde::Deserialize)]
        struct Mine {
            tier: String,
        }
        let a = auth(r#"{"sub":"user_1","tier":"gold","sts":"pending"}"#);
        assert_eq!(a.custom_claims::<Mine>().unwrap().tier, "gold");
        assert_eq!(a.claim("tier"), Some(serde_json::json!("gold")));
        assert_eq!(a.session_status(), &SessionStatus::Pending);
        let dbg = format!("{a:?}");
        assert!(dbg.contains("user_1") && !dbg.contains("tok\""), "{dbg}");
    }
}
