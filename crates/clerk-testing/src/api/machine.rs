//! Machine authentication: machines and their secret keys, API keys, M2M tokens (opaque and JWT) and OAuth access
//! tokens (opaque and RFC 9068 JWT), as the spec's `API Keys`, `M2M Tokens`, `OAuth Access Tokens` and `Machines`
//! operations describe them.
//!
//! Choices where the spec is silent:
//! - Verifying an unknown, revoked or expired token answers `404 resource_not_found` (the spec documents 400 and 404
//!   for the three verify operations; Clerk's JS SDK maps 404 to `token-invalid`). The one exception is the spec's
//!   own: an expired OAuth JWT access token verifies as `200 {"active": false}`.
//! - `POST /m2m_tokens` is authenticated by a machine secret key in real Clerk, and the token's subject is that
//!   machine. The emulator also accepts the instance secret key; the subject is then the most recently created
//!   machine (a machine named `default` is created when there is none). `GET /m2m_tokens`, `POST
//!   /m2m_tokens/verify` and `POST /m2m_tokens/{id}/revoke` accept either key, a machine key limiting them to that
//!   machine's tokens as the spec says.
//! - JWT-format M2M tokens are stateless in Clerk: not listed and not revocable. The emulator remembers them only so
//!   that `POST /m2m_tokens/verify` can answer for them.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::Rng as _;
use serde_json::{Value, json};

use super::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::tokens::CAT_M2M;
use crate::{Emulator, EmulatorError, Shared, ids};

/// How an M2M token or OAuth access token is issued (`token_format` of `POST /m2m_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineTokenFormat {
    /// An opaque string (`mt_…`, `oat_…`), verified by the Backend API. The default.
    #[default]
    Opaque,
    /// A JWT signed by the instance key (RS256), verifiable against the JWKS: for M2M tokens header `cat`
    /// `cl_B7d4PD333AAA` and `sub` the machine; for OAuth access tokens header `typ: at+jwt` (RFC 9068).
    Jwt,
}

/// The M2M token operations a machine secret key may call.
const MACHINE_KEY_OPERATIONS: [&str; 4] = ["createM2MToken", "getM2MTokens", "verifyM2MToken", "revokeM2MToken"];
/// Default M2M token lifetime (the spec's `default_token_ttl` default).
const DEFAULT_TOKEN_TTL_SECS: i64 = 3600;
/// Lifetime of OAuth access tokens minted by [`Emulator::oauth_access_token`].
const OAUTH_TOKEN_TTL_SECS: i64 = 3600;

/// Machines, API keys, M2M tokens and OAuth access tokens.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Machines by id, without `scoped_machines` (rendered from `scopes`).
    machines: BTreeMap<String, Value>,
    /// The machines each machine may call.
    scopes: HashMap<String, Vec<String>>,
    /// Machine secret key → machine id.
    machine_secrets: HashMap<String, String>,
    api_keys: BTreeMap<String, Value>,
    /// API key secret → API key id.
    api_key_secrets: HashMap<String, String>,
    m2m: BTreeMap<String, Value>,
    /// Ids of JWT-format M2M tokens.
    m2m_jwt: HashSet<String>,
    oauth: BTreeMap<String, Value>,
    /// Ids of JWT-format OAuth access tokens.
    oauth_jwt: HashSet<String>,
    /// M2M and OAuth token text → token id.
    tokens: HashMap<String, String>,
    oauth_client_id: Option<String>,
}

fn random_hex(len: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(HEX[rng.gen_range(0..HEX.len())])).collect()
}

/// An opaque secret: prefix and 40 base62 characters.
fn secret(prefix: &str) -> String {
    format!("{prefix}_{}", ids::random_base62(40))
}

