//! Instance-level resources: allow and block lists, JWT templates, sign-in and actor tokens, redirect URLs, domains,
//! OAuth applications, SAML connections, email/SMS templates, instance settings, proxy checks, the Svix app, sign-ups
//! and the interstitial.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Handled, deleted, list, obj, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

/// Instance-level resources.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) jwt_templates: BTreeMap<String, Value>,
    actor_tokens: BTreeMap<String, Value>,
    sign_in_tokens: BTreeMap<String, Value>,
    allowlist: BTreeMap<String, Value>,
    blocklist: BTreeMap<String, Value>,
    /// Domains; the primary one is added on first use.
    domains: BTreeMap<String, Value>,
    oauth_applications: BTreeMap<String, Value>,
    redirect_urls: BTreeMap<String, Value>,
    saml_connections: BTreeMap<String, Value>,
    sign_ups: BTreeMap<String, Value>,
    /// Email and SMS templates by `"{type}/{slug}"`; the defaults are added on first use.
    templates: BTreeMap<String, Value>,
    /// `PATCH /beta_features/instance_settings`.
    settings: Option<Value>,
    /// `PATCH /instance` (what `GET /instance` shows of it, and the rest as given).
    config: Option<Value>,
    restrictions: Option<Value>,
    organization_settings: Option<Value>,
    /// The Svix app's id, once created.
    svix_app: Option<String>,
}

impl State {
    /// A JWT template by its name.
    pub(crate) fn jwt_template_by_name(&self, name: &str) -> Option<Value> {
        self.jwt_templates.values().find(|t| t["name"] == name).cloned()
    }

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

pub(crate) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    if ctx.op.path.starts_with("/templates/{template_type}") && !matches!(ctx.path("template_type"), "email" | "sms") {
        return Some(Err(ApiError::param_invalid("template_type", "must be email or sms")));
    }
    let r = match ctx.op.id {
        // Actor and sign-in tokens.
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
        // Allow and block lists.
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
        // Instance settings.
        "GetInstance" => ok(instance_view(store, shared)),
        "UpdateInstance" => update_instance(store, ctx),
        "UpdateInstanceAuthConfig" => update_auth_config(store, shared, ctx),
        "UpdateInstanceRestrictions" => update_restrictions(store, ctx),
        "GetInstanceOrganizationSettings" => ok(organization_settings(&mut store.instance).clone()),
        "UpdateInstanceOrganizationSettings" => update_organization_settings(store, ctx),
        "ChangeProductionInstanceDomain" => change_domain(store, shared, ctx),
        // Domains and proxy checks.
        "ListDomains" => {
            ensure_primary_domain(&mut store.instance, shared);
            list(ctx, store.instance.domains.values().cloned().collect())
        }
        "AddDomain" => add_domain(store, shared, ctx),
        "UpdateDomain" => update_domain(store, shared, ctx),
        "DeleteDomain" => {
            ensure_primary_domain(&mut store.instance, shared);
            let id = ctx.path("domain_id");
            match store.instance.domains.get(id) {
                None => Err(ApiError::not_found("domain")),
                Some(d) if d["is_satellite"] != true => Err(ApiError::new(
                    403,
                    "primary_domain_deletion_not_allowed",
                    "cannot delete the primary domain",
                    "Only satellite domains can be deleted.",
                )),
                Some(_) => remove(&mut store.instance.domains, id, "domain", "domain"),
            }
        }
        "VerifyDomainProxy" => verify_domain_proxy(store, shared, ctx),
        // The interstitial.
        "GetPublicInterstitial" => interstitial(shared, ctx),
        // OAuth applications.
        "CreateOAuthApplication" => create_oauth_application(store, shared, ctx),
        "GetOAuthApplication" => {
            get(&store.instance.oauth_applications, ctx.path("oauth_application_id"), "OAuth application")
                .cloned()
                .and_then(ok)
        }
        "ListOAuthApplications" => {
            let q = ctx.query_one("name_query").map(str::to_lowercase);
            let items = store
                .instance
                .oauth_applications
                .values()
                .filter(|a| q.as_ref().is_none_or(|q| a["name"].as_str().unwrap_or("").to_lowercase().contains(q)))
                .cloned()
                .collect();
            envelope(ctx, items, "+created_at")
        }
        "UpdateOAuthApplication" => update_oauth_application(store, ctx),
        "RotateOAuthApplicationSecret" => {
            let now = store.now_ms();
            get_mut(&mut store.instance.oauth_applications, ctx.path("oauth_application_id"), "OAuth application")
                .and_then(|app| {
                    if app["public"] == true {
                        return Err(ApiError::unprocessable(
                            "oauth_application_public",
                            "Public OAuth applications have no client secret.",
                        ));
                    }
                    app["updated_at"] = json!(now);
                    let mut out = app.clone();
                    out["client_secret"] = json!(ids::random_base62(32));
                    ok(out)
                })
        }
        "DeleteOAuthApplication" => remove(
            &mut store.instance.oauth_applications,
            ctx.path("oauth_application_id"),
            "oauth_application",
            "OAuth application",
        ),
        // Redirect URLs.
        "CreateRedirectURL" => create_redirect_url(store, ctx),
        "GetRedirectURL" => get(&store.instance.redirect_urls, ctx.path("id"), "redirect URL").cloned().and_then(ok),
        "ListRedirectURLs" => list(ctx, store.instance.redirect_urls.values().cloned().collect()),
        "DeleteRedirectURL" => {
            remove(&mut store.instance.redirect_urls, ctx.path("id"), "redirect_url", "redirect URL")
        }
        // SAML connections.
        "CreateSAMLConnection" => create_saml_connection(store, shared, ctx),
        "GetSAMLConnection" => get(&store.instance.saml_connections, ctx.path("saml_connection_id"), "SAML connection")
            .cloned()
            .and_then(ok),
        "ListSAMLConnections" => list_saml_connections(store, ctx),
        "UpdateSAMLConnection" => update_saml_connection(store, ctx),
        "DeleteSAMLConnection" => remove(
            &mut store.instance.saml_connections,
            ctx.path("saml_connection_id"),
            "saml_connection",
            "SAML connection",
        ),
        // Sign-ups.
        "GetSignUp" => get(&store.instance.sign_ups, ctx.path("id"), "sign-up").cloned().and_then(ok),
        "UpdateSignUp" => update_sign_up(store, ctx),
        // Email and SMS templates.
        "GetTemplateList" => {
            ensure_templates(store, shared);
            let t = ctx.path("template_type");
            list(ctx, store.instance.templates.values().filter(|v| v["template_type"] == t).cloned().collect())
        }
        "GetTemplate" => {
            ensure_templates(store, shared);
            template_mut(store, ctx).map(|t| t.clone()).and_then(ok)
        }
        "UpsertTemplate" => upsert_template(store, shared, ctx),
        "RevertTemplate" => revert_template(store, shared, ctx),
        "ToggleTemplateDelivery" => toggle_template_delivery(store, shared, ctx),
        "PreviewTemplate" => preview_template(store, shared, ctx),
        // The Svix app.
        "CreateSvixApp" => {
            if store.instance.svix_app.is_some() {
                return Some(Err(ApiError::new(
                    400,
                    "svix_app_exists",
                    "Svix app already exists",
                    "A Svix app already exists for this instance.",
                )));
            }
            let app = ids::new_id("app");
            let url = svix_url(&app);
            store.instance.svix_app = Some(app);
            ok(json!({ "svix_url": url }))
        }
        "GenerateSvixAuthURL" => match &store.instance.svix_app {
            Some(app) => ok(json!({ "svix_url": svix_url(app) })),
            None => Err(svix_missing()),
        },
        "DeleteSvixApp" => match store.instance.svix_app.take() {
            Some(_) => Ok(Reply::Empty(204)),
            None => Err(svix_missing()),
        },
        // JWT templates.
        "CreateJWTTemplate" => create_jwt_template(store, ctx),
        "GetJWTTemplate" => {
            get(&store.instance.jwt_templates, ctx.path("template_id"), "JWT template").cloned().and_then(ok)
        }
        "ListJWTTemplates" => list(ctx, store.instance.jwt_templates.values().cloned().collect()),
        "UpdateJWTTemplate" => update_jwt_template(store, ctx),
        "DeleteJWTTemplate" => {
            remove(&mut store.instance.jwt_templates, ctx.path("template_id"), "jwt_template", "JWT template")
        }
        _ => return None,
    };
    Some(r)
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers.

fn get<'a>(map: &'a BTreeMap<String, Value>, id: &str, what: &str) -> Result<&'a Value, ApiError> {
    map.get(id).ok_or_else(|| ApiError::not_found(what))
}

