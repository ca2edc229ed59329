//! Users, their email addresses and phone numbers, sessions, clients and the JWKS.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::{Handled, copy_fields, deleted, list, merge, obj, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

/// Users, sessions and clients.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) users: BTreeMap<String, Value>,
    pub(crate) sessions: BTreeMap<String, Value>,
    pub(crate) clients: BTreeMap<String, Value>,
    passwords: HashMap<String, String>,
    /// Session tokens minted through the API (`clients/verify` accepts the client's token).
    client_tokens: HashMap<String, String>,
}

pub(crate) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "GetJWKS" => ok(shared.jwks()),
        "CreateUser" => store.create_user(&ctx.json).and_then(ok),
        "GetUser" => user(store, ctx.path("user_id")).cloned().and_then(ok),
        "GetUserList" => filter_users(store, ctx).and_then(|items| list(ctx, items)),
        "GetUsersCount" => {
            filter_users(store, ctx).and_then(|u| ok(json!({"object": "total_count", "total_count": u.len()})))
        }
        "UpdateUser" => update_user(store, ctx),
        "DeleteUser" => {
            let id = ctx.path("user_id").to_owned();
            match store.users.users.remove(&id) {
                Some(_) => {
                    store
                        .users
                        .sessions
                        .values_mut()
                        .filter(|s| s["user_id"] == id.as_str())
                        .for_each(|s| s["status"] = json!("removed"));
                    store.orgs.remove_user(&id);
                    ok(deleted("user", &id))
                }
                None => Err(ApiError::not_found("user")),
            }
        }
        "UpdateUserMetadata" => {
            let now = store.now_ms();
            user_mut(store, ctx.path("user_id")).and_then(|u| {
                for key in ["public_metadata", "private_metadata", "unsafe_metadata"] {
                    if let Some(patch) = ctx.json.get(key) {
                        merge(&mut u[key], patch);
                    }
                }
                u["updated_at"] = json!(now);
                ok(u.clone())
            })
        }
        "BanUser" => set_flag(store, ctx, "banned", true),
        "UnbanUser" => set_flag(store, ctx, "banned", false),
        "LockUser" => set_flag(store, ctx, "locked", true),
        "UnlockUser" => set_flag(store, ctx, "locked", false),
        "VerifyPassword" => {
            let id = ctx.path("user_id");
            if user(store, id).is_err() {
                return Some(Err(ApiError::not_found("user")));
            }
            match (store.users.passwords.get(id), s(&ctx.json, "password")) {
                (Some(stored), Some(given)) if stored == given => ok(json!({"verified": true})),
                (None, _) => Err(ApiError::new(400, "password_not_set", "no password", "This user has no password.")),
                _ => Err(ApiError::new(422, "incorrect_password", "incorrect password", "The password is incorrect.")),
            }
        }
        "VerifyTOTP" => {
            if user(store, ctx.path("user_id")).is_err() {
                return Some(Err(ApiError::not_found("user")));
            }
            match s(&ctx.json, "code") {
                Some(code) if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => {
                    ok(json!({"verified": true, "code_type": "totp"}))
                }
                _ => Err(ApiError::new(422, "verification_failed", "invalid code", "The TOTP code is invalid.")),
            }
        }
        "DisableMFA" => {
            let now = store.now_ms();
            user_mut(store, ctx.path("user_id")).and_then(|u| {
                u["two_factor_enabled"] = json!(false);
                u["totp_enabled"] = json!(false);
                u["backup_code_enabled"] = json!(false);
                u["mfa_disabled_at"] = json!(now);
                ok(json!({"user_id": u["id"]}))
            })
        }
        "SetUserProfileImage" => {
            let now = store.now_ms();
            let Some((name, ctype, data)) = ctx.files.get("file") else {
                return Some(Err(ApiError::param_missing("file")));
            };
            if data.is_empty() {
                return Some(Err(ApiError::param_invalid("file", "empty file")));
            }
            let url = format!("https://img.clerk.com/emulator/{}", ids::random_base62(16));
            let _ = (name, ctype);
            user_mut(store, ctx.path("user_id")).and_then(|u| {
                u["image_url"] = json!(url);
                u["profile_image_url"] = json!(url);
                u["has_image"] = json!(true);
                u["updated_at"] = json!(now);
                ok(u.clone())
            })
        }
        "DeleteUserProfileImage" => {
            let now = store.now_ms();
            user_mut(store, ctx.path("user_id")).and_then(|u| {
                u["image_url"] = json!("https://img.clerk.com/emulator/default");
                u["profile_image_url"] = json!("https://img.clerk.com/emulator/default");
                u["has_image"] = json!(false);
                u["updated_at"] = json!(now);
                ok(u.clone())
            })
        }
        "GetOAuthAccessToken" => {
            if user(store, ctx.path("user_id")).is_err() {
                return Some(Err(ApiError::not_found("user")));
            }
            list(ctx, Vec::new())
        }
        "UsersGetOrganizationMemberships" => {
            if user(store, ctx.path("user_id")).is_err() {
                return Some(Err(ApiError::not_found("user")));
            }
            let items = store.orgs.memberships_of_user(ctx.path("user_id"));
            list(ctx, items)
        }
        // Email addresses and phone numbers.
        "CreateEmailAddress" => create_identification(store, ctx, "email_address"),
        "CreatePhoneNumber" => create_identification(store, ctx, "phone_number"),
        "GetEmailAddress" => {
            find_identification(store, ctx.path("email_address_id"), "email_addresses").and_then(|(_, v)| ok(v))
        }
        "GetPhoneNumber" => {
            find_identification(store, ctx.path("phone_number_id"), "phone_numbers").and_then(|(_, v)| ok(v))
        }
        "UpdateEmailAddress" => update_identification(store, ctx, ctx.path("email_address_id"), "email_addresses"),
        "UpdatePhoneNumber" => update_identification(store, ctx, ctx.path("phone_number_id"), "phone_numbers"),
        "DeleteEmailAddress" => {
            delete_identification(store, ctx.path("email_address_id"), "email_addresses", "email_address")
        }
        "DeletePhoneNumber" => {
            delete_identification(store, ctx.path("phone_number_id"), "phone_numbers", "phone_number")
        }
        // Sessions and clients.
        "GetSession" => store
            .users
            .sessions
            .get(ctx.path("session_id"))
            .cloned()
            .ok_or_else(|| ApiError::not_found("session"))
            .and_then(ok),
        "GetSessionList" => {
            let (uid, cid) = (ctx.query_one("user_id"), ctx.query_one("client_id"));
            if uid.is_none() && cid.is_none() {
                return Some(Err(ApiError::param_missing("user_id")));
            }
            let status = ctx.query_one("status");
            let items: Vec<Value> = store
                .users
                .sessions
                .values()
                .filter(|s| uid.is_none_or(|u| s["user_id"] == u))
                .filter(|s| cid.is_none_or(|c| s["client_id"] == c))
                .filter(|s| status.is_none_or(|st| s["status"] == st))
                .cloned()
                .collect();
            list(ctx, items)
        }
        "RevokeSession" => {
            let now = store.now_ms();
            match store.users.sessions.get_mut(ctx.path("session_id")) {
                Some(sess) => {
                    sess["status"] = json!("revoked");
                    sess["updated_at"] = json!(now);
                    ok(sess.clone())
                }
                None => Err(ApiError::not_found("session")),
            }
        }
        "CreateSessionTokenFromTemplate" => session_token_from_template(store, shared, ctx),
        "GetClient" => store
            .users
            .clients
            .get(ctx.path("client_id"))
            .map(|c| client_view(store, c))
            .ok_or_else(|| ApiError::not_found("client"))
            .and_then(ok),
        "VerifyClient" => {
            let token = s(&ctx.json, "token").unwrap_or_default();
            match store.users.client_tokens.get(token).and_then(|cid| store.users.clients.get(cid)) {
                Some(c) => ok(client_view(store, c)),
                None => {
                    Err(ApiError::new(400, "client_not_found", "client not found", "No client matches this token."))
                }
            }
        }
        _ => return None,
    };
    Some(r)
}

