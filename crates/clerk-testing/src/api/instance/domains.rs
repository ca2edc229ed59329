//! Domains (the primary one, added on first use, and satellites) and proxy checks.

use serde_json::{Value, json};

use super::State;
use super::helpers::{frontend_host, get, get_mut, remove, valid_hostname, valid_url};
use crate::api::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
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
        _ => return None,
    };
    Some(r)
}

pub(super) fn ensure_primary_domain(st: &mut State, shared: &Shared) {
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
