//! OAuth applications: the apps that sign users in with this instance as their OAuth provider.

use serde_json::{Value, json};

use super::helpers::{envelope, flag, get, get_mut, remove, set_given, valid_url};
use crate::api::{Handled, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
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
        _ => return None,
    };
    Some(r)
}

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