/// A client as the Backend API returns it: its sessions as they are now (revoked, ended, …), not as they were when
/// the client was created.
pub(crate) fn client_view(store: &Store, client: &Value) -> Value {
    let mut view = client.clone();
    if let Some(ids) = client["session_ids"].as_array() {
        view["sessions"] =
            ids.iter().filter_map(|id| store.users.sessions.get(id.as_str()?)).cloned().collect::<Vec<_>>().into();
    }
    view
}

fn user<'a>(store: &'a Store, id: &str) -> Result<&'a Value, ApiError> {
    store.users.users.get(id).ok_or_else(|| ApiError::not_found("user"))
}

fn user_mut<'a>(store: &'a mut Store, id: &str) -> Result<&'a mut Value, ApiError> {
    store.users.users.get_mut(id).ok_or_else(|| ApiError::not_found("user"))
}

fn set_flag(store: &mut Store, ctx: &Ctx, flag: &str, value: bool) -> Result<Reply, ApiError> {
    let now = store.now_ms();
    let u = user_mut(store, ctx.path("user_id"))?;
    u[flag] = json!(value);
    if flag == "locked" {
        u["lockout_expires_in_seconds"] = if value { json!(3600) } else { Value::Null };
    }
    u["updated_at"] = json!(now);
    ok(u.clone())
}

