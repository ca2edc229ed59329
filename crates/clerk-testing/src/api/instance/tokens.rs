//! Actor tokens (to sign in as a user, impersonating them) and sign-in tokens: one-time tickets for a user, revocable
//! while pending.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::helpers::get_mut;
use crate::api::{Handled, obj, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "CreateActorToken" => create_actor_token(store, shared, ctx),
        "RevokeActorToken" => {
            let now = store.now_ms();
            revoke(&mut store.instance.actor_tokens, ctx.path("actor_token_id"), "actor token", now)
        }
        "CreateSignInToken" => create_sign_in_token(store, shared, ctx),
        "RevokeSignInToken" => {
            let now = store.now_ms();
            revoke(&mut store.instance.sign_in_tokens, ctx.path("sign_in_token_id"), "sign-in token", now)
        }
        _ => return None,
    };
    Some(r)
}

fn create_actor_token(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let user_id = s(body, "user_id").unwrap_or_default().to_owned();
    let actor = obj(body, "actor");
    if actor.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ApiError::param_invalid("actor", "needs a non-empty sub"));
    }
    for key in ["expires_in_seconds", "session_max_duration_in_seconds"] {
        if body.get(key).and_then(Value::as_i64).is_some_and(|v| v < 1) {
            return Err(ApiError::param_invalid(key, "must be a positive number of seconds"));
        }
    }
    if !store.users.users.contains_key(&user_id) {
        return Err(ApiError::not_found("user"));
    }
    let now = store.now_ms();
    let id = ids::new_id("act");
    let token = ids::random_base62(64);
    let v = json!({
        "object": "actor_token",
        "id": id,
        "status": "pending",
        "user_id": user_id,
        "actor": actor,
        "token": token,
        "url": format!("{}/v1/tickets/accept?ticket={token}", shared.issuer()),
        "created_at": now,
        "updated_at": now,
    });
    store.instance.actor_tokens.insert(id, v.clone());
    ok(v)
}

fn create_sign_in_token(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let user_id = s(body, "user_id").unwrap_or_default().to_owned();
    if !store.users.users.contains_key(&user_id) {
        return Err(ApiError::not_found("user"));
    }
    if let Some(org) = s(body, "org_id")
        && !store.orgs.organizations.contains_key(org)
    {
        return Err(ApiError::not_found("organization"));
    }
    let now = store.now_ms();
    let id = ids::new_id("sit");
    let token = ids::random_base62(64);
    let v = json!({
        "object": "sign_in_token",
        "id": id,
        "status": "pending",
        "user_id": user_id,
        "token": token,
        "url": format!("{}/v1/tickets/accept?ticket={token}", shared.issuer()),
        "created_at": now,
        "updated_at": now,
    });
    store.instance.sign_in_tokens.insert(id, v.clone());
    ok(v)
}

/// Revokes a pending actor or sign-in token; anything else is a `400`.
fn revoke(map: &mut BTreeMap<String, Value>, id: &str, what: &str, now: i64) -> Result<Reply, ApiError> {
    let t = get_mut(map, id, what)?;
    if t["status"] != "pending" {
        return Err(ApiError::new(
            400,
            "token_not_revocable",
            "cannot be revoked",
            format!("Only a pending {what} can be revoked; this one is {}.", t["status"].as_str().unwrap_or("unknown")),
        ));
    }
    t["status"] = json!("revoked");
    t["updated_at"] = json!(now);
    ok(t.clone())
}
