//! Minting session tokens for tests, signed as Clerk signs them.
//!
//! Tokens are signed with josekit (OpenSSL), an implementation independent of `clerk-core`'s verifier.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::keys::InstanceKey;
use crate::{Shared, ids};

/// The claim formats Clerk issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimsVersion {
    /// v1: `org_id`, `org_role`, `org_slug`, `org_permissions`.
    V1,
    /// v2 (`"v": 2`): `o: {id, slg, rol, per, fpm}`, `fea`, `pla`. Clerk's current format.
    #[default]
    V2,
}

/// Header `cat` of an M2M token.
pub const CAT_M2M: &str = "cl_B7d4PD333AAA";

/// Builds one session token. Created by [`Emulator::session_token`](crate::Emulator::session_token), which also
/// creates an active session for the user in the emulated Backend API.
#[derive(Debug)]
#[must_use]
pub struct TokenBuilder {
    shared: Arc<Shared>,
    user_id: String,
    session_id: String,
    version: ClaimsVersion,
    issued_at: i64,
    lifetime: i64,
    nbf_offset: i64,
    azp: Option<String>,
    org: Option<OrgClaims>,
    features: Option<String>,
    plans: Option<String>,
    status: Option<String>,
    actor: Option<Value>,
    fva: Option<[i64; 2]>,
    extra: Map<String, Value>,
    header_extra: Map<String, Value>,
    foreign_key: Option<Arc<InstanceKey>>,
    alg: &'static str,
    remove: Vec<String>,
}