fn verification_admin() -> Value {
    json!({"object": "verification_admin", "status": "verified", "strategy": "admin", "attempts": null, "expire_at": null})
}

fn identification(kind: &str, value: &str, now: i64) -> Value {
    let (prefix, field) = if kind == "email_address" { ("idn", "email_address") } else { ("idn", "phone_number") };
    let mut v = json!({
        "id": ids::new_id(prefix),
        "object": kind,
        field: value,
        "reserved": false,
        "verification": verification_admin(),
        "linked_to": [],
        "created_at": now,
        "updated_at": now,
    });
    if kind == "phone_number" {
        v["reserved_for_second_factor"] = json!(false);
        v["default_second_factor"] = json!(false);
        v["backup_codes"] = Value::Null;
    }
    v
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
}

fn valid_phone(p: &str) -> bool {
    p.starts_with('+') && p.len() >= 8 && p[1..].bytes().all(|b| b.is_ascii_digit())
}

fn email_taken(store: &Store, email: &str) -> bool {
    store.users.users.values().any(|u| {
        u["email_addresses"].as_array().is_some_and(|a| {
            a.iter().any(|e| e["email_address"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(email)))
        })
    })
}

fn string_list<'a>(body: &'a Value, key: &str) -> Vec<&'a str> {
    match body.get(key) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