fn get_mut<'a>(map: &'a mut BTreeMap<String, Value>, id: &str, what: &str) -> Result<&'a mut Value, ApiError> {
    map.get_mut(id).ok_or_else(|| ApiError::not_found(what))
}

fn remove(map: &mut BTreeMap<String, Value>, id: &str, object: &str, what: &str) -> Result<Reply, ApiError> {
    match map.remove(id) {
        Some(_) => ok(deleted(object, id)),
        None => Err(ApiError::not_found(what)),
    }
}

/// Copies the listed fields that are present and not `null` (a `null` in a PATCH leaves the value as it is).
fn set_given(target: &mut Value, body: &Value, fields: &[&str]) {
    for f in fields {
        if let Some(v) = body.get(*f).filter(|v| !v.is_null()) {
            target[*f] = v.clone();
        }
    }
}

/// Sets every field of `fields` on `target`, `null`s included.
fn assign(target: &mut Value, fields: &Value) {
    for (k, v) in fields.as_object().into_iter().flatten() {
        target[k.as_str()] = v.clone();
    }
}

/// A non-null boolean field of the body.
fn flag(body: &Value, key: &str) -> Option<bool> {
    body.get(key).and_then(Value::as_bool)
}

/// The `{data, total_count}` envelope with `default_order` when no `order_by` is given.
fn envelope(ctx: &Ctx, mut items: Vec<Value>, default_order: &str) -> Result<Reply, ApiError> {
    super::sort(&mut items, ctx.query_one("order_by").unwrap_or(default_order))?;
    let total = items.len();
    let limit = usize::try_from(ctx.query_int("limit").unwrap_or(10)).unwrap_or(10);
    let offset = usize::try_from(ctx.query_int("offset").unwrap_or(0)).unwrap_or(0);
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    ok(json!({ "data": page, "total_count": total }))
}

/// `scheme://rest`, no whitespace: what Clerk accepts as a redirect or callback URL (native schemes included).
fn valid_url(u: &str) -> bool {
    let Some((scheme, rest)) = u.split_once("://") else { return false };
    !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !u.contains(char::is_whitespace)
}

/// An `http(s)://host[:port]` origin without a path.
fn valid_origin(u: &str) -> bool {
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains(char::is_whitespace))
}

/// A lowercase DNS name with at least two labels.
fn valid_hostname(h: &str) -> bool {
    h.len() <= 253
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn valid_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains('@') && valid_hostname(&domain.to_ascii_lowercase())
    }) && !e.contains(char::is_whitespace)
}

/// The host the emulator's Frontend API answers on (`127.0.0.1:PORT`).
fn frontend_host(shared: &Shared) -> String {
    let url = shared.issuer();
    url.split_once("://").map_or(url.clone(), |(_, h)| h.to_owned())
}

// ---------------------------------------------------------------------------------------------------------------
// Actor and sign-in tokens.

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

// ---------------------------------------------------------------------------------------------------------------
// Allow and block lists.

/// The kind of an allow/block-list identifier: an email address (or `*@domain` / `@domain` wildcard), an E.164
/// phone number or a `0x` web3 wallet.
fn identifier_type(identifier: &str) -> Option<&'static str> {
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

// ---------------------------------------------------------------------------------------------------------------
// Instance settings.

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