#[derive(Debug, Clone)]
struct OrgClaims {
    id: String,
    slug: String,
    role: String,
    permissions: Vec<String>,
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl TokenBuilder {
    pub(crate) fn new(shared: Arc<Shared>, user_id: String, session_id: String) -> Self {
        Self {
            shared,
            user_id,
            session_id,
            version: ClaimsVersion::V2,
            issued_at: now_secs(),
            lifetime: 60,
            nbf_offset: -10,
            azp: None,
            org: None,
            features: None,
            plans: None,
            status: None,
            actor: None,
            fva: Some([0, -1]),
            extra: Map::new(),
            header_extra: Map::new(),
            foreign_key: None,
            alg: "RS256",
            remove: Vec::new(),
        }
    }

    /// The claims format. Default v2.
    pub const fn version(mut self, v: ClaimsVersion) -> Self {
        self.version = v;
        self
    }

    /// The authorized party (`azp`). Default: the emulator's default authorized party, `http://localhost:3000`.
    pub fn authorized_party(mut self, azp: impl Into<String>) -> Self {
        self.azp = Some(azp.into());
        self
    }

    /// Issue time (`iat`), seconds since the epoch; `nbf` is 10 s earlier and `exp` `lifetime` later. Default: now.
    pub const fn issued_at(mut self, secs: i64) -> Self {
        self.issued_at = secs;
        self
    }

    /// Lifetime (`exp - iat`). Default 60 s, as Clerk's session tokens.
    pub fn lifetime(mut self, d: Duration) -> Self {
        self.lifetime = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// A token that expired `ago` (its whole lifetime lies in the past).
    pub fn expired(mut self, ago: Duration) -> Self {
        let ago = i64::try_from(ago.as_secs()).unwrap_or(i64::MAX);
        self.issued_at = now_secs() - ago - self.lifetime;
        self
    }

    /// A token whose `nbf` and `iat` lie `ahead` in the future.
    pub fn not_yet_valid(mut self, ahead: Duration) -> Self {
        self.issued_at = now_secs() + i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX);
        self.nbf_offset = 0;
        self
    }

    /// An active organization with a role (with or without the `org:` prefix) and permissions
    /// (`org:feature:permission`).
    pub fn organization(
        mut self,
        org_id: impl Into<String>,
        slug: impl Into<String>,
        role: impl Into<String>,
        permissions: &[&str],
    ) -> Self {
        self.org = Some(OrgClaims {
            id: org_id.into(),
            slug: slug.into(),
            role: role.into(),
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        });
        self
    }

    /// The `fea` claim (v2), e.g. `o:reports,u:dashboard`. Org permissions are encoded against the `o:` features.
    pub fn features(mut self, fea: impl Into<String>) -> Self {
        self.features = Some(fea.into());
        self
    }

    /// The `pla` claim (v2), e.g. `u:free,o:pro`.
    pub fn plans(mut self, pla: impl Into<String>) -> Self {
        self.plans = Some(pla.into());
        self
    }

    /// A pending session (`sts: pending`).
    pub fn pending(mut self) -> Self {
        self.status = Some("pending".to_owned());
        self
    }

    /// An impersonated session: `act: {sub}` (the actor's user id).
    pub fn actor(mut self, actor_sub: impl Into<String>) -> Self {
        self.actor = Some(json!({"sub": actor_sub.into()}));
        self
    }

    /// Factor verification ages in minutes (`fva`); `-1` for a factor not enrolled. Default `[0, -1]`.
    pub const fn factor_verification_age(mut self, first: i64, second: i64) -> Self {
        self.fva = Some([first, second]);
        self
    }

    /// Any extra claim (custom claims of a session token template), or an override of a standard one (`"exp":
    /// "soon"` to test type errors).
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// Leaves a standard claim out (e.g. `sub` or `exp`).
    pub fn without_claim(mut self, name: impl Into<String>) -> Self {
        self.remove.push(name.into());
        self
    }

    /// Any extra header parameter (e.g. `jku`, or `typ` to test rejections).
    pub fn header(mut self, name: impl Into<String>, value: Value) -> Self {
        self.header_extra.insert(name.into(), value);
        self
    }

    /// An M2M-category token (header `cat: cl_B7d4PD333AAA`), which session verification must refuse.
    pub fn m2m_category(self) -> Self {
        self.header("cat", json!(CAT_M2M))
    }

    /// Signs with RS384 or RS512 instead of RS256.
    pub const fn algorithm(mut self, alg: &'static str) -> Self {
        self.alg = alg;
        self
    }

    /// Signs with another instance's key while keeping this instance's `kid` (a forged token).
    pub fn signed_by(mut self, key: Arc<InstanceKey>) -> Self {
        self.foreign_key = Some(key);
        self
    }

    /// The claims this builder will sign.
    #[must_use]
    pub fn claims(&self) -> Value {
        let mut c = Map::new();
        let iat = self.issued_at;
        c.insert("azp".into(), json!(self.azp.clone().unwrap_or_else(|| self.shared.default_azp.clone())));
        c.insert("exp".into(), json!(iat.saturating_add(self.lifetime)));
        if let Some(fva) = self.fva {
            c.insert("fva".into(), json!(fva));
        }
        c.insert("iat".into(), json!(iat));
        c.insert("iss".into(), json!(self.shared.issuer()));
        c.insert("jti".into(), json!(ids::random_base62(20)));
        c.insert("nbf".into(), json!(iat + self.nbf_offset));
        c.insert("sid".into(), json!(self.session_id));
        c.insert("sts".into(), json!(self.status.clone().unwrap_or_else(|| "active".to_owned())));
        c.insert("sub".into(), json!(self.user_id));
        if let Some(act) = &self.actor {
            c.insert("act".into(), act.clone());
        }
        match self.version {
            ClaimsVersion::V1 => {
                if let Some(o) = &self.org {
                    let role = if o.role.starts_with("org:") { o.role.clone() } else { format!("org:{}", o.role) };
                    c.insert("org_id".into(), json!(o.id));
                    c.insert("org_slug".into(), json!(o.slug));
                    c.insert("org_role".into(), json!(role));
                    c.insert("org_permissions".into(), json!(o.permissions));
                }
            }
            ClaimsVersion::V2 => {
                c.insert("v".into(), json!(2));
                let mut fea = self.features.clone();
                if let Some(o) = &self.org {
                    let (per, fpm, org_fea) = encode_v2_permissions(&o.permissions, fea.as_deref());
                    if fea.is_none() && !org_fea.is_empty() {
                        fea = Some(org_fea);
                    }
                    let role = o.role.strip_prefix("org:").unwrap_or(&o.role);
                    c.insert("o".into(), json!({"id": o.id, "slg": o.slug, "rol": role, "per": per, "fpm": fpm}));
                }
                if let Some(f) = fea {
                    c.insert("fea".into(), json!(f));
                }
                if let Some(p) = &self.plans {
                    c.insert("pla".into(), json!(p));
                }
            }
        }
        for (k, v) in &self.extra {
            c.insert(k.clone(), v.clone());
        }
        for k in &self.remove {
            c.remove(k);
        }
        Value::Object(c)
    }

    /// Signs and returns the token.
    #[must_use]
    pub fn mint(self) -> String {
        let claims = self.claims();
        let key = self.foreign_key.clone().unwrap_or_else(|| self.shared.active_key());
        let mut header = Map::new();
        header.insert("alg".into(), json!(self.alg));
        header.insert("kid".into(), json!(self.shared.active_key().kid()));
        header.insert("typ".into(), json!("JWT"));
        for (k, v) in &self.header_extra {
            header.insert(k.clone(), v.clone());
        }
        key.sign(&Value::Object(header), &claims)
    }
}

/// Encodes org permissions the v2 way: `per` lists distinct permission names, each org feature gets a bitmask in
/// `fpm`. Returns `(per, fpm, fea-for-org-features)`.
pub(crate) fn encode_v2_permissions(permissions: &[String], fea: Option<&str>) -> (String, String, String) {
    let mut features: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let parsed: Vec<(String, String)> = permissions
        .iter()
        .filter_map(|p| {
            let rest = p.strip_prefix("org:").unwrap_or(p);
            let (feature, name) = rest.split_once(':')?;
            Some((feature.to_owned(), name.to_owned()))
        })
        .collect();
    // Feature order: the given `fea` org features first, then any other feature the permissions mention.
    if let Some(fea) = fea {
        for item in fea.split(',').map(str::trim) {
            if let Some((scope, name)) = item.split_once(':')
                && scope.contains('o')
                && !features.iter().any(|f| f == name)
            {
                features.push(name.to_owned());
            }
        }
    }
    for (feature, name) in &parsed {
        if !features.contains(feature) {
            features.push(feature.clone());
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let masks: Vec<String> = features
        .iter()
        .map(|f| {
            let mut mask = 0u64;
            for (feature, name) in &parsed {
                if feature == f
                    && let Some(j) = names.iter().position(|n| n == name)
                {
                    mask |= 1 << j;
                }
            }
            mask.to_string()
        })
        .collect();
    let org_fea = features.iter().map(|f| format!("o:{f}")).collect::<Vec<_>>().join(",");
    (names.join(","), masks.join(","), org_fea)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_encoding_matches_the_clerk_vector() {
        let perms: Vec<String> = [
            "org:repositories:read",
            "org:repositories:create",
            "org:repositories:update",
            "org:projects:read",
            "org:projects:update",
            "org:projects:revoke",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let (per, fpm, fea) = encode_v2_permissions(&perms, None);
        assert_eq!(per, "read,create,update,revoke");
        assert_eq!(fpm, "7,13");
        assert_eq!(fea, "o:repositories,o:projects");
    }
}
