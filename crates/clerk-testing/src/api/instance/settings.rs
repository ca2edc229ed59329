//! Instance settings: the instance itself (`GET`/`PATCH /instance`), its auth configuration, restrictions and
//! organization settings, and the change of the production domain.

use serde_json::{Value, json};

use super::State;
use super::domains::ensure_primary_domain;
use super::helpers::{flag, set_given, valid_email, valid_hostname, valid_origin, valid_url};
use crate::Shared;
use crate::api::{Handled, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "GetInstance" => ok(instance_view(store, shared)),
        "UpdateInstance" => update_instance(store, ctx),
        "UpdateInstanceAuthConfig" => update_auth_config(store, shared, ctx),
        "UpdateInstanceRestrictions" => update_restrictions(store, ctx),
        "GetInstanceOrganizationSettings" => ok(organization_settings(&mut store.instance).clone()),
        "UpdateInstanceOrganizationSettings" => update_organization_settings(store, ctx),
        "ChangeProductionInstanceDomain" => change_domain(store, shared, ctx),
        _ => return None,
    };
    Some(r)
}

fn instance_config(st: &mut State) -> &mut Value {
    st.config.get_or_insert_with(|| {
        json!({
            "test_mode": true,
            "hibp": true,
            "support_email": null,
            "clerk_js_version": null,
            "development_origin": null,
            "allowed_origins": null,
            "url_based_session_syncing": true,
            "preferred_sign_in_strategy_when_password_required": "",
        })
    })
}

fn instance_view(store: &mut Store, shared: &Shared) -> Value {
    let environment = if shared.secret_key.starts_with("sk_live_") { "production" } else { "development" };
    let origins = instance_config(&mut store.instance)["allowed_origins"].clone();
    json!({
        "object": "instance",
        "id": shared.instance_id,
        "environment_type": environment,
        "allowed_origins": origins,
        "workspace_id": null,
    })
}

fn update_instance(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    if let Some(origins) = body.get("allowed_origins").and_then(Value::as_array)
        && let Some(bad) = origins.iter().filter_map(Value::as_str).find(|o| !valid_origin(o))
    {
        return Err(ApiError::param_invalid("allowed_origins", &format!("{bad} is not an origin")));
    }
    if let Some(email) = s(body, "support_email")
        && !email.is_empty()
        && !valid_email(email)
    {
        return Err(ApiError::param_invalid("support_email", "is not a valid email address"));
    }
    if let Some(origin) = s(body, "development_origin")
        && !origin.is_empty()
        && !valid_url(origin)
    {
        return Err(ApiError::param_invalid("development_origin", "is not a valid URL"));
    }
    let config = instance_config(&mut store.instance);
    set_given(
        config,
        body,
        &[
            "test_mode",
            "hibp",
            "support_email",
            "clerk_js_version",
            "development_origin",
            "allowed_origins",
            "url_based_session_syncing",
            "preferred_sign_in_strategy_when_password_required",
        ],
    );
    // The deprecated name of `url_based_session_syncing`.
    if let Some(v) = flag(body, "cookieless_dev")
        && body.get("url_based_session_syncing").is_none_or(Value::is_null)
    {
        config["url_based_session_syncing"] = json!(v);
    }
    Ok(Reply::Empty(204))
}

fn restrictions(st: &mut State) -> &mut Value {
    st.restrictions.get_or_insert_with(|| {
        json!({
            "object": "instance_restrictions",
            "allowlist": false,
            "blocklist": false,
            "allowlist_blocklist_disabled_on_sign_in": false,
            "block_email_subaddresses": false,
            "block_disposable_email_domains": false,
        })
    })
}

fn update_restrictions(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let fields = [
        "allowlist",
        "blocklist",
        "allowlist_blocklist_disabled_on_sign_in",
        "block_email_subaddresses",
        "block_disposable_email_domains",
    ];
    set_given(restrictions(&mut store.instance), &ctx.json, &fields);
    // The allowlist restriction and the settings' `restricted_to_allowlist` are one switch.
    if let Some(v) = flag(&ctx.json, "allowlist")
        && let Some(settings) = store.instance.settings.as_mut()
    {
        settings["restricted_to_allowlist"] = json!(v);
    }
    ok(restrictions(&mut store.instance).clone())
}