// ---------------------------------------------------------------------------------------------------------------
// Domains.

fn ensure_primary_domain(st: &mut State, shared: &Shared) {
    if st.domains.values().any(|d| d["is_satellite"] != true) {
        return;
    }
    let id = ids::new_id("dmn");
    st.domains.insert(
        id.clone(),
        json!({
            "object": "domain",
            "id": id,
            "name": frontend_host(shared),
            "is_satellite": false,
            "frontend_api_url": shared.issuer(),
            "accounts_portal_url": null,
            "proxy_url": null,
            "development_origin": "",
            "cname_targets": null,
        }),
    );
}

fn check_proxy_url(v: &Value) -> Result<(), ApiError> {
    match v {
        Value::Null => Ok(()),
        Value::String(u) if u.starts_with("https://") && valid_url(u) => Ok(()),
        _ => Err(ApiError::param_invalid("proxy_url", "must be an https URL")),
    }
}

fn check_domain_name(st: &State, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    if !valid_hostname(name) {
        return Err(ApiError::param_invalid("name", "is not a valid domain name"));
    }
    if st.domains.values().any(|d| d["name"] == name && except.is_none_or(|id| d["id"] != id)) {
        return Err(ApiError::conflict("form_identifier_exists", "name", "A domain with this name already exists."));
    }
    Ok(())
}

fn satellite_urls(d: &mut Value, name: &str) {
    d["frontend_api_url"] = json!(format!("https://clerk.{name}"));
    d["accounts_portal_url"] = json!(format!("https://accounts.{name}"));
    d["cname_targets"] =
        json!([{ "host": format!("clerk.{name}"), "value": "frontend-api.clerk.services", "required": true }]);
}

fn add_domain(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    ensure_primary_domain(&mut store.instance, shared);
    let name = s(body, "name").unwrap_or_default().trim().to_lowercase();
    check_domain_name(&store.instance, &name, None)?;
    let proxy = body.get("proxy_url").cloned().unwrap_or(Value::Null);
    check_proxy_url(&proxy)?;
    let id = ids::new_id("dmn");
    let mut d = json!({
        "object": "domain",
        "id": id,
        "name": name,
        "is_satellite": true,
        "proxy_url": proxy,
        "development_origin": "",
    });
    satellite_urls(&mut d, &name);
    store.instance.domains.insert(id, d.clone());
    ok(d)
}

fn update_domain(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    ensure_primary_domain(&mut store.instance, shared);
    let id = ctx.path("domain_id");
    get(&store.instance.domains, id, "domain")?;
    let name = s(body, "name").map(|n| n.trim().to_lowercase());
    if let Some(n) = &name {
        check_domain_name(&store.instance, n, Some(id))?;
    }
    if let Some(p) = body.get("proxy_url") {
        check_proxy_url(p)?;
    }
    let d = get_mut(&mut store.instance.domains, id, "domain")?;
    if let Some(n) = name {
        if d["is_satellite"] == true {
            satellite_urls(d, &n);
        }
        d["name"] = json!(n);
    }
    // An explicit `null` proxy URL switches the domain back to DNS.
    if let Some(p) = body.get("proxy_url") {
        d["proxy_url"] = p.clone();
    }
    ok(d.clone())
}

fn verify_domain_proxy(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let Some(domain_id) = s(body, "domain_id").filter(|d| !d.is_empty()) else {
        return Err(ApiError::param_missing("domain_id"));
    };
    let Some(proxy_url) = s(body, "proxy_url").filter(|p| !p.is_empty()) else {
        return Err(ApiError::param_missing("proxy_url"));
    };
    ensure_primary_domain(&mut store.instance, shared);
    if !store.instance.domains.contains_key(domain_id) {
        return Err(ApiError::param_invalid("domain_id", "no domain has this id"));
    }
    check_proxy_url(&json!(proxy_url))?;
    let now = store.now_ms();
    ok(json!({
        "object": "proxy_check",
        "id": ids::new_id("pxc"),
        "domain_id": domain_id,
        "last_run_at": now,
        "proxy_url": proxy_url,
        "successful": true,
        "created_at": now,
        "updated_at": now,
    }))
}

// ---------------------------------------------------------------------------------------------------------------
// The interstitial.