impl Store {
    /// `POST /users`.
    pub(crate) fn create_user(&mut self, body: &Value) -> Result<Value, ApiError> {
        let now =
            body.get("created_at").and_then(Value::as_str).and_then(parse_rfc3339_ms).unwrap_or_else(|| self.now_ms());
        let emails = string_list(body, "email_address");
        let phones = string_list(body, "phone_number");
        for e in &emails {
            if !valid_email(e) {
                return Err(ApiError::param_invalid("email_address", "is not a valid email address"));
            }
            if email_taken(self, e) {
                return Err(ApiError::conflict(
                    "form_identifier_exists",
                    "email_address",
                    "That email address is taken. Please try another.",
                ));
            }
        }
        for p in &phones {
            if !valid_phone(p) {
                return Err(ApiError::param_invalid("phone_number", "is not a valid phone number in E.164 format"));
            }
        }
        if let Some(username) = s(body, "username") {
            if username.len() < 4 || username.len() > 64 {
                return Err(ApiError::param_invalid("username", "must be between 4 and 64 characters"));
            }
            if self.users.users.values().any(|u| u["username"] == username) {
                return Err(ApiError::conflict(
                    "form_identifier_exists",
                    "username",
                    "That username is taken. Please try another.",
                ));
            }
        }
        if let Some(ext) = s(body, "external_id")
            && self.users.users.values().any(|u| u["external_id"] == ext)
        {
            return Err(ApiError::conflict("form_identifier_exists", "external_id", "That external ID is taken."));
        }
        if let Some(pw) = s(body, "password")
            && pw.len() < 8
            && body.get("skip_password_checks") != Some(&json!(true))
        {
            return Err(ApiError::unprocessable(
                "form_password_length_too_short",
                "Passwords must be 8 characters or more.",
            ));
        }
        let email_objs: Vec<Value> =
            emails.iter().map(|e| identification("email_address", &e.to_lowercase(), now)).collect();
        let phone_objs: Vec<Value> = phones.iter().map(|p| identification("phone_number", p, now)).collect();
        let id = ids::new_id("user");
        let mut u = json!({
            "id": id,
            "object": "user",
            "external_id": null,
            "primary_email_address_id": email_objs.first().map(|e| e["id"].clone()),
            "primary_phone_number_id": phone_objs.first().map(|e| e["id"].clone()),
            "primary_web3_wallet_id": null,
            "username": null,
            "first_name": null,
            "last_name": null,
            "locale": null,
            "profile_image_url": "https://img.clerk.com/emulator/default",
            "image_url": "https://img.clerk.com/emulator/default",
            "has_image": false,
            "public_metadata": {},
            "private_metadata": {},
            "unsafe_metadata": {},
            "email_addresses": email_objs,
            "phone_numbers": phone_objs,
            "web3_wallets": [],
            "passkeys": [],
            "password_enabled": s(body, "password").is_some() || s(body, "password_digest").is_some(),
            "two_factor_enabled": false,
            "totp_enabled": s(body, "totp_secret").is_some(),
            "backup_code_enabled": body.get("backup_codes").is_some_and(|b| b.as_array().is_some_and(|a| !a.is_empty())),
            "mfa_enabled_at": null,
            "mfa_disabled_at": null,
            "password_last_updated_at": null,
            "external_accounts": [],
            "saml_accounts": [],
            "enterprise_accounts": [],
            "last_sign_in_at": null,
            "banned": body.get("banned").and_then(Value::as_bool).unwrap_or(false),
            "locked": body.get("locked").and_then(Value::as_bool).unwrap_or(false),
            "lockout_expires_in_seconds": null,
            "verification_attempts_remaining": 100,
            "updated_at": now,
            "created_at": now,
            "delete_self_enabled": body.get("delete_self_enabled").and_then(Value::as_bool).unwrap_or(true),
            "create_organization_enabled": body.get("create_organization_enabled").and_then(Value::as_bool).unwrap_or(true),
            "create_organizations_limit": body.get("create_organizations_limit").cloned().unwrap_or(Value::Null),
            "last_active_at": null,
            "legal_accepted_at": null,
        });
        copy_fields(&mut u, body, &["external_id", "username", "first_name", "last_name", "locale"]);
        for key in ["public_metadata", "private_metadata", "unsafe_metadata"] {
            u[key] = obj(body, key);
        }
        if let Some(pw) = s(body, "password") {
            self.users.passwords.insert(id.clone(), pw.to_owned());
            u["password_last_updated_at"] = json!(now);
        }
        self.users.users.insert(id, u.clone());
        Ok(u)
    }

    /// Creates a client and an active session for `user_id`; `None` if the user does not exist.
    pub(crate) fn create_session(&mut self, user_id: &str) -> Option<String> {
        let now = self.now_ms();
        let user = self.users.users.get_mut(user_id)?;
        user["last_sign_in_at"] = json!(now);
        user["last_active_at"] = json!(now);
        let sid = ids::new_id("sess");
        let cid = ids::new_id("client");
        let session = json!({
            "object": "session",
            "id": sid,
            "user_id": user_id,
            "client_id": cid,
            "actor": null,
            "status": "active",
            "last_active_organization_id": null,
            "last_active_at": now,
            "expire_at": now + 7 * 24 * 3600 * 1000,
            "abandon_at": now + 30 * 24 * 3600 * 1000,
            "updated_at": now,
            "created_at": now,
        });
        let client = json!({
            "object": "client",
            "id": cid,
            "session_ids": [sid],
            "sessions": [session.clone()],
            "sign_in_id": null,
            "sign_up_id": null,
            "last_active_session_id": sid,
            "last_authentication_strategy": null,
            "updated_at": now,
            "created_at": now,
        });
        self.users.client_tokens.insert(format!("client_token_{cid}"), cid.clone());
        self.users.sessions.insert(sid.clone(), session);
        self.users.clients.insert(cid, client);
        Some(sid)
    }

