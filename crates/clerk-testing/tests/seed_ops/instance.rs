//! Seed operations of the `instance` group: allow and block lists, JWT templates, sign-in and actor tokens, redirect
//! URLs, domains, OAuth applications, SAML connections, templates, instance settings, proxy checks, the Svix app,
//! sign-ups and the interstitial.

use bytes::Bytes;
use clerk_core::{HttpTransport, HyperTransport};
use serde_json::{Value, json};

use crate::support::{Answer, Api, assert_matches_spec};

/// The seed operations this module exercises (and a few instance reads it uses for state assertions).
pub const COVERED: &[&str] = &[
    "CreateActorToken",
    "RevokeActorToken",
    "CreateAllowlistIdentifier",
    "DeleteAllowlistIdentifier",
    "ListAllowlistIdentifiers",
    "CreateBlocklistIdentifier",
    "DeleteBlocklistIdentifier",
    "ListBlocklistIdentifiers",
    "UpdateInstanceAuthConfig",
    "ChangeProductionInstanceDomain",
    "UpdateInstance",
    "UpdateInstanceRestrictions",
    "UpdateInstanceOrganizationSettings",
    "AddDomain",
    "DeleteDomain",
    "ListDomains",
    "UpdateDomain",
    "GetPublicInterstitial",
    "CreateOAuthApplication",
    "DeleteOAuthApplication",
    "GetOAuthApplication",
    "ListOAuthApplications",
    "RotateOAuthApplicationSecret",
    "UpdateOAuthApplication",
    "VerifyDomainProxy",
    "CreateRedirectURL",
    "DeleteRedirectURL",
    "GetRedirectURL",
    "ListRedirectURLs",
    "CreateSAMLConnection",
    "DeleteSAMLConnection",
    "GetSAMLConnection",
    "ListSAMLConnections",
    "UpdateSAMLConnection",
    "CreateSignInToken",
    "RevokeSignInToken",
    "UpdateSignUp",
    "GetTemplate",
    "GetTemplateList",
    "PreviewTemplate",
    "RevertTemplate",
    "ToggleTemplateDelivery",
    "UpsertTemplate",
    "CreateSvixApp",
    "GenerateSvixAuthURL",
    "DeleteSvixApp",
    "CreateJWTTemplate",
    "DeleteJWTTemplate",
    "GetJWTTemplate",
    "ListJWTTemplates",
    "UpdateJWTTemplate",
    // Not in the seed; used here to observe state.
    "GetInstance",
    "GetInstanceOrganizationSettings",
];

/// A JSON request that is expected to fail: returns the answer after checking Clerk's error shape and that the spec
/// documents the status for `op_id` (when `op_id` is given).
async fn fail(api: &Api, op_id: Option<&str>, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
    let body = body.map(|b| ("application/json", Bytes::from(b.to_string())));
    let a = api.raw(method, path, body).await;
    assert_eq!(a.status, status, "{method} {path}: {}", String::from_utf8_lossy(&a.bytes));
    let v = a.json();
    assert!(v["errors"][0]["code"].is_string(), "Clerk error shape: {v}");
    assert!(v["errors"][0]["long_message"].is_string(), "Clerk error shape: {v}");
    if let Some(op) = op_id {
        assert_matches_spec(op, status, &v);
    }
    v
}