fn html_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JavaScript string literal that is safe inside `<script>`.
fn js_string(v: &str) -> String {
    Value::String(v.to_owned()).to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The Frontend API host a publishable key names (`pk_test_` + base64 of `host$`).
fn publishable_key_host(pk: &str) -> Option<String> {
    use base64::Engine as _;
    let encoded = pk.strip_prefix("pk_test_").or_else(|| pk.strip_prefix("pk_live_"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_suffix('$').filter(|h| !h.is_empty() && !h.contains(char::is_whitespace)).map(str::to_owned)
}

fn interstitial(shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let pk = ctx.query_one("publishable_key").filter(|v| !v.is_empty());
    let from_key = match pk {
        Some(k) => Some(
            publishable_key_host(k)
                .ok_or_else(|| ApiError::param_invalid("publishable_key", "is not a publishable key"))?,
        ),
        None => None,
    };
    let frontend_api = ctx
        .query_one("frontend_api")
        .or_else(|| ctx.query_one("frontendApi"))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or(from_key)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "missing_frontend_api",
                "missing frontend API",
                "Either frontend_api or publishable_key must be given.",
            )
        })?;
    let proxy_url = ctx.query_one("proxy_url").filter(|v| !v.is_empty());
    let domain = ctx.query_one("domain").filter(|v| !v.is_empty());
    let sign_in_url = ctx.query_one("sign_in_url").filter(|v| !v.is_empty());
    let script_host = match (proxy_url, domain) {
        (Some(p), _) => p.trim_end_matches('/').to_owned(),
        (None, Some(d)) if ctx.query_bool("use_domain_for_script") == Some(true) => format!("https://clerk.{d}"),
        _ if frontend_api.contains("://") => frontend_api.clone(),
        _ if frontend_api == frontend_host(shared) => shared.issuer(),
        _ => format!("https://{frontend_api}"),
    };
    let script = format!("{script_host}/npm/@clerk/clerk-js@5/dist/clerk.browser.js");
    let pk_attr = pk.map(|k| format!(" data-clerk-publishable-key=\"{}\"", html_escape(k))).unwrap_or_default();
    let proxy_attr = proxy_url.map(|p| format!(" data-clerk-proxy-url=\"{}\"", html_escape(p))).unwrap_or_default();
    let domain_attr = domain.map(|d| format!(" data-clerk-domain=\"{}\"", html_escape(d))).unwrap_or_default();
    let opt = |v: Option<&str>| v.map_or_else(|| "undefined".to_owned(), js_string);
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="robots" content="noindex" />
    <title>Clerk interstitial</title>
    <script>
      window.__clerk_frontend_api = {fapi};
      window.__clerk_publishable_key = {pk};
      window.__clerk_proxy_url = {proxy};
      window.__clerk_domain = {domain};
      window.__clerk_sign_in_url = {sign_in};
      window.startClerk = async () => {{
        function formRedirect() {{
          const form = '<form method="get" action="" name="redirect"></form>';
          document.body.innerHTML = document.body.innerHTML + form;
          const searchParams = new URLSearchParams(window.location.search);
          searchParams.set('__clerk_synced', 'true');
          document.forms.redirect.action = window.location.pathname + '?' + searchParams.toString();
          document.forms.redirect.submit();
        }}
        const Clerk = window.Clerk;
        try {{
          await Clerk.load({{ signInUrl: window.__clerk_sign_in_url }});
          if (Clerk.loaded) {{
            if (window.location.href.indexOf('#') === -1) {{
              window.location.href = window.location.href;
            }} else if (window.navigator.userAgent.toLowerCase().includes('firefox/')) {{
              formRedirect();
            }} else {{
              window.location.reload();
            }}
          }}
        }} catch (err) {{
          console.error('Clerk: ', err);
        }}
      }};
    </script>
    <script src="{src}" data-clerk-frontend-api="{fapi_attr}"{pk_attr}{proxy_attr}{domain_attr} async crossorigin="anonymous" onload="window.startClerk()"></script>
  </head>
  <body></body>
</html>
"#,
        fapi = js_string(&frontend_api),
        pk = opt(pk),
        proxy = opt(proxy_url),
        domain = opt(domain),
        sign_in = opt(sign_in_url),
        src = html_escape(&script),
        fapi_attr = html_escape(&frontend_api),
    );
    Ok(Reply::Html(200, html))
}

// ---------------------------------------------------------------------------------------------------------------
// OAuth applications.

const OAUTH_SCOPES: [&str; 6] = ["profile", "email", "public_metadata", "private_metadata", "openid", "offline_access"];

fn check_scopes(v: &Value) -> Result<(), ApiError> {
    if let Some(scopes) = v.as_str()
        && let Some(bad) = scopes.split_whitespace().find(|sc| !OAUTH_SCOPES.contains(sc))
    {
        return Err(ApiError::param_invalid("scopes", &format!("{bad} is not a supported scope")));
    }
    Ok(())
}

/// The redirect URIs a create/update body asks for (`redirect_uris`, or the deprecated `callback_url`).
fn redirect_uris(body: &Value) -> Result<Option<Vec<String>>, ApiError> {
    let uris: Vec<String> = match (body.get("redirect_uris"), s(body, "callback_url")) {
        (Some(Value::Array(a)), _) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        (_, Some(cb)) if !cb.is_empty() => vec![cb.to_owned()],
        _ => return Ok(None),
    };
    if let Some(bad) = uris.iter().find(|u| !valid_url(u)) {
        return Err(ApiError::param_invalid("redirect_uris", &format!("{bad} is not a valid URL")));
    }
    Ok(Some(uris))
}

fn create_oauth_application(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let name = s(body, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    let uris = redirect_uris(body)?.unwrap_or_default();
    let scopes = body.get("scopes").filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!("profile email"));
    check_scopes(&scopes)?;
    let public = flag(body, "public").unwrap_or(false);
    let now = store.now_ms();
    let id = ids::new_id("oa");
    let fapi = shared.issuer();
    let app = json!({
        "object": "oauth_application",
        "id": id,
        "instance_id": shared.instance_id,
        "name": name,
        "client_id": ids::random_base62(16),
        "client_uri": null,
        "client_image_url": null,
        "dynamically_registered": false,
        "consent_screen_enabled": flag(body, "consent_screen_enabled").unwrap_or(true),
        "pkce_required": public || flag(body, "pkce_required").unwrap_or(false),
        "public": public,
        "scopes": scopes,
        "callback_url": uris.first().cloned().unwrap_or_default(),
        "redirect_uris": uris,
        "authorize_url": format!("{fapi}/oauth/authorize"),
        "token_fetch_url": format!("{fapi}/oauth/token"),
        "user_info_url": format!("{fapi}/oauth/userinfo"),
        "discovery_url": format!("{fapi}/.well-known/openid-configuration"),
        "token_introspection_url": format!("{fapi}/oauth/token_info"),
        "created_at": now,
        "updated_at": now,
    });
    store.instance.oauth_applications.insert(id, app.clone());
    let mut out = app;
    if !public {
        out["client_secret"] = json!(ids::random_base62(32));
    }
    ok(out)
}

fn update_oauth_application(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    if s(body, "name").is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    if let Some(scopes) = body.get("scopes") {
        check_scopes(scopes)?;
    }
    let uris = redirect_uris(body)?;
    let now = store.now_ms();
    let app = get_mut(&mut store.instance.oauth_applications, ctx.path("oauth_application_id"), "OAuth application")?;
    set_given(app, body, &["name", "scopes", "consent_screen_enabled", "pkce_required", "public"]);
    if let Some(uris) = uris {
        app["callback_url"] = json!(uris.first().cloned().unwrap_or_default());
        app["redirect_uris"] = json!(uris);
    }
    if app["public"] == true {
        app["pkce_required"] = json!(true);
    }
    app["updated_at"] = json!(now);
    ok(app.clone())
}