    /// The user of a session.
    pub(crate) fn session_user(&self, session_id: &str) -> Option<String> {
        self.users.sessions.get(session_id).and_then(|s| s["user_id"].as_str()).map(str::to_owned)
    }
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` (fractions and offsets ignored) to epoch milliseconds.
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

fn filter_users(store: &Store, ctx: &Ctx) -> Result<Vec<Value>, ApiError> {
    let emails: Vec<String> = ctx.query_all("email_address").iter().map(|e| e.to_lowercase()).collect();
    let phones = ctx.query_all("phone_number");
    let external = ctx.query_all("external_id");
    let usernames = ctx.query_all("username");
    let user_ids = ctx.query_all("user_id");
    let org_ids = ctx.query_all("organization_id");
    let query = ctx.query_one("query").map(str::to_lowercase);
    let email_q = ctx.query_one("email_address_query").map(str::to_lowercase);
    let name_q = ctx.query_one("name_query").map(str::to_lowercase);
    let username_q = ctx.query_one("username_query").map(str::to_lowercase);
    let phone_q = ctx.query_one("phone_number_query");
    let banned = ctx.query_bool("banned");
    let created_before = ctx.query_int("created_at_before");
    let created_after = ctx.query_int("created_at_after");
    let starting_after = ctx.query_one("starting_after");
    let field_strs = |u: &Value, arr: &str, field: &str| -> Vec<String> {
        u[arr]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e[field].as_str().map(str::to_lowercase)).collect())
            .unwrap_or_default()
    };
    let mut out: Vec<Value> = store
        .users
        .users
        .values()
        .filter(|u| {
            let u_emails = field_strs(u, "email_addresses", "email_address");
            let u_phones = field_strs(u, "phone_numbers", "phone_number");
            let name = format!("{} {}", u["first_name"].as_str().unwrap_or(""), u["last_name"].as_str().unwrap_or(""))
                .to_lowercase();
            let username = u["username"].as_str().unwrap_or("").to_lowercase();
            (emails.is_empty() || emails.iter().any(|e| u_emails.contains(e)))
                && (phones.is_empty() || phones.iter().any(|p| u_phones.iter().any(|x| x == p)))
                && (external.is_empty() || external.iter().any(|x| u["external_id"] == *x))
                && (usernames.is_empty() || usernames.iter().any(|x| u["username"] == *x))
                && (user_ids.is_empty() || user_ids.iter().any(|x| u["id"] == *x))
                && (org_ids.is_empty()
                    || org_ids.iter().any(|o| store.orgs.is_member(o, u["id"].as_str().unwrap_or(""))))
                && query.as_ref().is_none_or(|q| {
                    u_emails.iter().any(|e| e.contains(q.as_str()))
                        || name.contains(q.as_str())
                        || username.contains(q.as_str())
                        || u["id"].as_str().is_some_and(|i| i.to_lowercase().contains(q.as_str()))
                        || u_phones.iter().any(|p| p.contains(q.as_str()))
                })
                && email_q.as_ref().is_none_or(|q| u_emails.iter().any(|e| e.contains(q.as_str())))
                && name_q.as_ref().is_none_or(|q| name.contains(q.as_str()))
                && username_q.as_ref().is_none_or(|q| username.contains(q.as_str()))
                && phone_q.is_none_or(|q| u_phones.iter().any(|p| p.contains(q)))
                && banned.is_none_or(|b| u["banned"] == b)
                && created_before.is_none_or(|t| u["created_at"].as_i64().is_some_and(|c| c < t))
                && created_after.is_none_or(|t| u["created_at"].as_i64().is_some_and(|c| c > t))
        })
        .cloned()
        .collect();
    if let Some(after) = starting_after {
        // Cursor pagination: items after the given user id in the requested order.
        super::sort(&mut out, ctx.query_one("order_by").unwrap_or("-created_at"))?;
        let pos = out
            .iter()
            .position(|u| u["id"] == after)
            .ok_or_else(|| ApiError::param_invalid("starting_after", "no such user"))?;
        out.drain(..=pos);
    }
    Ok(out)
}

fn update_user(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("user_id").to_owned();
    let body = &ctx.json;
    if let Some(username) = s(body, "username")
        && store.users.users.values().any(|u| u["username"] == username && u["id"] != id.as_str())
    {
        return Err(ApiError::conflict(
            "form_identifier_exists",
            "username",
            "That username is taken. Please try another.",
        ));
    }
    if let Some(ext) = s(body, "external_id")
        && store.users.users.values().any(|u| u["external_id"] == ext && u["id"] != id.as_str())
    {
        return Err(ApiError::conflict("form_identifier_exists", "external_id", "That external ID is taken."));
    }
    let now = store.now_ms();
    if let Some(pw) = s(body, "password") {
        if user(store, &id).is_err() {
            return Err(ApiError::not_found("user"));
        }
        store.users.passwords.insert(id.clone(), pw.to_owned());
    }
    let u = user_mut(store, &id)?;
    for (field, list) in [("primary_email_address_id", "email_addresses"), ("primary_phone_number_id", "phone_numbers")]
    {
        if let Some(new) = s(body, field) {
            let owned = u[list].as_array().is_some_and(|a| a.iter().any(|e| e["id"] == new));
            if !owned {
                return Err(ApiError::param_invalid(field, "does not belong to this user"));
            }
        }
    }
    copy_fields(
        u,
        body,
        &[
            "external_id",
            "first_name",
            "last_name",
            "locale",
            "username",
            "primary_email_address_id",
            "primary_phone_number_id",
            "delete_self_enabled",
            "create_organization_enabled",
            "create_organizations_limit",
        ],
    );
    if body.get("username").is_some_and(|v| v == "") {
        u["username"] = Value::Null;
    }
    if body.get("password").is_some() {
        u["password_enabled"] = json!(true);
        u["password_last_updated_at"] = json!(now);
    }
    if body.get("totp_secret").is_some() {
        u["totp_enabled"] = json!(true);
    }
    u["updated_at"] = json!(now);
    ok(u.clone())
}

fn create_identification(store: &mut Store, ctx: &Ctx, kind: &str) -> Result<Reply, ApiError> {
    let user_id = s(&ctx.json, "user_id").unwrap_or_default().to_owned();
    let value = s(&ctx.json, kind).unwrap_or_default().to_owned();
    let (list, primary) = if kind == "email_address" {
        if !valid_email(&value) {
            return Err(ApiError::param_invalid("email_address", "is not a valid email address"));
        }
        if email_taken(store, &value) {
            return Err(ApiError::conflict("form_identifier_exists", "email_address", "That email address is taken."));
        }
        ("email_addresses", "primary_email_address_id")
    } else {
        if !valid_phone(&value) {
            return Err(ApiError::param_invalid("phone_number", "is not a valid phone number in E.164 format"));
        }
        ("phone_numbers", "primary_phone_number_id")
    };
    let now = store.now_ms();
    let u = store.users.users.get_mut(&user_id).ok_or_else(|| ApiError::not_found("user"))?;
    let mut ident = identification(kind, &value, now);
    if ctx.json.get("verified") == Some(&json!(false)) {
        ident["verification"] = Value::Null;
    }
    if kind == "phone_number" && ctx.json.get("reserved_for_second_factor") == Some(&json!(true)) {
        ident["reserved_for_second_factor"] = json!(true);
    }
    if let Some(arr) = u[list].as_array_mut() {
        arr.push(ident.clone());
    }
    if ctx.json.get("primary") == Some(&json!(true)) || u[primary].is_null() {
        u[primary] = ident["id"].clone();
    }
    u["updated_at"] = json!(now);
    ok(ident)
}

fn find_identification(store: &Store, id: &str, list: &str) -> Result<(String, Value), ApiError> {
    for u in store.users.users.values() {
        if let Some(e) = u[list].as_array().and_then(|a| a.iter().find(|e| e["id"] == id)) {
            return Ok((u["id"].as_str().unwrap_or_default().to_owned(), e.clone()));
        }
    }
    Err(ApiError::not_found(list.trim_end_matches('s')))
}

fn update_identification(store: &mut Store, ctx: &Ctx, id: &str, list: &str) -> Result<Reply, ApiError> {
    let (user_id, _) = find_identification(store, id, list)?;
    let now = store.now_ms();
    let primary_field = if list == "email_addresses" { "primary_email_address_id" } else { "primary_phone_number_id" };
    let u = user_mut(store, &user_id)?;
    if ctx.json.get("primary") == Some(&json!(true)) {
        u[primary_field] = json!(id);
    }
    let arr = u[list].as_array_mut().ok_or_else(|| ApiError::not_found(list))?;
    let e = arr.iter_mut().find(|e| e["id"] == id).ok_or_else(|| ApiError::not_found(list))?;
    match ctx.json.get("verified") {
        Some(Value::Bool(true)) => e["verification"] = verification_admin(),
        Some(Value::Bool(false)) => e["verification"] = Value::Null,
        _ => {}
    }
    if let Some(r) = ctx.json.get("reserved_for_second_factor").filter(|v| v.is_boolean()) {
        e["reserved_for_second_factor"] = r.clone();
    }
    e["updated_at"] = json!(now);
    let out = e.clone();
    u["updated_at"] = json!(now);
    ok(out)
}

fn delete_identification(store: &mut Store, id: &str, list: &str, object: &str) -> Result<Reply, ApiError> {
    let (user_id, _) = find_identification(store, id, list)?;
    let primary_field = if list == "email_addresses" { "primary_email_address_id" } else { "primary_phone_number_id" };
    let u = user_mut(store, &user_id)?;
    if let Some(arr) = u[list].as_array_mut() {
        arr.retain(|e| e["id"] != id);
    }
    if u[primary_field] == id {
        u[primary_field] = u[list].as_array().and_then(|a| a.first()).map_or(Value::Null, |e| e["id"].clone());
    }
    ok(deleted(object, id))
}

fn session_token_from_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let sid = ctx.path("session_id");
    let session = store.users.sessions.get(sid).cloned().ok_or_else(|| ApiError::not_found("session"))?;
    if session["status"] != "active" {
        return Err(ApiError::unprocessable("session_not_active", "The session is not active."));
    }
    let template = store
        .instance
        .jwt_template_by_name(ctx.path("template_name"))
        .ok_or_else(|| ApiError::not_found("JWT template"))?;
    let lifetime = ctx
        .json
        .get("expires_in_seconds")
        .and_then(Value::as_i64)
        .or_else(|| template["lifetime"].as_i64())
        .unwrap_or(60);
    let now = store.now_ms() / 1000;
    let mut claims = template["claims"].as_object().cloned().unwrap_or_default();
    let skew = template["allowed_clock_skew"].as_i64().unwrap_or(5);
    for (k, v) in [
        ("sub", json!(session["user_id"])),
        ("sid", json!(sid)),
        ("iat", json!(now)),
        ("nbf", json!(now - skew)),
        ("exp", json!(now + lifetime)),
        ("iss", json!(shared.issuer())),
        ("jti", json!(ids::random_base62(20))),
    ] {
        claims.insert(k.to_owned(), v);
    }
    let key = shared.active_key();
    let jwt = key.sign(&json!({"alg": "RS256", "kid": key.kid(), "typ": "JWT"}), &Value::Object(claims));
    ok(json!({"object": "token", "jwt": jwt}))
}