fn ids(list: &Value) -> Vec<String> {
    let items = list.get("data").unwrap_or(list);
    items.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn actor_tokens_are_created_pending_and_revoked_once() {
    let api = Api::start().await;
    let user = api.user("imp@example.com").await;
    let admin = api.user("admin@example.com").await;
    let t = api
        .call(
            "CreateActorToken",
            "/actor_tokens",
            Some(json!({"user_id": user, "actor": {"sub": admin, "reason": "support"}, "expires_in_seconds": 600})),
        )
        .await;
    assert_eq!(t["status"], "pending");
    assert_eq!(t["user_id"], user.as_str());
    assert_eq!(t["actor"]["sub"], admin.as_str());
    let token = t["token"].as_str().unwrap();
    assert!(!token.is_empty());
    assert!(t["url"].as_str().unwrap().ends_with(&format!("ticket={token}")));
    let id = t["id"].as_str().unwrap();

    let r = api.call("RevokeActorToken", &format!("/actor_tokens/{id}/revoke"), None).await;
    assert_eq!(r["status"], "revoked");
    assert_eq!(r["id"], id);
    fail(&api, Some("RevokeActorToken"), "POST", &format!("/actor_tokens/{id}/revoke"), None, 400).await;
    fail(&api, Some("RevokeActorToken"), "POST", "/actor_tokens/act_missing/revoke", None, 404).await;

    // The body is checked against the spec: `actor` needs `sub`, and the seed's top-level `actor_id` is refused.
    fail(&api, Some("CreateActorToken"), "POST", "/actor_tokens", Some(json!({"user_id": user, "actor": {}})), 422)
        .await;
    let e = fail(
        &api,
        Some("CreateActorToken"),
        "POST",
        "/actor_tokens",
        Some(json!({"user_id": user, "actor": {"sub": admin}, "actor_id": admin})),
        422,
    )
    .await;
    assert_eq!(e["errors"][0]["code"], "form_param_unknown");
    fail(&api, None, "POST", "/actor_tokens", Some(json!({"user_id": "user_missing", "actor": {"sub": admin}})), 404)
        .await;
}

#[tokio::test]
async fn sign_in_tokens_need_a_user_and_revoke() {
    let api = Api::start().await;
    let user = api.user("signin@example.com").await;
    let t = api.call("CreateSignInToken", "/sign_in_tokens", Some(json!({"user_id": user}))).await;
    assert_eq!(t["status"], "pending");
    assert!(t["token"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(t["url"].as_str().unwrap().contains("/v1/tickets/accept?ticket="));
    let id = t["id"].as_str().unwrap();

    let r = api.call("RevokeSignInToken", &format!("/sign_in_tokens/{id}/revoke"), None).await;
    assert_eq!(r["status"], "revoked");
    fail(&api, Some("RevokeSignInToken"), "POST", &format!("/sign_in_tokens/{id}/revoke"), None, 400).await;
    fail(&api, Some("RevokeSignInToken"), "POST", "/sign_in_tokens/sit_missing/revoke", None, 404).await;
    fail(&api, Some("CreateSignInToken"), "POST", "/sign_in_tokens", Some(json!({"user_id": "user_missing"})), 404)
        .await;
    fail(&api, Some("CreateSignInToken"), "POST", "/sign_in_tokens", Some(json!({})), 422).await;
}

#[tokio::test]
async fn allow_and_block_lists_hold_unique_identifiers() {
    let api = Api::start().await;
    assert_eq!(api.call("ListAllowlistIdentifiers", "/allowlist_identifiers", None).await, json!([]));

    let a = api
        .call("CreateAllowlistIdentifier", "/allowlist_identifiers", Some(json!({"identifier": "Ada@Example.com"})))
        .await;
    assert_eq!(a["identifier"], "ada@example.com");
    assert_eq!(a["identifier_type"], "email_address");
    let b = api
        .call(
            "CreateAllowlistIdentifier",
            "/allowlist_identifiers",
            Some(json!({"identifier": "+15555550100", "notify": false})),
        )
        .await;
    assert_eq!(b["identifier_type"], "phone_number");
    let wildcard = api
        .call("CreateAllowlistIdentifier", "/allowlist_identifiers", Some(json!({"identifier": "*@acme.dev"})))
        .await;
    assert_eq!(wildcard["identifier_type"], "email_address");
    let e = fail(
        &api,
        Some("CreateAllowlistIdentifier"),
        "POST",
        "/allowlist_identifiers",
        Some(json!({"identifier": "ada@example.com"})),
        422,
    )
    .await;
    assert_eq!(e["errors"][0]["code"], "duplicate_record");
    fail(
        &api,
        Some("CreateAllowlistIdentifier"),
        "POST",
        "/allowlist_identifiers",
        Some(json!({"identifier": "not an identifier"})),
        422,
    )
    .await;

    let all = api.call("ListAllowlistIdentifiers", "/allowlist_identifiers", None).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let page = api.call("ListAllowlistIdentifiers", "/allowlist_identifiers?paginated=true&limit=2", None).await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);

    let a_id = a["id"].as_str().unwrap();
    let d = api.call("DeleteAllowlistIdentifier", &format!("/allowlist_identifiers/{a_id}"), None).await;
    assert_eq!(d, json!({"object": "allowlist_identifier", "id": a_id, "deleted": true}));
    let all = api.call("ListAllowlistIdentifiers", "/allowlist_identifiers", None).await;
    assert!(!ids(&all).contains(&a_id.to_owned()));
    fail(&api, Some("DeleteAllowlistIdentifier"), "DELETE", &format!("/allowlist_identifiers/{a_id}"), None, 404).await;

    // The block list answers in the `{data, total_count}` envelope.
    let empty = api.call("ListBlocklistIdentifiers", "/blocklist_identifiers", None).await;
    assert_eq!(empty, json!({"data": [], "total_count": 0}));
    let blocked = api
        .call("CreateBlocklistIdentifier", "/blocklist_identifiers", Some(json!({"identifier": "spam@example.com"})))
        .await;
    assert_eq!(blocked["object"], "blocklist_identifier");
    fail(
        &api,
        Some("CreateBlocklistIdentifier"),
        "POST",
        "/blocklist_identifiers",
        Some(json!({"identifier": "SPAM@example.com"})),
        422,
    )
    .await;
    let list = api.call("ListBlocklistIdentifiers", "/blocklist_identifiers", None).await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["data"][0]["identifier"], "spam@example.com");
    let id = blocked["id"].as_str().unwrap();
    let d = api.call("DeleteBlocklistIdentifier", &format!("/blocklist_identifiers/{id}"), None).await;
    assert_eq!(d["deleted"], true);
    assert_eq!(api.call("ListBlocklistIdentifiers", "/blocklist_identifiers", None).await["total_count"], 0);
    fail(&api, Some("DeleteBlocklistIdentifier"), "DELETE", &format!("/blocklist_identifiers/{id}"), None, 404).await;
}

#[tokio::test]
async fn instance_settings_restrictions_and_organization_settings() {
    let api = Api::start().await;
    let s = api
        .call(
            "UpdateInstanceAuthConfig",
            "/beta_features/instance_settings",
            Some(json!({"restricted_to_allowlist": true, "from_email_address": "hello", "test_mode": null})),
        )
        .await;
    assert_eq!(s["object"], "instance_settings");
    assert_eq!(s["id"], api.clerk.instance_id());
    assert_eq!(s["restricted_to_allowlist"], true);
    assert_eq!(s["from_email_address"], "hello");
    fail(
        &api,
        Some("UpdateInstanceAuthConfig"),
        "PATCH",
        "/beta_features/instance_settings",
        Some(json!({"enhanced_email_deliverability": true})),
        422,
    )
    .await;

    // `restricted_to_allowlist` and the allowlist restriction are one switch; nulls leave values alone.
    let r = api.call("UpdateInstanceRestrictions", "/instance/restrictions", Some(json!({"blocklist": true}))).await;
    assert_eq!(r["allowlist"], true);
    assert_eq!(r["blocklist"], true);
    assert_eq!(r["block_email_subaddresses"], false);
    let r = api
        .call(
            "UpdateInstanceRestrictions",
            "/instance/restrictions",
            Some(json!({"allowlist": false, "blocklist": null})),
        )
        .await;
    assert_eq!(r["allowlist"], false);
    assert_eq!(r["blocklist"], true);
    let s = api.call("UpdateInstanceAuthConfig", "/beta_features/instance_settings", Some(json!({}))).await;
    assert_eq!(s["restricted_to_allowlist"], false);
    assert_eq!(s["from_email_address"], "hello");

    // PATCH /instance answers 204 with no body; GET /instance shows the new origins.
    let a = api
        .raw(
            "PATCH",
            "/instance",
            Some((
                "application/json",
                Bytes::from(
                    json!({"allowed_origins": ["https://app.example.com"], "support_email": "help@example.com",
                           "preferred_sign_in_strategy_when_password_required": "otp"})
                    .to_string(),
                ),
            )),
        )
        .await;
    assert_eq!(a.status, 204);
    assert!(a.bytes.is_empty());
    assert_matches_spec("UpdateInstance", 204, &Value::Null);
    assert_eq!(api.call("UpdateInstance", "/instance", Some(json!({"hibp": false}))).await, Value::Null);
    let i = api.call("GetInstance", "/instance", None).await;
    assert_eq!(i["allowed_origins"], json!(["https://app.example.com"]));
    assert_eq!(i["environment_type"], "development");
    fail(&api, Some("UpdateInstance"), "PATCH", "/instance", Some(json!({"allowed_origins": ["not an origin"]})), 422)
        .await;
    fail(
        &api,
        Some("UpdateInstance"),
        "PATCH",
        "/instance",
        Some(json!({"preferred_sign_in_strategy_when_password_required": "magic"})),
        422,
    )
    .await;

    let o = api
        .call(
            "UpdateInstanceOrganizationSettings",
            "/instance/organization_settings",
            Some(json!({"max_allowed_memberships": 25, "domains_enabled": true,
                        "domains_enrollment_modes": ["automatic_invitation"], "slug_disabled": true})),
        )
        .await;
    assert_eq!(o["max_allowed_memberships"], 25);
    assert_eq!(o["domains_enabled"], true);
    assert_eq!(o["domains_enrollment_modes"], json!(["automatic_invitation"]));
    let again = api.call("GetInstanceOrganizationSettings", "/instance/organization_settings", None).await;
    assert_eq!(again, o);
    fail(
        &api,
        Some("UpdateInstanceOrganizationSettings"),
        "PATCH",
        "/instance/organization_settings",
        Some(json!({"domains_enrollment_modes": ["by_magic"]})),
        422,
    )
    .await;
}

#[tokio::test]
async fn domains_satellites_proxy_checks_and_the_production_domain() {
    let api = Api::start().await;
    let initial = api.call("ListDomains", "/domains", None).await;
    assert_eq!(initial["total_count"], 1, "the primary domain: {initial}");
    let primary = initial["data"][0].clone();
    assert_eq!(primary["is_satellite"], false);

    let d =
        api.call("AddDomain", "/domains", Some(json!({"name": "satellite.example.com", "is_satellite": true}))).await;
    assert_eq!(d["is_satellite"], true);
    assert_eq!(d["frontend_api_url"], "https://clerk.satellite.example.com");
    assert!(d["proxy_url"].is_null());
    let id = d["id"].as_str().unwrap();
    fail(
        &api,
        Some("AddDomain"),
        "POST",
        "/domains",
        Some(json!({"name": "satellite.example.com", "is_satellite": true})),
        422,
    )
    .await;
    fail(
        &api,
        Some("AddDomain"),
        "POST",
        "/domains",
        Some(json!({"name": "x.example.com", "is_satellite": false})),
        422,
    )
    .await;
    fail(&api, Some("AddDomain"), "POST", "/domains", Some(json!({"name": "not a domain", "is_satellite": true})), 422)
        .await;

    let u = api
        .call(
            "UpdateDomain",
            &format!("/domains/{id}"),
            Some(json!({"name": "sat.example.org", "proxy_url": "https://sat.example.org/__clerk"})),
        )
        .await;
    assert_eq!(u["name"], "sat.example.org");
    assert_eq!(u["frontend_api_url"], "https://clerk.sat.example.org");
    assert_eq!(u["proxy_url"], "https://sat.example.org/__clerk");
    let check = api
        .call("VerifyDomainProxy", "/proxy_checks", Some(json!({"domain_id": id, "proxy_url": u["proxy_url"]})))
        .await;
    assert_eq!(check["successful"], true);
    assert_eq!(check["domain_id"], id);
    fail(
        &api,
        Some("VerifyDomainProxy"),
        "POST",
        "/proxy_checks",
        Some(json!({"domain_id": id, "proxy_url": "http://insecure.example.org"})),
        422,
    )
    .await;
    fail(&api, Some("VerifyDomainProxy"), "POST", "/proxy_checks", Some(json!({"proxy_url": "https://a.b/c"})), 422)
        .await;
    // An explicit null proxy URL switches back to DNS; absent fields stay as they are.
    let u = api.call("UpdateDomain", &format!("/domains/{id}"), Some(json!({"proxy_url": null}))).await;
    assert!(u["proxy_url"].is_null());
    assert_eq!(u["name"], "sat.example.org");
    fail(&api, Some("UpdateDomain"), "PATCH", "/domains/dmn_missing", Some(json!({})), 404).await;

    let all = api.call("ListDomains", "/domains", None).await;
    assert_eq!(all["total_count"], 2);

    // The production domain changes the primary domain's name; the answer has no body.
    let a = api
        .raw(
            "POST",
            "/instance/change_domain",
            Some(("application/json", Bytes::from(json!({"home_url": "https://www.newhome.dev"}).to_string()))),
        )
        .await;
    assert_eq!(a.status, 202);
    assert!(a.bytes.is_empty());
    assert_eq!(
        api.call("ChangeProductionInstanceDomain", "/instance/change_domain", Some(json!({"home_url": "newhome.dev"})))
            .await,
        Value::Null
    );
    let all = api.call("ListDomains", "/domains", None).await;
    let names: Vec<&str> = all["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"newhome.dev"), "{names:?}");
    fail(
        &api,
        Some("ChangeProductionInstanceDomain"),
        "POST",
        "/instance/change_domain",
        Some(json!({"home_url": "no domain here"})),
        422,
    )
    .await;

    let primary_id = primary["id"].as_str().unwrap();
    fail(&api, Some("DeleteDomain"), "DELETE", &format!("/domains/{primary_id}"), None, 403).await;
    let del = api.call("DeleteDomain", &format!("/domains/{id}"), None).await;
    assert_eq!(del, json!({"object": "domain", "id": id, "deleted": true}));
    assert_eq!(api.call("ListDomains", "/domains", None).await["total_count"], 1);
    fail(&api, Some("DeleteDomain"), "DELETE", &format!("/domains/{id}"), None, 404).await;
}

#[tokio::test]
async fn public_interstitial_is_html_and_needs_no_key() {
    let api = Api::start().await;
    let pk = api.clerk.publishable_key().to_owned();
    let path = format!("/public/interstitial?publishable_key={pk}&sign_in_url=https%3A%2F%2Fapp.example.com%2Fsign-in");
    assert_eq!(api.call("GetPublicInterstitial", &path, None).await, Value::Null);

    // A plain request without an Authorization header.
    let transport = HyperTransport::new().unwrap();
    let send = |uri: String| {
        let req = http::Request::builder().method("GET").uri(uri).body(Bytes::new()).unwrap();
        transport.send(req)
    };
    let resp = send(format!("{}/v1{path}", api.clerk.api_url())).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = String::from_utf8(resp.into_body().to_vec()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(&format!("data-clerk-publishable-key=\"{pk}\"")));
    assert!(html.contains(&format!("{}/npm/@clerk/clerk-js", api.clerk.api_url())), "{html}");
    assert!(html.contains("https://app.example.com/sign-in"));

    // Every documented query parameter is accepted, and values are escaped.
    let a = api
        .raw(
            "GET",
            "/public/interstitial?frontend_api=clerk.example.com&frontendApi=clerk.example.com&proxy_url=https%3A%2F%2Fexample.com%2F__clerk&domain=example.com&use_domain_for_script=true&sign_in_url=%22%3E%3Cscript%3E",
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let html = String::from_utf8(a.bytes.to_vec()).unwrap();
    assert!(html.contains("src=\"https://example.com/__clerk/npm/@clerk/clerk-js"), "{html}");
    assert!(!html.contains("\"><script>"));
    // Neither a Frontend API nor a publishable key: 400 (documented).
    let a = api.raw("GET", "/public/interstitial", None).await;
    assert_eq!(a.status, 400);
    assert_matches_spec("GetPublicInterstitial", 400, &a.json());
    // Secured operations still refuse a request without the key.
    let resp = send(format!("{}/v1/jwt_templates", api.clerk.api_url())).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn oauth_applications_round_trip() {
    let api = Api::start().await;
    let created = api
        .call(
            "CreateOAuthApplication",
            "/oauth_applications",
            Some(json!({"name": "Acme CLI", "redirect_uris": ["https://acme.dev/callback"], "scopes": "profile email openid"})),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(!secret.is_empty());
    assert_eq!(created["callback_url"], "https://acme.dev/callback");
    assert_eq!(created["consent_screen_enabled"], true);
    let other = api.call("CreateOAuthApplication", "/oauth_applications", Some(json!({"name": "Other"}))).await;
    assert_eq!(other["scopes"], "profile email");
    let public =
        api.call("CreateOAuthApplication", "/oauth_applications", Some(json!({"name": "SPA", "public": true}))).await;
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["pkce_required"], true);
    fail(
        &api,
        Some("CreateOAuthApplication"),
        "POST",
        "/oauth_applications",
        Some(json!({"name": "Bad", "scopes": "profile everything"})),
        422,
    )
    .await;

    let got = api.call("GetOAuthApplication", &format!("/oauth_applications/{id}"), None).await;
    assert!(got.get("client_secret").is_none(), "the secret is only shown on create and rotate");
    assert_eq!(got["client_id"], created["client_id"]);

    let list = api.call("ListOAuthApplications", "/oauth_applications", None).await;
    assert_eq!(list["total_count"], 3);
    assert_eq!(list["data"][0]["id"], id, "oldest first by default");
    let found = api.call("ListOAuthApplications", "/oauth_applications?name_query=acme&limit=5", None).await;
    assert_eq!(ids(&found), vec![id.to_owned()]);

    let rotated =
        api.call("RotateOAuthApplicationSecret", &format!("/oauth_applications/{id}/rotate_secret"), None).await;
    assert_ne!(rotated["client_secret"].as_str().unwrap(), secret);
    assert_eq!(rotated["client_id"], created["client_id"]);

    let updated = api
        .call(
            "UpdateOAuthApplication",
            &format!("/oauth_applications/{id}"),
            Some(json!({"name": "Acme CLI 2", "redirect_uris": ["https://acme.dev/cb2"], "scopes": null})),
        )
        .await;
    assert_eq!(updated["name"], "Acme CLI 2");
    assert_eq!(updated["redirect_uris"], json!(["https://acme.dev/cb2"]));
    assert_eq!(updated["scopes"], "profile email openid");
    fail(&api, Some("UpdateOAuthApplication"), "PATCH", "/oauth_applications/oa_missing", Some(json!({})), 404).await;

    let d = api.call("DeleteOAuthApplication", &format!("/oauth_applications/{id}"), None).await;
    assert_eq!(d, json!({"object": "oauth_application", "id": id, "deleted": true}));
    fail(&api, Some("GetOAuthApplication"), "GET", &format!("/oauth_applications/{id}"), None, 404).await;
    fail(
        &api,
        Some("RotateOAuthApplicationSecret"),
        "POST",
        &format!("/oauth_applications/{id}/rotate_secret"),
        None,
        404,
    )
    .await;
    assert_eq!(api.call("ListOAuthApplications", "/oauth_applications", None).await["total_count"], 2);
}

#[tokio::test]
async fn redirect_urls_round_trip() {
    let api = Api::start().await;
    let r = api.call("CreateRedirectURL", "/redirect_urls", Some(json!({"url": "myapp://oauth-callback"}))).await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(r["url"], "myapp://oauth-callback");
    fail(
        &api,
        Some("CreateRedirectURL"),
        "POST",
        "/redirect_urls",
        Some(json!({"url": "myapp://oauth-callback"})),
        422,
    )
    .await;
    fail(&api, Some("CreateRedirectURL"), "POST", "/redirect_urls", Some(json!({"url": "nope"})), 422).await;
    api.call("CreateRedirectURL", "/redirect_urls", Some(json!({"url": "https://example.com/*"}))).await;

    assert_eq!(api.call("GetRedirectURL", &format!("/redirect_urls/{id}"), None).await, r);
    let all = api.call("ListRedirectURLs", "/redirect_urls", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let d = api.call("DeleteRedirectURL", &format!("/redirect_urls/{id}"), None).await;
    assert_eq!(d["deleted"], true);
    fail(&api, Some("GetRedirectURL"), "GET", &format!("/redirect_urls/{id}"), None, 404).await;
    fail(&api, Some("DeleteRedirectURL"), "DELETE", &format!("/redirect_urls/{id}"), None, 404).await;
    assert_eq!(ids(&api.call("ListRedirectURLs", "/redirect_urls?paginated=true", None).await).len(), 1);
}

#[tokio::test]
async fn saml_connections_round_trip() {
    let api = Api::start().await;
    let c = api
        .call(
            "CreateSAMLConnection",
            "/saml_connections",
            Some(json!({"name": "Okta", "provider": "saml_okta", "domains": ["Acme.com"],
                        "attribute_mapping": {"email_address": "mail"}})),
        )
        .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["domains"], json!(["acme.com"]));
    assert_eq!(c["active"], false);
    assert_eq!(c["attribute_mapping"]["email_address"], "mail");
    // `name` and `provider` are required, and one of `domain`/`domains`.
    fail(
        &api,
        Some("CreateSAMLConnection"),
        "POST",
        "/saml_connections",
        Some(json!({"name": "X", "domains": ["x.com"]})),
        422,
    )
    .await;
    fail(
        &api,
        Some("CreateSAMLConnection"),
        "POST",
        "/saml_connections",
        Some(json!({"name": "X", "provider": "saml_custom"})),
        422,
    )
    .await;
    // A domain belongs to one connection.
    fail(
        &api,
        Some("CreateSAMLConnection"),
        "POST",
        "/saml_connections",
        Some(json!({"name": "Dup", "provider": "saml_custom", "domain": "acme.com"})),
        409,
    )
    .await;
    api.call(
        "CreateSAMLConnection",
        "/saml_connections",
        Some(json!({"name": "Google", "provider": "saml_google", "domain": "beta.org"})),
    )
    .await;

    // Activating needs the identity provider configured; a failed update changes nothing.
    fail(
        &api,
        Some("UpdateSAMLConnection"),
        "PATCH",
        &format!("/saml_connections/{id}"),
        Some(json!({"active": true, "name": "Renamed"})),
        422,
    )
    .await;
    assert_eq!(api.call("GetSAMLConnection", &format!("/saml_connections/{id}"), None).await["name"], "Okta");
    let u = api
        .call(
            "UpdateSAMLConnection",
            &format!("/saml_connections/{id}"),
            Some(json!({"idp_entity_id": "https://okta.example/entity", "idp_sso_url": "https://okta.example/sso",
                        "idp_certificate": "MIIC...", "active": true, "name": "Okta SSO"})),
        )
        .await;
    assert_eq!(u["active"], true);
    assert_eq!(u["name"], "Okta SSO");
    assert!(u["idp_certificate_expires_at"].is_i64());

    let list = api.call("ListSAMLConnections", "/saml_connections", None).await;
    assert_eq!(list["total_count"], 2);
    let found = api.call("ListSAMLConnections", "/saml_connections?query=acme", None).await;
    assert_eq!(ids(&found), vec![id.to_owned()]);

    let d = api.call("DeleteSAMLConnection", &format!("/saml_connections/{id}"), None).await;
    assert_eq!(d["object"], "saml_connection");
    fail(&api, Some("GetSAMLConnection"), "GET", &format!("/saml_connections/{id}"), None, 404).await;
    assert_eq!(api.call("ListSAMLConnections", "/saml_connections", None).await["total_count"], 1);
}

#[tokio::test]
async fn update_sign_up_over_http() {
    let api = Api::start().await;
    let su = api.clerk.create_sign_up(Some("new@example.com"));
    let id = su["id"].as_str().unwrap();
    let updated = api.call("UpdateSignUp", &format!("/sign_ups/{id}"), Some(json!({"external_id": "ext_42"}))).await;
    assert_eq!(updated["id"], id);
    assert_eq!(updated["external_id"], "ext_42");
}

#[tokio::test]
async fn update_sign_up_of_an_unknown_sign_up_is_not_found() {
    // Sign-ups start on the Frontend API, which the emulator does not serve: there is no public way to create one, so
    // over HTTP only the error path is reachable (the 200 path is covered by the unit test in `src/api/instance.rs`).
    let api = Api::start().await;
    let e = fail(&api, None, "PATCH", "/sign_ups/sua_missing", Some(json!({"external_id": "ext_1"})), 404).await;
    assert_eq!(e["errors"][0]["code"], "resource_not_found");
    assert!(e["clerk_trace_id"].is_string());
    // The body is still validated first.
    fail(&api, None, "PATCH", "/sign_ups/sua_missing", Some(json!({"custom_action": "yes"})), 422).await;
}

#[tokio::test]
async fn templates_upsert_preview_toggle_and_revert() {
    let api = Api::start().await;
    let emails = api.call("GetTemplateList", "/templates/email", None).await;
    let slugs: Vec<&str> = emails.as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"verification_code"), "{slugs:?}");
    assert_eq!(emails[0]["position"], 0);
    let sms = api.call("GetTemplateList", "/templates/sms?paginated=true", None).await;
    assert!(sms["total_count"].as_u64().unwrap() >= 1);
    fail(&api, Some("GetTemplateList"), "GET", "/templates/fax", None, 422).await;

    let t = api.call("GetTemplate", "/templates/email/verification_code", None).await;
    assert_eq!(t["can_revert"], false);
    assert_eq!(t["delivered_by_clerk"], true);
    fail(&api, Some("GetTemplate"), "GET", "/templates/email/no_such_template", None, 404).await;

    let u = api
        .call(
            "UpsertTemplate",
            "/templates/email/verification_code",
            Some(json!({"subject": "Your code: {{otp_code}}", "body": "<p>Code: {{ otp_code }}</p>",
                        "from_email_name": "security"})),
        )
        .await;
    assert_eq!(u["subject"], "Your code: {{otp_code}}");
    assert_eq!(u["can_revert"], true);
    assert_eq!(u["resource_type"], "user");
    let e = fail(
        &api,
        Some("UpsertTemplate"),
        "PUT",
        "/templates/email/verification_code",
        Some(json!({"body": "<p>No code here</p>"})),
        422,
    )
    .await;
    assert_eq!(e["errors"][0]["code"], "template_missing_required_variables");
    fail(&api, Some("UpsertTemplate"), "PUT", "/templates/sms/no_such_template", Some(json!({"body": "x"})), 404).await;

    let p = api
        .call(
            "PreviewTemplate",
            "/templates/email/verification_code/preview",
            Some(json!({"subject": "{{otp_code}}!"})),
        )
        .await;
    assert_eq!(p["subject"], "123456!");
    assert_eq!(p["body"], "<p>Code: 123456</p>");
    assert_eq!(p["from_email_address"], "security@example.com");
    let p = api.call("PreviewTemplate", "/templates/sms/verification_code/preview", Some(json!({}))).await;
    assert!(p["body"].as_str().unwrap().starts_with("123456 is your verification code"));
    fail(&api, Some("PreviewTemplate"), "POST", "/templates/fax/verification_code/preview", Some(json!({})), 422).await;

    let off = api
        .call(
            "ToggleTemplateDelivery",
            "/templates/email/verification_code/toggle_delivery",
            Some(json!({"delivered_by_clerk": false})),
        )
        .await;
    assert_eq!(off["delivered_by_clerk"], false);
    let on = api.call("ToggleTemplateDelivery", "/templates/email/verification_code/toggle_delivery", None).await;
    assert_eq!(on["delivered_by_clerk"], true, "no body flips the switch");

    let r = api.call("RevertTemplate", "/templates/email/verification_code/revert", None).await;
    assert_eq!(r["subject"], t["subject"]);
    assert_eq!(r["body"], t["body"]);
    assert_eq!(r["can_revert"], false);
    assert_eq!(r["id"], t["id"]);
    fail(&api, Some("RevertTemplate"), "POST", "/templates/email/verification_code/revert", None, 400).await;
    assert_eq!(
        api.call("GetTemplate", "/templates/email/verification_code", None).await["from_email_name"],
        "notifications"
    );
}

#[tokio::test]
async fn svix_app_lifecycle() {
    let api = Api::start().await;
    fail(&api, Some("GenerateSvixAuthURL"), "POST", "/webhooks/svix_url", None, 400).await;
    fail(&api, Some("DeleteSvixApp"), "DELETE", "/webhooks/svix", None, 400).await;
    let created = api.call("CreateSvixApp", "/webhooks/svix", None).await;
    assert!(created["svix_url"].as_str().unwrap().starts_with("https://"));
    fail(&api, Some("CreateSvixApp"), "POST", "/webhooks/svix", None, 400).await;
    let url = api.call("GenerateSvixAuthURL", "/webhooks/svix_url", None).await;
    assert_ne!(url["svix_url"], created["svix_url"], "every auth URL is fresh");
    let a: Answer = api.raw("DELETE", "/webhooks/svix", None).await;
    assert_eq!(a.status, 204);
    assert!(a.bytes.is_empty());
    // Deleted: a new app can be created, through `call` this time for DeleteSvixApp too.
    api.call("CreateSvixApp", "/webhooks/svix", None).await;
    assert_eq!(api.call("DeleteSvixApp", "/webhooks/svix", None).await, Value::Null);
}

#[tokio::test]
async fn jwt_templates_round_trip_and_mint_session_tokens() {
    let api = Api::start().await;
    assert_eq!(api.call("ListJWTTemplates", "/jwt_templates", None).await, json!([]));
    let t = api
        .call(
            "CreateJWTTemplate",
            "/jwt_templates",
            Some(json!({"name": "hasura", "claims": {"role": "{{user.public_metadata.role}}", "aud": "hasura"},
                        "lifetime": 120})),
        )
        .await;
    let id = t["id"].as_str().unwrap();
    assert_eq!(t["lifetime"], 120);
    assert_eq!(t["allowed_clock_skew"], 5);
    assert_eq!(t["signing_algorithm"], "RS256");
    assert_eq!(t["custom_signing_key"], false);

    // Names are unique; reserved claims and missing fields are refused.
    let e = fail(
        &api,
        Some("CreateJWTTemplate"),
        "POST",
        "/jwt_templates",
        Some(json!({"name": "hasura", "claims": {}})),
        422,
    )
    .await;
    assert_eq!(e["errors"][0]["meta"]["param_name"], "name");
    fail(
        &api,
        Some("CreateJWTTemplate"),
        "POST",
        "/jwt_templates",
        Some(json!({"name": "x", "claims": {"sub": "me"}})),
        422,
    )
    .await;
    fail(&api, Some("CreateJWTTemplate"), "POST", "/jwt_templates", Some(json!({"name": "x"})), 422).await;
    fail(
        &api,
        Some("CreateJWTTemplate"),
        "POST",
        "/jwt_templates",
        Some(json!({"name": "x", "claims": {}, "lifetime": 10})),
        422,
    )
    .await;
    let other = api.call("CreateJWTTemplate", "/jwt_templates", Some(json!({"name": "other", "claims": {}}))).await;

    assert_eq!(api.call("GetJWTTemplate", &format!("/jwt_templates/{id}"), None).await, t);
    let list = api.call("ListJWTTemplates", "/jwt_templates", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let page = api.call("ListJWTTemplates", "/jwt_templates?paginated=true&limit=1&offset=1", None).await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);

    let u = api
        .call(
            "UpdateJWTTemplate",
            &format!("/jwt_templates/{id}"),
            Some(json!({"name": "hasura-v2", "claims": {"role": "admin"}, "allowed_clock_skew": 10})),
        )
        .await;
    assert_eq!(u["name"], "hasura-v2");
    assert_eq!(u["claims"], json!({"role": "admin"}), "claims are replaced");
    assert_eq!(u["allowed_clock_skew"], 10);
    assert_eq!(u["created_at"], t["created_at"]);
    let e = fail(
        &api,
        Some("UpdateJWTTemplate"),
        "PATCH",
        &format!("/jwt_templates/{id}"),
        Some(json!({"name": "other", "claims": {}})),
        422,
    )
    .await;
    assert_eq!(e["errors"][0]["code"], "form_identifier_exists");
    fail(&api, None, "PATCH", "/jwt_templates/jtmp_missing", Some(json!({"name": "z", "claims": {}})), 404).await;

    // The users group mints a token from the template by name.
    let user = api.user("jwt@example.com").await;
    let builder = api.clerk.session_token(&user).unwrap();
    let sid = builder.claims()["sid"].as_str().unwrap().to_owned();
    let tok = api.call("CreateSessionTokenFromTemplate", &format!("/sessions/{sid}/tokens/hasura-v2"), None).await;
    let jwt = tok["jwt"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["sid"], sid.as_str());

    let d = api.call("DeleteJWTTemplate", &format!("/jwt_templates/{id}"), None).await;
    assert_eq!(d, json!({"object": "jwt_template", "id": id, "deleted": true}));
    fail(&api, Some("GetJWTTemplate"), "GET", &format!("/jwt_templates/{id}"), None, 404).await;
    fail(&api, Some("DeleteJWTTemplate"), "DELETE", &format!("/jwt_templates/{id}"), None, 404).await;
    fail(&api, None, "POST", &format!("/sessions/{sid}/tokens/hasura-v2"), None, 404).await;
    assert_eq!(ids(&api.call("ListJWTTemplates", "/jwt_templates", None).await), vec![other["id"].as_str().unwrap()]);
}