// ---------------------------------------------------------------------------------------------------------------
// Redirect URLs.

fn create_redirect_url(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let url = s(&ctx.json, "url").unwrap_or_default().trim().to_owned();
    if url.is_empty() {
        return Err(ApiError::param_missing("url"));
    }
    if !valid_url(&url) {
        return Err(ApiError::param_invalid("url", "is not a valid URL"));
    }
    if store.instance.redirect_urls.values().any(|r| r["url"] == url.as_str()) {
        return Err(ApiError::conflict("duplicate_record", "url", "This redirect URL already exists."));
    }
    let now = store.now_ms();
    let id = ids::new_id("ru");
    let v = json!({ "object": "redirect_url", "id": id, "url": url, "created_at": now, "updated_at": now });
    store.instance.redirect_urls.insert(id, v.clone());
    ok(v)
}

// ---------------------------------------------------------------------------------------------------------------
// SAML connections.

/// The domains a create/update body asks for (`domains`, or the deprecated `domain`), lowercased and checked.
fn saml_domains(body: &Value) -> Result<Option<Vec<String>>, ApiError> {
    let domains: Vec<String> = match (body.get("domains"), s(body, "domain")) {
        (Some(Value::Array(a)), _) => a.iter().filter_map(Value::as_str).map(|d| d.trim().to_lowercase()).collect(),
        (_, Some(d)) => vec![d.trim().to_lowercase()],
        _ => return Ok(None),
    };
    if domains.is_empty() {
        return Err(ApiError::param_invalid("domains", "needs at least one domain"));
    }
    if let Some(bad) = domains.iter().find(|d| !valid_hostname(d)) {
        return Err(ApiError::param_invalid("domains", &format!("{bad} is not a valid domain")));
    }
    Ok(Some(domains))
}

fn check_saml_domains_free(st: &State, domains: &[String], except: Option<&str>) -> Result<(), ApiError> {
    let taken = st.saml_connections.values().filter(|c| except.is_none_or(|id| c["id"] != id)).find_map(|c| {
        c["domains"]
            .as_array()
            .and_then(|a| a.iter().filter_map(Value::as_str).find(|d| domains.iter().any(|x| x == d)))
    });
    match taken {
        Some(d) => Err(ApiError::new(
            409,
            "saml_connection_domain_exists",
            "domain already used",
            format!("Another SAML connection already uses the domain {d}."),
        )
        .with_meta(json!({ "param_name": "domains" }))),
        None => Ok(()),
    }
}

fn check_organization(store: &Store, body: &Value) -> Result<(), ApiError> {
    match s(body, "organization_id") {
        Some(org) if !store.orgs.organizations.contains_key(org) => Err(ApiError::not_found("organization")),
        _ => Ok(()),
    }
}

/// Sets the IdP certificate's validity window when a certificate is set.
fn saml_certificate_dates(c: &mut Value, now: i64) {
    if c["idp_certificate"].as_str().is_some_and(|v| !v.is_empty()) {
        c["idp_certificate_issued_at"] = json!(now);
        c["idp_certificate_expires_at"] = json!(now + 10 * 365 * 24 * 3600 * 1000);
    } else {
        c["idp_certificate_issued_at"] = Value::Null;
        c["idp_certificate_expires_at"] = Value::Null;
    }
}

const SAML_IDP_FIELDS: [&str; 6] =
    ["idp_entity_id", "idp_sso_url", "idp_certificate", "idp_metadata_url", "idp_metadata", "organization_id"];

