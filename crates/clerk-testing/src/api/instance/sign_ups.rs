//! Sign-ups: started as the Frontend API would (`Emulator::create_sign_up`), read and updated through the Backend API.

use serde_json::{Value, json};

use super::State;
use super::helpers::{flag, get, get_mut};
use crate::api::{Handled, ok};
use crate::errors::ApiError;
use crate::ids;
use crate::server::{Ctx, Reply};
use crate::store::Store;

impl State {
    /// Starts a sign-up (as the Frontend API would) and returns it. Nothing public calls this yet: `UpdateSignUp` can
    /// only reach sign-ups created here.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn create_sign_up(&mut self, now: i64, email: Option<&str>) -> Value {
        let id = ids::new_id("sua");
        let email_verification = if email.is_some() {
            json!({"status": "unverified", "strategy": "email_code", "next_action": "needs_prepare",
                   "supported_strategies": ["email_code"], "attempts": null, "expire_at": null})
        } else {
            Value::Null
        };
        let sign_up = json!({
            "object": "sign_up_attempt",
            "id": id,
            "status": "missing_requirements",
            "required_fields": ["email_address", "password"],
            "optional_fields": ["first_name", "last_name"],
            "missing_fields": if email.is_some() { json!(["password"]) } else { json!(["email_address", "password"]) },
            "unverified_fields": if email.is_some() { json!(["email_address"]) } else { json!([]) },
            "verifications": {
                "email_address": email_verification,
                "phone_number": null,
                "web3_wallet": null,
                "external_account": null,
            },
            "username": null,
            "email_address": email,
            "phone_number": null,
            "web3_wallet": null,
            "password_enabled": false,
            "first_name": null,
            "last_name": null,
            "unsafe_metadata": {},
            "public_metadata": {},
            "custom_action": false,
            "external_id": null,
            "created_session_id": null,
            "created_user_id": null,
            "abandon_at": now + 24 * 3600 * 1000,
            "legal_accepted_at": null,
            "locale": null,
        });
        self.sign_ups.insert(id, sign_up.clone());
        sign_up
    }
}

pub(super) fn handle(store: &mut Store, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "GetSignUp" => get(&store.instance.sign_ups, ctx.path("id"), "sign-up").cloned().and_then(ok),
        "UpdateSignUp" => update_sign_up(store, ctx),
        _ => return None,
    };
    Some(r)
}

pub(super) fn update_sign_up(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let su = get_mut(&mut store.instance.sign_ups, ctx.path("id"), "sign-up")?;
    if let Some(ext) = body.get("external_id").filter(|v| v.is_null() || v.is_string()) {
        su["external_id"] = ext.clone();
    }
    if let Some(custom) = flag(body, "custom_action") {
        su["custom_action"] = json!(custom);
    }
    ok(su.clone())
}