/// `prefix_` followed by 27 word characters, as the spec's subject patterns (`^(user|org|mch)_\w{27}$`).
fn is_subject(s: &str, prefixes: &[&str]) -> bool {
    s.split_once('_').is_some_and(|(p, rest)| {
        prefixes.contains(&p) && rest.len() == 27 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

fn bad_request(code: &'static str, long: impl Into<String>) -> ApiError {
    ApiError::new(400, code, "bad request", long)
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(404, "resource_not_found", "not found", format!("{what} not found"))
}

/// Whether a stored object's `expiration` (ms) has passed.
fn is_expired(v: &Value, now: i64) -> bool {
    v["expiration"].as_i64().is_some_and(|e| e <= now)
}

/// A stored token object as answered: `expired` computed now.
fn render(v: &Value, now: i64) -> Value {
    let mut out = v.clone();
    out["expired"] = json!(is_expired(v, now));
    out
}

fn usable(v: &Value, now: i64) -> bool {
    v["revoked"] != json!(true) && !is_expired(v, now)
}

fn expiration(now: i64, seconds: Option<f64>) -> Value {
    #[allow(clippy::cast_possible_truncation)]
    seconds.filter(|s| s.is_finite() && *s > 0.0).map_or(Value::Null, |s| json!(now + (s * 1000.0) as i64))
}

impl State {
    fn create_machine(&mut self, shared: &Shared, now: i64, body: &Value) -> Result<Value, ApiError> {
        let scoped: Vec<String> = body["scoped_machines"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        if let Some(unknown) = scoped.iter().find(|m| !self.machines.contains_key(*m)) {
            return Err(bad_request("machine_not_found", format!("No machine was found with id {unknown}")));
        }
        let id = ids::new_id("mch");
        let key = secret("ak");
        let machine = json!({
            "object": "machine",
            "id": id,
            "name": s(body, "name").unwrap_or("machine"),
            "instance_id": shared.instance_id,
            "created_at": now,
            "updated_at": now,
            "default_token_ttl": body["default_token_ttl"].as_i64().unwrap_or(DEFAULT_TOKEN_TTL_SECS),
        });
        self.machines.insert(id.clone(), machine);
        self.scopes.insert(id.clone(), scoped);
        self.machine_secrets.insert(key.clone(), id.clone());
        let mut out = self.render_machine(&id).unwrap_or(Value::Null);
        out["secret_key"] = json!(key);
        Ok(out)
    }

    fn render_machine(&self, id: &str) -> Option<Value> {
        let mut m = self.machines.get(id)?.clone();
        let scoped: Vec<Value> =
            self.scopes.get(id).into_iter().flatten().filter_map(|other| self.machines.get(other).cloned()).collect();
        m["scoped_machines"] = Value::Array(scoped);
        Some(m)
    }

    fn machine_secret(&self, id: &str) -> Option<String> {
        self.machine_secrets.iter().find(|(_, m)| *m == id).map(|(k, _)| k.clone())
    }

    /// The machine `POST /m2m_tokens` mints for when called with the instance secret key.
    fn default_machine(&mut self, shared: &Shared, now: i64) -> Result<String, ApiError> {
        if let Some((id, _)) = self.machines.iter().max_by_key(|(_, m)| m["created_at"].as_i64().unwrap_or(0)) {
            return Ok(id.clone());
        }
        let m = self.create_machine(shared, now, &json!({"name": "default"}))?;
        Ok(m["id"].as_str().unwrap_or_default().to_owned())
    }

    fn create_api_key(&mut self, now: i64, body: &Value) -> Result<Value, ApiError> {
        let subject = s(body, "subject").unwrap_or_default();
        if !is_subject(subject, &["user", "org", "mch", "scim"]) {
            return Err(bad_request("form_param_format_invalid", "subject must be a user, organization or machine id")
                .with_meta(json!({"param_name": "subject"})));
        }
        let id = format!("ak_{}", random_hex(32));
        let key = secret("ak");
        let claims = body.get("claims").filter(|c| !c.is_null()).cloned().unwrap_or(Value::Null);
        let api_key = json!({
            "object": "api_key",
            "id": id,
            "type": s(body, "type").unwrap_or("api_key"),
            "subject": subject,
            "name": s(body, "name").unwrap_or_default(),
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "claims": claims,
            "scopes": body.get("scopes").cloned().unwrap_or_else(|| json!([])),
            "revoked": false,
            "revocation_reason": null,
            "expired": false,
            "expiration": expiration(now, body["seconds_until_expiration"].as_f64()),
            "created_by": body.get("created_by").cloned().unwrap_or(Value::Null),
            "last_used_at": null,
            "created_at": now,
            "updated_at": now,
        });
        self.api_keys.insert(id.clone(), api_key.clone());
        self.api_key_secrets.insert(key.clone(), id);
        let mut out = api_key;
        out["secret"] = json!(key);
        Ok(out)
    }

    fn verify_api_key(&mut self, now: i64, secret: &str) -> Result<Value, ApiError> {
        let id = self.api_key_secrets.get(secret).ok_or_else(|| not_found("API key"))?;
        let key = self.api_keys.get_mut(id).ok_or_else(|| not_found("API key"))?;
        if !usable(key, now) {
            return Err(not_found("API key"));
        }
        key["last_used_at"] = json!(now);
        Ok(render(key, now))
    }

    fn mint_m2m(
        &mut self,
        shared: &Shared,
        now: i64,
        machine: &str,
        body: &Value,
        scopes: Option<Vec<String>>,
    ) -> Result<Value, ApiError> {
        let format =
            if s(body, "token_format") == Some("jwt") { MachineTokenFormat::Jwt } else { MachineTokenFormat::Opaque };
        let ttl_secs = body["seconds_until_expiration"].as_f64().unwrap_or_else(|| {
            #[allow(clippy::cast_precision_loss)]
            let ttl = self
                .machines
                .get(machine)
                .and_then(|m| m["default_token_ttl"].as_i64())
                .unwrap_or(DEFAULT_TOKEN_TTL_SECS) as f64;
            ttl
        });
        let claims = body.get("claims").filter(|c| !c.is_null()).cloned().unwrap_or(Value::Null);
        let scopes = scopes.unwrap_or_else(|| self.scopes.get(machine).cloned().unwrap_or_default());
        if let Some(min) = body["min_remaining_ttl_seconds"].as_i64()
            && format == MachineTokenFormat::Opaque
        {
            #[allow(clippy::cast_precision_loss)]
            if min as f64 >= ttl_secs {
                return Err(bad_request(
                    "form_param_value_invalid",
                    "min_remaining_ttl_seconds must be less than the token lifetime",
                ));
            }
            let reusable = self.m2m.iter().find(|(id, t)| {
                !self.m2m_jwt.contains(*id)
                    && t["subject"] == machine
                    && t["claims"] == claims
                    && t["scopes"] == json!(scopes)
                    && usable(t, now)
                    && t["expiration"].as_i64().is_none_or(|e| e - now >= min * 1000)
            });
            if let Some((id, t)) = reusable {
                let token = self.tokens.iter().find(|(_, i)| *i == id).map(|(k, _)| k.clone()).unwrap_or_default();
                let mut out = render(t, now);
                out["token"] = json!(token);
                return Ok(out);
            }
        }
        let id = format!("mt_{}", random_hex(32));
        let exp = expiration(now, Some(ttl_secs));
        let object = json!({
            "object": "machine_to_machine_token",
            "id": id,
            "subject": machine,
            "claims": claims,
            "scopes": scopes,
            "revoked": false,
            "revocation_reason": null,
            "expired": false,
            "expiration": exp,
            "last_used_at": null,
            "created_at": now,
            "updated_at": now,
        });
        let token = match format {
            MachineTokenFormat::Opaque => secret("mt"),
            MachineTokenFormat::Jwt => {
                // The structural claims Clerk adds (iss, sub, exp, nbf, iat, jti); the rest are the custom claims.
                let mut payload = claims.as_object().cloned().unwrap_or_default();
                let iat = now.div_euclid(1000);
                payload.insert("iss".into(), json!(shared.issuer()));
                payload.insert("sub".into(), json!(machine));
                payload.insert("iat".into(), json!(iat));
                payload.insert("nbf".into(), json!(iat));
                payload.insert(
                    "exp".into(),
                    json!(exp.as_i64().map_or(iat + DEFAULT_TOKEN_TTL_SECS, |e| e.div_euclid(1000))),
                );
                payload.insert("jti".into(), json!(id));
                self.m2m_jwt.insert(id.clone());
                let key = shared.active_key();
                key.sign(
                    &json!({"alg": "RS256", "kid": key.kid(), "typ": "JWT", "cat": CAT_M2M}),
                    &Value::Object(payload),
                )
            }
        };
        self.m2m.insert(id.clone(), object.clone());
        self.tokens.insert(token.clone(), id);
        let mut out = object;
        out["token"] = json!(token);
        Ok(out)
    }

    fn verify_m2m(&mut self, now: i64, token: &str, caller: Option<&str>) -> Result<Value, ApiError> {
        let id = self.tokens.get(token).ok_or_else(|| not_found("Machine token"))?;
        let t = self.m2m.get_mut(id).ok_or_else(|| not_found("Machine token"))?;
        if !usable(t, now) {
            return Err(not_found("Machine token"));
        }
        // A machine key verifies only the tokens that grant access to its machine.
        if let Some(me) = caller
            && !t["scopes"].as_array().is_some_and(|s| s.iter().any(|m| m == me))
        {
            return Err(not_found("Machine token"));
        }
        t["last_used_at"] = json!(now);
        Ok(render(t, now))
    }

    fn revoke(&mut self, now: i64, id: &str, reason: Option<&Value>, caller: Option<&str>) -> Result<Value, ApiError> {
        let (what, map) = match id.split_once('_').map(|(p, _)| p) {
            Some("ak") => ("API key", &mut self.api_keys),
            Some("mt") if !self.m2m_jwt.contains(id) => ("Machine token", &mut self.m2m),
            Some("oat") => ("OAuth access token", &mut self.oauth),
            _ => return Err(not_found("Token")),
        };
        let t = map.get_mut(id).ok_or_else(|| not_found(what))?;
        if caller.is_some_and(|me| t["subject"] != me) {
            return Err(not_found(what));
        }
        t["revoked"] = json!(true);
        t["revocation_reason"] = reason.cloned().unwrap_or(Value::Null);
        t["updated_at"] = json!(now);
        Ok(render(t, now))
    }

    fn mint_oauth(
        &mut self,
        shared: &Shared,
        now: i64,
        user: &str,
        scopes: &[&str],
        format: MachineTokenFormat,
    ) -> (String, String) {
        let client_id = self.oauth_client_id.get_or_insert_with(|| ids::random_base62(16)).clone();
        let id = format!("oat_{}", random_hex(32));
        let exp = now + OAUTH_TOKEN_TTL_SECS * 1000;
        let object = json!({
            "object": "clerk_idp_oauth_access_token",
            "id": id,
            "client_id": client_id,
            "subject": user,
            "scopes": scopes,
            "revoked": false,
            "revocation_reason": null,
            "expired": false,
            "expiration": exp,
            "created_at": now,
            "updated_at": now,
        });
        let token = match format {
            MachineTokenFormat::Opaque => secret("oat"),
            MachineTokenFormat::Jwt => {
                let iat = now.div_euclid(1000);
                let payload = json!({
                    "iss": shared.issuer(),
                    "sub": user,
                    "client_id": client_id,
                    "scope": scopes.join(" "),
                    "iat": iat,
                    "nbf": iat,
                    "exp": exp.div_euclid(1000),
                    "jti": id,
                });
                self.oauth_jwt.insert(id.clone());
                let key = shared.active_key();
                key.sign(&json!({"alg": "RS256", "kid": key.kid(), "typ": "at+jwt"}), &payload)
            }
        };
        self.oauth.insert(id.clone(), object);
        self.tokens.insert(token.clone(), id.clone());
        (id, token)
    }

    fn verify_oauth(&mut self, now: i64, token: &str) -> Result<Value, ApiError> {
        let id = self.tokens.get(token).ok_or_else(|| not_found("OAuth access token"))?;
        let t = self.oauth.get(id).ok_or_else(|| not_found("OAuth access token"))?;
        if t["revoked"] == json!(true) {
            return Err(not_found("OAuth access token"));
        }
        if is_expired(t, now) {
            // The spec's answer for an expired JWT access token; an expired opaque one is not found.
            return if self.oauth_jwt.contains(id) {
                Ok(json!({"active": false}))
            } else {
                Err(not_found("OAuth access token"))
            };
        }
        Ok(render(t, now))
    }
}

/// The machine a request is authenticated as: a machine secret key (`Bearer ak_…`) on one of the M2M token
/// operations, which accept one instead of the instance secret key. `None` otherwise.
pub(crate) fn machine_caller(shared: &Shared, op_id: &str, headers: &http::HeaderMap) -> Option<String> {
    if !MACHINE_KEY_OPERATIONS.contains(&op_id) {
        return None;
    }
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let key = value.strip_prefix("Bearer ")?;
    if !key.starts_with("ak_") {
        return None;
    }
    shared.lock_store().machine.machine_secrets.get(key).cloned()
}

/// Answers a routed, validated request: as the machine `caller` when it authenticated with a machine secret key,
/// else through the whole in-memory API.
pub(crate) fn dispatch(shared: &Shared, ctx: &Ctx, caller: Option<&str>) -> Result<Reply, ApiError> {
    let Some(machine) = caller else { return super::handle(shared, ctx) };
    let mut store = shared.lock_store();
    handle_as(&mut store, shared, ctx, Some(machine)).unwrap_or_else(|| Err(ApiError::not_implemented(ctx.op.id)))
}

pub(crate) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    handle_as(store, shared, ctx, None)
}

fn handle_as(store: &mut Store, shared: &Shared, ctx: &Ctx, caller: Option<&str>) -> Handled {
    let now = store.now_ms();
    let st = &mut store.machine;
    let r = match ctx.op.id {
        // Machines.
        "CreateMachine" => st.create_machine(shared, now, &ctx.json).and_then(ok),
        "GetMachine" => {
            st.render_machine(ctx.path("machine_id")).ok_or_else(|| ApiError::not_found("machine")).and_then(ok)
        }
        "ListMachines" => {
            let query = ctx.query_one("query").unwrap_or("");
            let items: Vec<Value> = st
                .machines
                .iter()
                .filter(|(id, m)| {
                    query.is_empty() || *id == query || m["name"].as_str().is_some_and(|n| n.contains(query))
                })
                .filter_map(|(id, _)| st.render_machine(id))
                .collect();
            list(ctx, items)
        }
        "GetMachineSecretKey" => match st.machine_secret(ctx.path("machine_id")) {
            Some(key) => ok(json!({"object": "machine_secret_key", "secret": key})),
            None => Err(ApiError::not_found("machine")),
        },
        // API keys.
        "createApiKey" => st.create_api_key(now, &ctx.json).and_then(ok),
        "getApiKeys" => {
            let subject = ctx.query_one("subject").unwrap_or_default();
            let kind = ctx.query_one("type").unwrap_or("api_key");
            let include_invalid = ctx.query_one("include_invalid") == Some("true");
            let query = ctx.query_one("query").unwrap_or("");
            let items: Vec<Value> = st
                .api_keys
                .values()
                .filter(|k| k["subject"] == subject && k["type"] == kind)
                .filter(|k| include_invalid || usable(k, now))
                .filter(|k| query.is_empty() || k["name"].as_str().is_some_and(|n| n.contains(query)))
                .map(|k| render(k, now))
                .collect();
            list(ctx, items)
        }
        "getApiKey" => match st.api_keys.get(ctx.path("apiKeyID")) {
            Some(k) => ok(render(k, now)),
            None => Err(not_found("API key")),
        },
        "verifyApiKey" => st.verify_api_key(now, s(&ctx.json, "secret").unwrap_or_default()).and_then(ok),
        "revokeApiKey" => {
            let id = ctx.path("apiKeyID");
            if id.starts_with("ak_") {
                st.revoke(now, id, ctx.json.get("revocation_reason"), None).and_then(ok)
            } else {
                Err(not_found("API key"))
            }
        }
        // M2M tokens.
        "createM2MToken" => {
            let machine = match caller {
                Some(m) => m.to_owned(),
                None => match st.default_machine(shared, now) {
                    Ok(m) => m,
                    Err(e) => return Some(Err(e)),
                },
            };
            st.mint_m2m(shared, now, &machine, &ctx.json, None).map(|v| Reply::Json(201, v))
        }
        "getM2MTokens" => {
            let subject = ctx.query_one("subject").unwrap_or_default();
            if caller.is_some_and(|me| me != subject) {
                return Some(Err(ApiError::new(
                    403,
                    "authorization_invalid",
                    "forbidden",
                    "A machine secret key can only list its own machine's tokens.",
                )));
            }
            let revoked = ctx.query_bool("revoked") == Some(true);
            let expired = ctx.query_bool("expired") == Some(true);
            let mut items: Vec<Value> = st
                .m2m
                .iter()
                .filter(|(id, t)| !st.m2m_jwt.contains(*id) && t["subject"] == subject)
                .filter(|(_, t)| (revoked || t["revoked"] != json!(true)) && (expired || !is_expired(t, now)))
                .map(|(_, t)| render(t, now))
                .collect();
            items.sort_by_key(|t| std::cmp::Reverse(t["created_at"].as_i64().unwrap_or(0)));
            let total = items.len();
            let offset = usize::try_from(ctx.query_int("offset").unwrap_or(0)).unwrap_or(0);
            let limit = usize::try_from(ctx.query_int("limit").unwrap_or(10)).unwrap_or(10);
            let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
            ok(json!({"m2m_tokens": page, "total_count": total}))
        }
        "verifyM2MToken" => st.verify_m2m(now, s(&ctx.json, "token").unwrap_or_default(), caller).and_then(ok),
        "revokeM2MToken" => {
            let id = ctx.path("m2m_token_id");
            if id.starts_with("mt_") {
                st.revoke(now, id, ctx.json.get("revocation_reason"), caller).and_then(ok)
            } else {
                Err(not_found("Machine token"))
            }
        }
        // OAuth access tokens.
        "verifyOAuthAccessToken" => match s(&ctx.json, "access_token").or_else(|| s(&ctx.json, "secret")) {
            Some(token) => st.verify_oauth(now, token).and_then(ok),
            None => Err(bad_request("form_param_missing", "access_token must be included.")
                .with_meta(json!({"param_name": "access_token"}))),
        },
        _ => return None,
    };
    Some(r)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn invalid(e: &ApiError) -> EmulatorError {
    EmulatorError::Invalid(e.long_message().to_owned())
}

/// Machine authentication helpers for tests: what the Dashboard, a machine or an OAuth flow would create, without
/// going through HTTP.
impl Emulator {
    /// Creates a machine (as `POST /v1/machines` would) and returns its id (`mch_…`) and its machine secret key
    /// (`ak_…`), which authenticates `POST /v1/m2m_tokens` for it.
    ///
    /// # Errors
    /// Never in practice; [`EmulatorError::Invalid`] is reserved for a refused body.
    pub fn create_machine(&self, name: &str) -> Result<(String, String), EmulatorError> {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        let m = store.machine.create_machine(&self.shared, now, &json!({"name": name})).map_err(|e| invalid(&e))?;
        Ok((m["id"].as_str().unwrap_or_default().to_owned(), m["secret_key"].as_str().unwrap_or_default().to_owned()))
    }

    /// Creates an API key for `subject` (a user `user_…`, organization `org_…` or machine `mch_…` id) with these
    /// scopes, as `POST /v1/api_keys` would, and returns its id (`ak_<hex>`) and its secret (`ak_…`, what clients
    /// send as `Authorization: Bearer`).
    ///
    /// # Errors
    /// [`EmulatorError::Invalid`] when `subject` is not shaped like a Clerk user, organization or machine id.
    pub fn create_api_key(&self, subject: &str, scopes: &[&str]) -> Result<(String, String), EmulatorError> {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        let body = json!({"name": "emulator-api-key", "subject": subject, "scopes": scopes});
        let k = store.machine.create_api_key(now, &body).map_err(|e| invalid(&e))?;
        Ok((k["id"].as_str().unwrap_or_default().to_owned(), k["secret"].as_str().unwrap_or_default().to_owned()))
    }

    /// Mints an M2M token for machine `machine_id` with these scopes (in Clerk, the ids of the machines the token may
    /// call) and returns its id (`mt_<hex>`) and the token: opaque `mt_…`, or a JWT (`sub` the machine, header `cat`
    /// M2M; non-empty scopes travel as the custom claim `scopes`, space-separated, which the JS SDK reads). Lifetime:
    /// the machine's default TTL (1 hour).
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] when the machine does not exist ([`create_machine`](Self::create_machine)).
    pub fn m2m_token(
        &self,
        machine_id: &str,
        scopes: &[&str],
        format: MachineTokenFormat,
    ) -> Result<(String, String), EmulatorError> {
        let mut store = self.shared.lock_store();
        if !store.machine.machines.contains_key(machine_id) {
            return Err(EmulatorError::NotFound { kind: "machine" });
        }
        let now = store.now_ms();
        let mut body = json!({"token_format": if format == MachineTokenFormat::Jwt { "jwt" } else { "opaque" }});
        if format == MachineTokenFormat::Jwt && !scopes.is_empty() {
            body["claims"] = json!({"scopes": scopes.join(" ")});
        }
        let t = store
            .machine
            .mint_m2m(&self.shared, now, machine_id, &body, Some(strings(scopes)))
            .map_err(|e| invalid(&e))?;
        Ok((t["id"].as_str().unwrap_or_default().to_owned(), t["token"].as_str().unwrap_or_default().to_owned()))
    }

    /// Issues an OAuth access token for `user_id` with these scopes (what an OAuth application receives at the end
    /// of the authorization code flow) and returns its id (`oat_<hex>`) and the token: opaque `oat_…`, or an RFC 9068
    /// JWT (header `typ: at+jwt`, claims `sub`, `client_id`, `scope` space-separated, `jti` the id). Lifetime 1 hour.
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] when the user does not exist.
    pub fn oauth_access_token(
        &self,
        user_id: &str,
        scopes: &[&str],
        format: MachineTokenFormat,
    ) -> Result<(String, String), EmulatorError> {
        let mut store = self.shared.lock_store();
        if !store.users.users.contains_key(user_id) {
            return Err(EmulatorError::NotFound { kind: "user" });
        }
        let now = store.now_ms();
        Ok(store.machine.mint_oauth(&self.shared, now, user_id, scopes, format))
    }

    /// Revokes an API key (`ak_…` id), an opaque M2M token (`mt_…` id) or an OAuth access token (`oat_…` id): the
    /// Backend API refuses it from now on. JWT-format M2M tokens are stateless in Clerk and cannot be revoked.
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] for an unknown id or a JWT-format M2M token.
    pub fn revoke_machine_token(&self, id: &str) -> Result<(), EmulatorError> {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        let reason = json!("revoked by the test");
        store
            .machine
            .revoke(now, id, Some(&reason), None)
            .map(|_| ())
            .map_err(|_| EmulatorError::NotFound { kind: "token" })
    }

    /// Makes an API key, M2M token or OAuth access token expired now, as far as the Backend API is concerned (a JWT's
    /// own `exp` is signed and does not change: mint an expired one with [`TokenBuilder`](crate::TokenBuilder)).
    ///
    /// # Errors
    /// [`EmulatorError::NotFound`] for an unknown id.
    pub fn expire_machine_token(&self, id: &str) -> Result<(), EmulatorError> {
        let mut store = self.shared.lock_store();
        let now = store.now_ms();
        let st = &mut store.machine;
        let t = st
            .api_keys
            .get_mut(id)
            .or_else(|| st.m2m.get_mut(id))
            .or_else(|| st.oauth.get_mut(id))
            .ok_or(EmulatorError::NotFound { kind: "token" })?;
        t["expiration"] = json!(now - 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_ids() {
        assert!(is_subject("user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", &["user"]));
        assert!(!is_subject("user_short", &["user"]));
        assert!(!is_subject("usr_2xhFjEI5X2qWRvtV13BzSj8H6Dk", &["user", "org"]));
        let hex = random_hex(32);
        assert!(hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        let v = json!({"expiration": 10});
        assert!(is_expired(&v, 10) && !is_expired(&v, 9));
        assert!(!is_expired(&json!({"expiration": null}), i64::MAX));
    }
}