fn create_saml_connection(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let name = s(body, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    let domains = saml_domains(body)?.ok_or_else(|| ApiError::param_missing("domains"))?;
    check_saml_domains_free(&store.instance, &domains, None)?;
    check_organization(store, body)?;
    let now = store.now_ms();
    let id = ids::new_id("samlc");
    let fapi = shared.issuer();
    let mut mapping = json!({ "user_id": "", "email_address": "", "first_name": "", "last_name": "" });
    if let Some(m) = body.get("attribute_mapping").and_then(Value::as_object) {
        for (k, v) in m {
            mapping[k.as_str()] = v.clone();
        }
    }
    let mut c = json!({
        "object": "saml_connection",
        "id": id,
        "name": name,
        "domain": domains.first().cloned().unwrap_or_default(),
        "domains": domains,
        "idp_entity_id": null,
        "idp_sso_url": null,
        "idp_certificate": null,
        "idp_metadata_url": null,
        "idp_metadata": null,
        "organization_id": null,
        "acs_url": format!("{fapi}/v1/saml/acs/{id}"),
        "sp_entity_id": format!("{fapi}/saml/{id}"),
        "sp_metadata_url": format!("{fapi}/v1/saml/metadata/{id}"),
        "attribute_mapping": mapping,
        "active": false,
        "provider": s(body, "provider").unwrap_or("saml_custom"),
        "user_count": 0,
        "sync_user_attributes": true,
        "allow_subdomains": false,
        "allow_idp_initiated": false,
        "disable_additional_identifications": false,
        "allow_organization_account_linking": false,
        "authenticatable": true,
        "force_authn": flag(body, "force_authn").unwrap_or(false),
        "login_hint": body.get("login_hint").filter(|v| v.is_object()).cloned().unwrap_or_else(|| json!({"mode": "email_address"})),
        "disable_jit_provisioning": false,
        "enterprise_connection_id": null,
        "created_at": now,
        "updated_at": now,
    });
    set_given(&mut c, body, &SAML_IDP_FIELDS);
    saml_certificate_dates(&mut c, now);
    store.instance.saml_connections.insert(id, c.clone());
    ok(c)
}

fn update_saml_connection(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let id = ctx.path("saml_connection_id").to_owned();
    get(&store.instance.saml_connections, &id, "SAML connection")?;
    if s(body, "name").is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    let domains = saml_domains(body)?;
    if let Some(d) = &domains {
        check_saml_domains_free(&store.instance, d, Some(&id))?;
    }
    check_organization(store, body)?;
    let now = store.now_ms();
    // Work on a copy: nothing changes unless the whole update is valid.
    let mut copy = get(&store.instance.saml_connections, &id, "SAML connection")?.clone();
    let c = &mut copy;
    let certificate_before = c["idp_certificate"].clone();
    set_given(c, body, &SAML_IDP_FIELDS);
    set_given(
        c,
        body,
        &[
            "name",
            "sync_user_attributes",
            "allow_subdomains",
            "allow_idp_initiated",
            "disable_additional_identifications",
            "allow_organization_account_linking",
            "force_authn",
            "login_hint",
        ],
    );
    if let Some(d) = domains {
        c["domain"] = json!(d.first().cloned().unwrap_or_default());
        c["domains"] = json!(d);
    }
    if let Some(m) = body.get("attribute_mapping").and_then(Value::as_object) {
        for (k, v) in m {
            c["attribute_mapping"][k.as_str()] = v.clone();
        }
    }
    if c["idp_certificate"] != certificate_before {
        saml_certificate_dates(c, now);
    }
    if let Some(active) = flag(body, "active") {
        let has = |k: &str| c[k].as_str().is_some_and(|v| !v.is_empty());
        let configured = (has("idp_entity_id") && has("idp_sso_url") && has("idp_certificate"))
            || has("idp_metadata")
            || has("idp_metadata_url");
        if active && !configured {
            return Err(ApiError::unprocessable(
                "saml_connection_activation_not_allowed",
                "Configure the identity provider (entity id, SSO URL and certificate, or metadata) before activating.",
            ));
        }
        c["active"] = json!(active);
    }
    c["updated_at"] = json!(now);
    store.instance.saml_connections.insert(id, copy.clone());
    ok(copy)
}

fn list_saml_connections(store: &Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let q = ctx.query_one("query").map(str::to_lowercase);
    let mut orgs = ctx.query_all("organization_id");
    orgs.extend(ctx.query_all("organization_id[]"));
    let items = store
        .instance
        .saml_connections
        .values()
        .filter(|c| {
            q.as_ref().is_none_or(|q| {
                c["name"].as_str().is_some_and(|n| n.to_lowercase().contains(q.as_str()))
                    || c["domains"]
                        .as_array()
                        .is_some_and(|a| a.iter().filter_map(Value::as_str).any(|d| d.contains(q.as_str())))
            })
        })
        .filter(|c| orgs.is_empty() || orgs.iter().any(|o| c["organization_id"] == *o))
        .cloned()
        .collect();
    list(ctx, items)
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-ups.

fn update_sign_up(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
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

// ---------------------------------------------------------------------------------------------------------------
// Email and SMS templates.

/// A default template: type, slug, name, subject (email), body, required variables, available variables.
struct DefaultTemplate {
    kind: &'static str,
    slug: &'static str,
    name: &'static str,
    subject: &'static str,
    body: &'static str,
    required: &'static [&'static str],
    available: &'static [&'static str],
}

const DEFAULT_TEMPLATES: &[DefaultTemplate] = &[
    DefaultTemplate {
        kind: "email",
        slug: "verification_code",
        name: "Verification code",
        subject: "{{otp_code}} is your verification code",
        body: "<p>Enter this verification code to continue to {{app.name}}:</p><p><strong>{{otp_code}}</strong></p>",
        required: &["otp_code"],
        available: &["app.name", "app.url", "otp_code", "requested_at", "requested_by", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "reset_password_code",
        name: "Reset password code",
        subject: "{{otp_code}} is your password reset code",
        body: "<p>Use this code to reset your {{app.name}} password:</p><p><strong>{{otp_code}}</strong></p>",
        required: &["otp_code"],
        available: &["app.name", "app.url", "otp_code", "requested_at", "requested_by", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "magic_link_sign_in",
        name: "Magic link sign in",
        subject: "Sign in to {{app.name}}",
        body: "<p><a href=\"{{magic_link}}\">Sign in to {{app.name}}</a></p>",
        required: &["magic_link"],
        available: &["app.name", "app.url", "magic_link", "ttl_minutes", "requested_at", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "invitation",
        name: "Invitation",
        subject: "{{inviter_name}} invited you to {{app.name}}",
        body: "<p>{{inviter_name}} invited you to join {{app.name}}.</p><p><a href=\"{{action_url}}\">Accept</a></p>",
        required: &["action_url"],
        available: &["app.name", "app.url", "action_url", "inviter_name"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "verification_code",
        name: "Verification code",
        subject: "",
        body: "{{otp_code}} is your verification code for {{app.name}}.",
        required: &["otp_code"],
        available: &["app.name", "otp_code"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "reset_password_code",
        name: "Reset password code",
        subject: "",
        body: "{{otp_code}} is your password reset code for {{app.name}}.",
        required: &["otp_code"],
        available: &["app.name", "otp_code"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "invitation",
        name: "Invitation",
        subject: "",
        body: "{{inviter_name}} invited you to {{app.name}}: {{action_url}}",
        required: &["action_url"],
        available: &["app.name", "action_url", "inviter_name"],
    },
];

fn default_template(kind: &str, slug: &str) -> Option<&'static DefaultTemplate> {
    DEFAULT_TEMPLATES.iter().find(|t| t.kind == kind && t.slug == slug)
}

/// The default content fields of a template (what `RevertTemplate` restores).
fn default_content(d: &DefaultTemplate) -> Value {
    let mut v = json!({
        "resource_type": "system",
        "name": d.name,
        "markup": "",
        "body": d.body,
        "delivered_by_clerk": true,
        "enabled": true,
        "can_revert": false,
    });
    if d.kind == "email" {
        v["subject"] = json!(d.subject);
        v["from_email_name"] = json!("notifications");
        v["reply_to_email_name"] = json!("");
    } else {
        v["subject"] = Value::Null;
    }
    v
}

/// Adds the default templates on first use (newest first in creation order, so the default `-created_at` list
/// order is the templates' position order).
fn ensure_templates(store: &mut Store, shared: &Shared) {
    if !store.instance.templates.is_empty() {
        return;
    }
    for kind in ["email", "sms"] {
        let defaults: Vec<&DefaultTemplate> = DEFAULT_TEMPLATES.iter().filter(|t| t.kind == kind).collect();
        for (position, d) in defaults.iter().enumerate().rev() {
            let now = store.now_ms();
            let mut t = json!({
                "object": "template",
                "id": ids::new_id("tmpl"),
                "instance_id": shared.instance_id,
                "template_type": d.kind,
                "slug": d.slug,
                "position": position,
                "can_delete": false,
                "can_edit_body": true,
                "can_toggle": true,
                "available_variables": d.available,
                "required_variables": d.required,
                "flagged_as_suspicious": false,
                "created_at": now,
                "updated_at": now,
            });
            assign(&mut t, &default_content(d));
            store.instance.templates.insert(format!("{}/{}", d.kind, d.slug), t);
        }
    }
}

fn template_mut<'a>(store: &'a mut Store, ctx: &Ctx) -> Result<&'a mut Value, ApiError> {
    let key = format!("{}/{}", ctx.path("template_type"), ctx.path("slug"));
    store.instance.templates.get_mut(&key).ok_or_else(|| ApiError::not_found("template"))
}

/// The `{{ variable }}` names a template text mentions.
fn variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim_matches(|c: char| c == '{' || c.is_whitespace()));
        rest = &after[end + 2..];
    }
    out
}

/// Fills `{{ variable }}`s with sample values.
fn render(text: &str, app_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim_matches(|c: char| c == '{' || c.is_whitespace());
        let value = match name {
            "app.name" => app_name,
            "app.url" => "https://example.com",
            "otp_code" => "123456",
            "magic_link" => "https://example.com/v1/verify?token=sample",
            "action_url" => "https://example.com/v1/tickets/accept?ticket=sample",
            "inviter_name" => "Ada Lovelace",
            "ttl_minutes" => "10",
            "requested_at" => "1 January 2026, 12:00 UTC",
            "requested_by" => "Chrome, macOS",
            "requested_from" => "127.0.0.1",
            _ => "",
        };
        out.push_str(value);
        rest = after[end + 2..].trim_start_matches('}');
    }
    out.push_str(rest);
    out
}

