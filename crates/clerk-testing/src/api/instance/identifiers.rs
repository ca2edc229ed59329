//! The allow and block lists: identifiers (email addresses or domain wildcards, phone numbers, web3 wallets) that may
//! or may not sign up.

use serde_json::json;

use super::helpers::{remove, valid_hostname};
use crate::api::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "CreateAllowlistIdentifier" => create_identifier(store, shared, ctx, true),
        "CreateBlocklistIdentifier" => create_identifier(store, shared, ctx, false),
        "ListAllowlistIdentifiers" => list(ctx, store.instance.allowlist.values().cloned().collect()),
        "ListBlocklistIdentifiers" => list(ctx, store.instance.blocklist.values().cloned().collect()),
        "DeleteAllowlistIdentifier" => remove(
            &mut store.instance.allowlist,
            ctx.path("identifier_id"),
            "allowlist_identifier",
            "allowlist identifier",
        ),
        "DeleteBlocklistIdentifier" => remove(
            &mut store.instance.blocklist,
            ctx.path("identifier_id"),
            "blocklist_identifier",
            "blocklist identifier",
        ),
        _ => return None,
    };
    Some(r)
}

/// The kind of an allow/block-list identifier: an email address (or `*@domain` / `@domain` wildcard), an E.164
/// phone number or a `0x` web3 wallet.
pub(super) fn identifier_type(identifier: &str) -> Option<&'static str> {
    if let Some(hex) = identifier.strip_prefix("0x") {
        return (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some("web3_wallet");
    }
    if let Some(digits) = identifier.strip_prefix('+') {
        return (digits.len() >= 7 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some("phone_number");
    }
    let (local, domain) = identifier.rsplit_once('@')?;
    let local_ok = local.is_empty() || local == "*" || !local.contains(char::is_whitespace);
    (local_ok && valid_hostname(domain)).then_some("email_address")
}

fn create_identifier(store: &mut Store, shared: &Shared, ctx: &Ctx, allow: bool) -> Result<Reply, ApiError> {
    let raw = s(&ctx.json, "identifier").unwrap_or_default().trim();
    if raw.is_empty() {
        return Err(ApiError::param_missing("identifier"));
    }
    let lowered = raw.to_lowercase();
    let Some(kind) = identifier_type(&lowered) else {
        return Err(ApiError::param_invalid(
            "identifier",
            "must be an email address, an email domain wildcard, a phone number or a web3 wallet",
        ));
    };
    let map = if allow { &store.instance.allowlist } else { &store.instance.blocklist };
    if map.values().any(|v| v["identifier"] == lowered.as_str()) {
        return Err(ApiError::conflict(
            "duplicate_record",
            "identifier",
            format!("{raw} is already on the {}.", if allow { "allowlist" } else { "blocklist" }),
        ));
    }
    let now = store.now_ms();
    let (object, prefix) = if allow { ("allowlist_identifier", "alid") } else { ("blocklist_identifier", "blid") };
    let id = ids::new_id(prefix);
    let v = json!({
        "object": object,
        "id": id,
        "identifier": lowered,
        "identifier_type": kind,
        "instance_id": shared.instance_id,
        "created_at": now,
        "updated_at": now,
    });
    let map = if allow { &mut store.instance.allowlist } else { &mut store.instance.blocklist };
    map.insert(id, v.clone());
    ok(v)
}