fn update_auth_config(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    if let Some(from) = s(body, "from_email_address")
        && (from.is_empty() || from.contains('@') || from.contains(char::is_whitespace))
    {
        return Err(ApiError::param_invalid("from_email_address", "must be the local part of an email address"));
    }
    let allowlist = restrictions(&mut store.instance)["allowlist"].as_bool().unwrap_or(false);
    let settings = store.instance.settings.get_or_insert_with(|| {
        json!({
            "object": "instance_settings",
            "id": shared.instance_id,
            "restricted_to_allowlist": allowlist,
            "from_email_address": "noreply",
            "progressive_sign_up": true,
            "enhanced_email_deliverability": false,
        })
    });
    set_given(settings, body, &["restricted_to_allowlist", "from_email_address", "progressive_sign_up"]);
    let out = settings.clone();
    if let Some(v) = flag(body, "restricted_to_allowlist") {
        restrictions(&mut store.instance)["allowlist"] = json!(v);
    }
    if let Some(v) = flag(body, "test_mode") {
        instance_config(&mut store.instance)["test_mode"] = json!(v);
    }
    ok(out)
}

const ENROLLMENT_MODES: [&str; 3] = ["manual_invitation", "automatic_invitation", "automatic_suggestion"];

fn organization_settings(st: &mut State) -> &mut Value {
    st.organization_settings.get_or_insert_with(|| {
        json!({
            "object": "organization_settings",
            "enabled": true,
            "max_allowed_memberships": 5,
            "max_allowed_roles": 10,
            "max_allowed_domains": 10,
            "creator_role": "org:admin",
            "admin_delete_enabled": true,
            "domains_enabled": false,
            "slug_disabled": false,
            "domains_enrollment_modes": [],
            "domains_default_role": "org:member",
        })
    })
}

fn update_organization_settings(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    if body.get("max_allowed_memberships").and_then(Value::as_i64).is_some_and(|n| n < 0) {
        return Err(ApiError::param_invalid("max_allowed_memberships", "must not be negative"));
    }
    if let Some(modes) = body.get("domains_enrollment_modes").and_then(Value::as_array)
        && let Some(bad) = modes.iter().find(|m| m.as_str().is_none_or(|m| !ENROLLMENT_MODES.contains(&m)))
    {
        return Err(ApiError::param_invalid("domains_enrollment_modes", &format!("{bad} is not an enrollment mode")));
    }
    for key in ["creator_role_id", "domains_default_role_id"] {
        if s(body, key).is_some_and(str::is_empty) {
            return Err(ApiError::param_invalid(key, "must not be empty"));
        }
    }
    let settings = organization_settings(&mut store.instance);
    set_given(
        settings,
        body,
        &[
            "enabled",
            "max_allowed_memberships",
            "admin_delete_enabled",
            "domains_enabled",
            "slug_disabled",
            "domains_enrollment_modes",
        ],
    );
    // The emulator has no role objects: the given role identifier is what the settings show.
    if let Some(role) = s(body, "creator_role_id") {
        settings["creator_role"] = json!(role);
    }
    if let Some(role) = s(body, "domains_default_role_id") {
        settings["domains_default_role"] = json!(role);
    }
    ok(settings.clone())
}

/// `POST /instance/change_domain`: the primary domain takes the host of `home_url`.
fn change_domain(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let home = s(&ctx.json, "home_url").unwrap_or_default().trim();
    if home.is_empty() {
        return Err(ApiError::param_missing("home_url"));
    }
    let host = home.split_once("://").map_or(home, |(_, rest)| rest);
    let host = host.split(['/', '?', '#']).next().unwrap_or_default().to_lowercase();
    if !valid_hostname(&host) {
        return Err(ApiError::param_invalid("home_url", "is not a valid URL or domain"));
    }
    ensure_primary_domain(&mut store.instance, shared);
    if store.instance.domains.values().any(|d| d["name"] == host.as_str() && d["is_satellite"] == true) {
        return Err(ApiError::conflict(
            "form_identifier_exists",
            "home_url",
            "A satellite domain already uses this name.",
        ));
    }
    if let Some(primary) = store.instance.domains.values_mut().find(|d| d["is_satellite"] != true) {
        primary["frontend_api_url"] = json!(format!("https://clerk.{host}"));
        primary["accounts_portal_url"] = json!(format!("https://accounts.{host}"));
        primary["name"] = json!(host);
    }
    Ok(Reply::Empty(202))
}