fn upsert_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let body = &ctx.json;
    for key in ["from_email_name", "reply_to_email_name"] {
        if let Some(v) = s(body, key)
            && (v.contains('@') || v.contains(char::is_whitespace) || (key == "from_email_name" && v.is_empty()))
        {
            return Err(ApiError::param_invalid(key, "must be the local part of an email address"));
        }
    }
    if s(body, "name").is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    let is_email = t["template_type"] == "email";
    let new_body = s(body, "body").or_else(|| t["body"].as_str()).unwrap_or_default().to_owned();
    let new_markup = s(body, "markup").or_else(|| t["markup"].as_str()).unwrap_or_default().to_owned();
    let mentioned: Vec<&str> = variables(&new_body).into_iter().chain(variables(&new_markup)).collect();
    let missing: Vec<&str> = t["required_variables"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).filter(|v| !mentioned.contains(v)).collect())
        .unwrap_or_default();
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(
            "template_missing_required_variables",
            format!("The template must use the variables: {}.", missing.join(", ")),
        ));
    }
    set_given(t, body, &["name", "body", "markup", "delivered_by_clerk"]);
    if is_email {
        set_given(t, body, &["subject", "from_email_name", "reply_to_email_name"]);
    }
    t["resource_type"] = json!("user");
    t["can_revert"] = json!(true);
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn revert_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    if t["can_revert"] != true {
        return Err(ApiError::new(
            400,
            "template_not_revertable",
            "cannot be reverted",
            "This template has not been customized.",
        ));
    }
    let d = default_template(t["template_type"].as_str().unwrap_or(""), t["slug"].as_str().unwrap_or(""))
        .ok_or_else(|| ApiError::not_found("template"))?;
    assign(t, &default_content(d));
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn toggle_template_delivery(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    if t["can_toggle"] != true {
        return Err(ApiError::new(423, "template_locked", "locked", "Delivery of this template cannot be toggled."));
    }
    let current = t["delivered_by_clerk"].as_bool().unwrap_or(true);
    t["delivered_by_clerk"] = json!(flag(&ctx.json, "delivered_by_clerk").unwrap_or(!current));
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn preview_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let kind = ctx.path("template_type");
    ensure_templates(store, shared);
    let t = template_mut(store, ctx)?.clone();
    let body = &ctx.json;
    let app = "Emulated App";
    let text = s(body, "body").or_else(|| t["body"].as_str()).unwrap_or_default();
    let mut out = json!({ "body": render(text, app) });
    if kind == "email" {
        let subject = match body.get("subject") {
            Some(Value::String(sub)) => sub.clone(),
            _ => t["subject"].as_str().unwrap_or_default().to_owned(),
        };
        let from = s(body, "from_email_name").or_else(|| t["from_email_name"].as_str()).unwrap_or("notifications");
        let reply_to = s(body, "reply_to_email_name").or_else(|| t["reply_to_email_name"].as_str()).unwrap_or("");
        let host = "example.com";
        out["subject"] = json!(render(&subject, app));
        out["from_email_address"] = json!(format!("{from}@{host}"));
        out["reply_to_email_address"] =
            if reply_to.is_empty() { Value::Null } else { json!(format!("{reply_to}@{host}")) };
    }
    ok(out)
}

// ---------------------------------------------------------------------------------------------------------------
// The Svix app.

fn svix_url(app: &str) -> String {
    format!("https://app.svix.com/app-portal/{app}/login#key={}", ids::random_base62(40))
}

fn svix_missing() -> ApiError {
    ApiError::new(400, "svix_app_missing", "Svix app missing", "This instance has no Svix app; create one first.")
}

