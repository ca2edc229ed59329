//! SAML connections: enterprise sign-in through an identity provider, for the email domains a connection claims.

use serde_json::{Value, json};

use super::State;
use super::helpers::{flag, get, remove, set_given, valid_hostname};
use crate::api::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
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
        _ => return None,
    };
    Some(r)
}

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