// ---------------------------------------------------------------------------------------------------------------
// JWT templates.

/// Claims every session token carries; a template cannot set them.
const RESERVED_CLAIMS: [&str; 7] = ["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];

const SIGNING_ALGORITHMS: [&str; 9] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"];

/// Checks a create/update body and returns the template fields it sets.
fn jwt_template_fields(st: &State, body: &Value, except: Option<&str>) -> Result<Value, ApiError> {
    let name = s(body, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    if st.jwt_templates.values().any(|t| t["name"] == name.as_str() && except.is_none_or(|id| t["id"] != id)) {
        return Err(ApiError::conflict(
            "form_identifier_exists",
            "name",
            "A JWT template with this name already exists.",
        ));
    }
    let claims = obj(body, "claims");
    if let Some(reserved) = claims.as_object().and_then(|c| RESERVED_CLAIMS.iter().find(|r| c.contains_key(**r))) {
        return Err(ApiError::unprocessable(
            "jwt_template_reserved_claim",
            format!("The claim {reserved} is reserved and cannot be set by a template."),
        )
        .with_meta(json!({ "param_name": "claims" })));
    }
    let custom = flag(body, "custom_signing_key").unwrap_or(false);
    let algorithm = if custom {
        let alg = s(body, "signing_algorithm").ok_or_else(|| ApiError::param_missing("signing_algorithm"))?;
        if !SIGNING_ALGORITHMS.contains(&alg) {
            return Err(ApiError::param_invalid("signing_algorithm", "is not a supported algorithm"));
        }
        if s(body, "signing_key").is_none_or(str::is_empty) {
            return Err(ApiError::param_missing("signing_key"));
        }
        alg
    } else {
        "RS256"
    };
    Ok(json!({
        "name": name,
        "claims": claims,
        "lifetime": body.get("lifetime").and_then(Value::as_i64).unwrap_or(60),
        "allowed_clock_skew": body.get("allowed_clock_skew").and_then(Value::as_i64).unwrap_or(5),
        "custom_signing_key": custom,
        "signing_algorithm": algorithm,
    }))
}

fn create_jwt_template(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let fields = jwt_template_fields(&store.instance, &ctx.json, None)?;
    let now = store.now_ms();
    let id = ids::new_id("jtmp");
    let mut t = json!({ "object": "jwt_template", "id": id, "created_at": now, "updated_at": now });
    assign(&mut t, &fields);
    store.instance.jwt_templates.insert(id, t.clone());
    ok(t)
}

fn update_jwt_template(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("template_id");
    get(&store.instance.jwt_templates, id, "JWT template")?;
    let fields = jwt_template_fields(&store.instance, &ctx.json, Some(id))?;
    let now = store.now_ms();
    let t = get_mut(&mut store.instance.jwt_templates, id, "JWT template")?;
    // The claims are replaced, not merged.
    assign(t, &fields);
    t["updated_at"] = json!(now);
    ok(t.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::OPERATIONS;

    fn ctx(op_id: &str, path_params: Vec<(&'static str, String)>, body: Value) -> Ctx {
        let op = OPERATIONS.iter().find(|o| o.id == op_id).unwrap();
        Ctx { op, path_params, query: Vec::new(), json: body, files: Default::default(), form: Default::default() }
    }

    fn valid(schema: &str, v: &Value) -> Vec<crate::validate::Violation> {
        crate::validate::validate(
            v,
            &json!({ "$ref": format!("#/components/schemas/{schema}") }),
            crate::server::resolver(),
        )
    }

    #[test]
    fn sign_up_update_round_trip_matches_the_spec() {
        let mut store = Store::default();
        let now = store.now_ms();
        let su = store.instance.create_sign_up(now, Some("ada@example.com"));
        assert_eq!(valid("SignUp", &su), vec![]);
        let id = su["id"].as_str().unwrap().to_owned();
        let c = ctx("UpdateSignUp", vec![("id", id)], json!({"external_id": "ext_1", "custom_action": true}));
        let Ok(Reply::Json(200, v)) = update_sign_up(&mut store, &c) else { panic!("update failed") };
        assert_eq!(v["external_id"], "ext_1");
        assert_eq!(v["custom_action"], true);
        assert_eq!(valid("SignUp", &v), vec![]);
        let c = ctx("UpdateSignUp", vec![("id", id_of(&v))], json!({"external_id": null}));
        let Ok(Reply::Json(200, v)) = update_sign_up(&mut store, &c) else { panic!("update failed") };
        assert!(v["external_id"].is_null());
        let missing = ctx("UpdateSignUp", vec![("id", "sua_missing".to_owned())], json!({}));
        assert_eq!(update_sign_up(&mut store, &missing).err().map(|e| e.status()), Some(404));
        let no_email = store.instance.create_sign_up(now, None);
        assert_eq!(valid("SignUp", &no_email), vec![]);
    }

    fn id_of(v: &Value) -> String {
        v["id"].as_str().unwrap().to_owned()
    }

    #[test]
    fn identifiers_and_templates_helpers() {
        assert_eq!(identifier_type("ada@example.com"), Some("email_address"));
        assert_eq!(identifier_type("*@example.com"), Some("email_address"));
        assert_eq!(identifier_type("+15555550100"), Some("phone_number"));
        assert_eq!(identifier_type("0x52908400098527886e0f7030069857d2e4169ee7"), Some("web3_wallet"));
        assert_eq!(identifier_type("not an identifier"), None);
        assert_eq!(identifier_type("a@b"), None);
        assert_eq!(variables("{{ otp_code }} and {{{app.name}}} {{broken"), vec!["otp_code", "app.name"]);
        assert_eq!(render("Code {{otp_code}} for {{ app.name }}{{", "X"), "Code 123456 for X{{");
        assert_eq!(publishable_key_host("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").as_deref(), Some("clerk.example.com"));
        assert_eq!(publishable_key_host("pk_test_???"), None);
        assert!(js_string("</script>").contains("\\u003c/script\\u003e"));
    }
}
