//! Instance-level operations: actor and sign-in tokens, allow and block lists, instance settings, domains and proxy
//! checks, the interstitial, OAuth applications, redirect URLs, SAML connections, sign-ups, templates, the Svix app
//! and JWT templates.

use clerk_api::{
    CreateActorTokenBodyActor, CreateSamlConnectionBodyAttributeMapping, CreateSamlConnectionBodyProvider, Nullable,
    UpdateInstanceBodyPreferredSignInStrategyWhenPasswordRequired,
};
use serde_json::json;

use crate::support::{Env, obj};

const TOKENS: &[&str] = &["CreateActorToken", "RevokeActorToken", "CreateSignInToken", "RevokeSignInToken"];
const ALLOW_AND_BLOCK_LISTS: &[&str] = &[
    "CreateAllowlistIdentifier",
    "ListAllowlistIdentifiers",
    "DeleteAllowlistIdentifier",
    "CreateBlocklistIdentifier",
    "ListBlocklistIdentifiers",
    "DeleteBlocklistIdentifier",
];
const INSTANCE_SETTINGS: &[&str] =
    &["UpdateInstanceAuthConfig", "UpdateInstanceRestrictions", "UpdateInstance", "UpdateInstanceOrganizationSettings"];
const DOMAINS: &[&str] = &[
    "ListDomains",
    "AddDomain",
    "UpdateDomain",
    "VerifyDomainProxy",
    "ChangeProductionInstanceDomain",
    "DeleteDomain",
];
const INTERSTITIAL: &[&str] = &["GetPublicInterstitial"];
const OAUTH_APPLICATIONS: &[&str] = &[
    "CreateOAuthApplication",
    "GetOAuthApplication",
    "ListOAuthApplications",
    "UpdateOAuthApplication",
    "RotateOAuthApplicationSecret",
    "DeleteOAuthApplication",
];
const REDIRECT_URLS: &[&str] = &["CreateRedirectURL", "GetRedirectURL", "ListRedirectURLs", "DeleteRedirectURL"];
const SAML_CONNECTIONS: &[&str] = &[
    "CreateSAMLConnection",
    "GetSAMLConnection",
    "ListSAMLConnections",
    "UpdateSAMLConnection",
    "DeleteSAMLConnection",
];
const SIGN_UPS: &[&str] = &["UpdateSignUp"];
const TEMPLATES: &[&str] = &[
    "GetTemplateList",
    "GetTemplate",
    "UpsertTemplate",
    "PreviewTemplate",
    "ToggleTemplateDelivery",
    "RevertTemplate",
];
const SVIX: &[&str] = &["CreateSvixApp", "GenerateSvixAuthURL", "DeleteSvixApp"];
const JWT_TEMPLATES: &[&str] = &[
    "ListJWTTemplates",
    "CreateJWTTemplate",
    "GetJWTTemplate",
    "UpdateJWTTemplate",
    "CreateSessionTokenFromTemplate",
    "DeleteJWTTemplate",
];

/// The flows of this module, each the operations it runs.
pub const FLOWS: &[&[&str]] = &[
    TOKENS,
    ALLOW_AND_BLOCK_LISTS,
    INSTANCE_SETTINGS,
    DOMAINS,
    INTERSTITIAL,
    OAUTH_APPLICATIONS,
    REDIRECT_URLS,
    SAML_CONNECTIONS,
    SIGN_UPS,
    TEMPLATES,
    SVIX,
    JWT_TEMPLATES,
];

#[tokio::test]
async fn actor_and_sign_in_tokens() {
    let env = Env::start(TOKENS).await;
    let user = env.user("imp@example.com").await;
    let admin = env.user("admin@example.com").await;
    let actor = CreateActorTokenBodyActor { sub: admin.clone(), extra: obj(json!({"reason": "support"})) };
    let t = env.client.actor_tokens().create(&user, actor).expires_in_seconds(600).send().await.unwrap();
    assert_eq!(t.status.as_str(), "pending");
    assert_eq!(t.user_id.as_str(), user);
    assert_eq!(t.actor, obj(json!({"sub": admin, "reason": "support"})));
    let token = t.token.clone().unwrap();
    assert!(t.url.as_deref().unwrap().ends_with(&format!("ticket={token}")));
    let r = env.client.actor_tokens().revoke(&t.id).send().await.unwrap();
    assert_eq!(r.status.as_str(), "revoked");
    assert_eq!(r.id, t.id);
    assert_eq!(env.client.actor_tokens().revoke(&t.id).send().await.unwrap_err().status(), Some(400));

    let s = env.client.sign_in_tokens().create(&user).expires_in_seconds(300).send().await.unwrap();
    assert_eq!(s.status.as_str(), "pending");
    assert_eq!(s.user_id.as_str(), user);
    assert!(s.token.as_deref().is_some_and(|t| !t.is_empty()));
    let r = env.client.sign_in_tokens().revoke(&s.id).send().await.unwrap();
    assert_eq!(r.status.as_str(), "revoked");
    assert!(env.client.sign_in_tokens().create("user_missing").send().await.unwrap_err().is_not_found());
    env.finish();
}

#[tokio::test]
async fn allow_and_block_lists() {
    let env = Env::start(ALLOW_AND_BLOCK_LISTS).await;
    let allow = env.client.allowlist_identifiers();
    assert!(allow.list().send().await.unwrap().data.is_empty());
    let a = allow.create("Ada@Example.com").send().await.unwrap();
    assert_eq!(a.identifier.as_deref(), Some("ada@example.com"));
    assert_eq!(a.identifier_type.as_ref().map(|t| t.as_str()), Some("email_address"));
    let b = allow.create("+15555550100").notify(false).send().await.unwrap();
    assert_eq!(b.identifier_type.as_ref().map(|t| t.as_str()), Some("phone_number"));
    allow.create("*@acme.dev").send().await.unwrap();
    assert_eq!(allow.list().send().await.unwrap().data.len(), 3);
    let page = allow.list().paginated(true).limit(2).send().await.unwrap();
    assert_eq!(page.total_count, Some(3));
    assert_eq!(page.data.len(), 2);
    let a_id = a.id.unwrap();
    let d = allow.delete(&a_id).send().await.unwrap();
    assert!(d.deleted);
    assert_eq!(d.object, "allowlist_identifier");
    assert_eq!(d.id.as_deref(), Some(a_id.as_str()));
    assert_eq!(allow.list().send().await.unwrap().data.len(), 2);

    let block = env.client.blocklist_identifiers();
    let empty = block.list().send().await.unwrap();
    assert_eq!((empty.data.len(), empty.total_count), (0, Some(0)));
    let blocked = block.create("spam@example.com").send().await.unwrap();
    assert_eq!(blocked.object.as_deref(), Some("blocklist_identifier"));
    let list = block.list().send().await.unwrap();
    assert_eq!(list.total_count, Some(1));
    assert_eq!(list.data[0].identifier.as_deref(), Some("spam@example.com"));
    let d = block.delete(blocked.id.as_deref().unwrap()).send().await.unwrap();
    assert!(d.deleted);
    assert_eq!(block.list().send().await.unwrap().total_count, Some(0));
    env.finish();
}

#[tokio::test]
async fn instance_settings_restrictions_and_organization_settings() {
    let env = Env::start(INSTANCE_SETTINGS).await;
    let s = env
        .client
        .beta_features()
        .update_instance_settings()
        .restricted_to_allowlist(true)
        .from_email_address("hello")
        .test_mode(Nullable::Null)
        .send()
        .await
        .unwrap();
    assert_eq!(s.object.as_deref(), Some("instance_settings"));
    assert_eq!(s.id.as_deref(), Some(env.clerk.instance_id()));
    assert_eq!(s.restricted_to_allowlist, Some(true));
    assert_eq!(s.from_email_address.as_deref(), Some("hello"));

    let settings = env.client.instance_settings();
    let r = settings.update_restrictions().blocklist(true).send().await.unwrap();
    assert!(r.allowlist, "the allowlist restriction is `restricted_to_allowlist`");
    assert!(r.blocklist);
    let r = settings.update_restrictions().allowlist(false).blocklist(Nullable::Null).send().await.unwrap();
    assert!(!r.allowlist);
    assert!(r.blocklist, "null leaves the value alone");

    // PATCH /instance answers 204: `()`.
    let () = settings
        .update()
        .allowed_origins(vec!["https://app.example.com".to_owned()])
        .support_email("help@example.com")
        .preferred_sign_in_strategy_when_password_required(
            UpdateInstanceBodyPreferredSignInStrategyWhenPasswordRequired::Otp,
        )
        .send()
        .await
        .unwrap();
    let status = env.clerk.requests().iter().rev().find(|r| r.operation_id == Some("UpdateInstance")).unwrap().status;
    assert_eq!(status, 204);

    let o = settings
        .update_organization_settings()
        .max_allowed_memberships(25)
        .domains_enabled(true)
        .domains_enrollment_modes(vec!["automatic_invitation".to_owned()])
        .slug_disabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(o.max_allowed_memberships, 25);
    assert!(o.domains_enabled);
    let modes: Vec<&str> = o.domains_enrollment_modes.iter().map(|m| m.as_str()).collect();
    assert_eq!(modes, ["automatic_invitation"]);
    assert_eq!(o.slug_disabled, Some(true));
    env.finish();
}

#[tokio::test]
async fn domains_proxy_checks_and_the_production_domain() {
    let env = Env::start(DOMAINS).await;
    let domains = env.client.domains();
    let initial = domains.list().send().await.unwrap();
    assert_eq!(initial.total_count, Some(1), "the primary domain");
    assert!(!initial.data[0].is_satellite);

    let d = domains.add("satellite.example.com", true).send().await.unwrap();
    assert!(d.is_satellite);
    assert_eq!(d.frontend_api_url, "https://clerk.satellite.example.com");
    assert_eq!(d.proxy_url, None);

    let u = domains
        .update(&d.id)
        .name("sat.example.org")
        .proxy_url("https://sat.example.org/__clerk")
        .send()
        .await
        .unwrap();
    assert_eq!(u.name, "sat.example.org");
    assert_eq!(u.proxy_url.as_deref(), Some("https://sat.example.org/__clerk"));
    let check =
        env.client.proxy_checks().verify().domain_id(&d.id).proxy_url("https://sat.example.org/__clerk").send().await;
    let check = check.unwrap();
    assert!(check.successful);
    assert_eq!(check.domain_id, d.id);
    let u = domains.update(&d.id).proxy_url(Nullable::Null).send().await.unwrap();
    assert_eq!(u.proxy_url, None, "an explicit null switches back to DNS");
    assert_eq!(u.name, "sat.example.org");
    let same = domains.update(&d.id).send().await.unwrap();
    assert_eq!(same, u, "an empty body changes nothing");
    assert_eq!(domains.list().send().await.unwrap().total_count, Some(2));

    // The production domain: 202, no body, `()`.
    let () = env.client.instance_settings().change_domain().home_url("https://www.newhome.dev").send().await.unwrap();
    let names: Vec<String> = domains.list().send().await.unwrap().data.into_iter().map(|d| d.name).collect();
    assert!(names.iter().any(|n| n.ends_with("newhome.dev")), "{names:?}");

    let del = domains.delete(&d.id).send().await.unwrap();
    assert!(del.deleted);
    assert_eq!(del.object, "domain");
    assert_eq!(del.id.as_deref(), Some(d.id.as_str()));
    assert_eq!(domains.list().send().await.unwrap().total_count, Some(1));
    env.finish();
}

#[tokio::test]
async fn public_interstitial_is_html() {
    let env = Env::start(INTERSTITIAL).await;
    let pk = env.clerk.publishable_key().to_owned();
    let html = env
        .client
        .miscellaneous()
        .get_public_interstitial()
        .publishable_key(&pk)
        .sign_in_url("https://app.example.com/sign-in")
        .send()
        .await
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(&format!("data-clerk-publishable-key=\"{pk}\"")));
    assert!(html.contains("https://app.example.com/sign-in"));
    // Neither a Frontend API nor a publishable key: the documented 400.
    let e = env.client.miscellaneous().get_public_interstitial().send().await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    env.finish();
}

#[tokio::test]
async fn oauth_applications() {
    let env = Env::start(OAUTH_APPLICATIONS).await;
    let apps = env.client.oauth_applications();
    let created = apps
        .create("Acme CLI")
        .redirect_uris(vec!["https://acme.dev/callback".to_owned()])
        .scopes("profile email openid")
        .send()
        .await
        .unwrap();
    let secret = created.client_secret.clone().unwrap();
    assert!(!secret.is_empty());
    assert_eq!(created.callback_url, "https://acme.dev/callback");
    assert!(created.consent_screen_enabled);
    let spa = apps.create("SPA").public(true).send().await.unwrap();
    assert_eq!(spa.client_secret, None);
    assert!(spa.pkce_required);

    let got = apps.get(&created.id).send().await.unwrap();
    assert_eq!(got.client_id, created.client_id);
    let list = apps.list().send().await.unwrap();
    assert_eq!(list.total_count, Some(2));
    assert_eq!(list.data[0].id, created.id, "oldest first");
    let found = apps.list().name_query("acme").limit(5).send().await.unwrap();
    assert_eq!(found.total_count, Some(1));

    let rotated = apps.rotate_secret(&created.id).send().await.unwrap();
    assert!(rotated.client_secret.as_deref().is_some_and(|s| s != secret));
    let updated = apps
        .update(&created.id)
        .name("Acme CLI v2")
        .redirect_uris(vec!["https://acme.dev/cb2".to_owned()])
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name, "Acme CLI v2");
    assert_eq!(updated.redirect_uris, ["https://acme.dev/cb2"]);

    let d = apps.delete(&created.id).send().await.unwrap();
    assert!(d.deleted);
    assert_eq!(d.object, "oauth_application");
    assert!(apps.get(&created.id).send().await.unwrap_err().is_not_found());
    env.finish();
}

#[tokio::test]
async fn redirect_urls() {
    let env = Env::start(REDIRECT_URLS).await;
    let urls = env.client.redirect_urls();
    let r = urls.create("myapp://oauth-callback").send().await.unwrap();
    assert_eq!(r.url, "myapp://oauth-callback");
    urls.create("https://example.com/*").send().await.unwrap();
    assert_eq!(urls.get(&r.id).send().await.unwrap(), r);
    assert_eq!(urls.list().send().await.unwrap().data.len(), 2);
    let d = urls.delete(&r.id).send().await.unwrap();
    assert!(d.deleted);
    assert!(urls.get(&r.id).send().await.unwrap_err().is_not_found());
    let page = urls.list().paginated(true).send().await.unwrap();
    assert_eq!((page.data.len(), page.total_count), (1, Some(1)));
    env.finish();
}

#[tokio::test]
async fn saml_connections() {
    let env = Env::start(SAML_CONNECTIONS).await;
    let saml = env.client.saml_connections();
    let c = saml
        .create("Okta", CreateSamlConnectionBodyProvider::SamlOkta)
        .domains(vec!["Acme.com".to_owned()])
        .attribute_mapping(CreateSamlConnectionBodyAttributeMapping {
            email_address: Some("mail".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(c.domains.as_deref(), Some(&["acme.com".to_owned()][..]));
    assert!(!c.active);
    assert_eq!(c.provider, "saml_okta");
    saml.create("Google", CreateSamlConnectionBodyProvider::SamlGoogle).domain("beta.org").send().await.unwrap();

    let u = saml
        .update(&c.id)
        .idp_entity_id("https://okta.example/entity")
        .idp_sso_url("https://okta.example/sso")
        .idp_certificate("MIIC...")
        .active(true)
        .name("Okta SSO")
        .send()
        .await
        .unwrap();
    assert!(u.active);
    assert_eq!(u.name, "Okta SSO");
    assert_eq!(saml.get(&c.id).send().await.unwrap().name, "Okta SSO");

    let list = saml.list().send().await.unwrap();
    assert_eq!(list.total_count, Some(2));
    let found = saml.list().query("acme").send().await.unwrap();
    assert_eq!(found.data.len(), 1);
    assert_eq!(found.data[0].id, c.id);

    let d = saml.delete(&c.id).send().await.unwrap();
    assert_eq!(d.object, "saml_connection");
    assert!(saml.get(&c.id).send().await.unwrap_err().is_not_found());
    assert_eq!(saml.list().send().await.unwrap().total_count, Some(1));
    env.finish();
}

#[tokio::test]
async fn update_sign_up() {
    let env = Env::start(SIGN_UPS).await;
    let su = env.clerk.create_sign_up(Some("new@example.com"));
    let id = su["id"].as_str().unwrap();
    let updated = env.client.sign_ups().update(id).external_id("ext_42").send().await.unwrap();
    assert_eq!(updated.id, id);
    assert_eq!(updated.external_id.as_deref(), Some("ext_42"));
    assert_eq!(updated.email_address.as_deref(), Some("new@example.com"));
    env.finish();
}

#[tokio::test]
async fn templates() {
    let env = Env::start(TEMPLATES).await;
    let t = env.client.email_sms_templates();
    let emails = t.list("email").send().await.unwrap();
    assert!(emails.data.iter().any(|t| t.slug.as_deref() == Some("verification_code")));
    let sms = t.list("sms").paginated(true).send().await.unwrap();
    assert!(sms.total_count.unwrap() >= 1);

    let original = t.get("email", "verification_code").send().await.unwrap();
    assert_eq!(original.can_revert, Some(false));
    assert_eq!(original.delivered_by_clerk, Some(true));

    let u = t
        .upsert("email", "verification_code")
        .subject("Your code: {{otp_code}}")
        .body("<p>Code: {{ otp_code }}</p>")
        .from_email_name("security")
        .send()
        .await
        .unwrap();
    assert_eq!(u.subject.as_deref(), Some("Your code: {{otp_code}}"));
    assert_eq!(u.can_revert, Some(true));

    let p = t.preview("email", "verification_code").subject("{{otp_code}}!").send().await.unwrap();
    assert_eq!(p["subject"], "123456!");
    assert_eq!(p["body"], "<p>Code: 123456</p>");

    let off = t.toggle_template_delivery("email", "verification_code").delivered_by_clerk(false).send().await.unwrap();
    assert_eq!(off.delivered_by_clerk, Some(false));
    let on = t.toggle_template_delivery("email", "verification_code").send().await.unwrap();
    assert_eq!(on.delivered_by_clerk, Some(true), "no value flips the switch");

    let r = t.revert("email", "verification_code").send().await.unwrap();
    assert_eq!(r.subject, original.subject);
    assert_eq!(r.body, original.body);
    assert_eq!(r.can_revert, Some(false));
    env.finish();
}

#[tokio::test]
async fn svix_app() {
    let env = Env::start(SVIX).await;
    let hooks = env.client.webhooks();
    assert_eq!(hooks.generate_svix_auth_url().send().await.unwrap_err().status(), Some(400), "no app yet");
    let created = hooks.create_svix_app().send().await.unwrap();
    assert!(created.svix_url.starts_with("https://"));
    let url = hooks.generate_svix_auth_url().send().await.unwrap();
    assert_ne!(url.svix_url, created.svix_url, "every auth URL is fresh");
    // 204, no body: `()`.
    let () = hooks.delete_svix_app().send().await.unwrap();
    assert_eq!(hooks.delete_svix_app().send().await.unwrap_err().status(), Some(400), "already gone");
    env.finish();
}

#[tokio::test]
async fn jwt_templates() {
    let env = Env::start(JWT_TEMPLATES).await;
    let jt = env.client.jwt_templates();
    assert!(jt.list().send().await.unwrap().data.is_empty());
    let t = jt
        .create("hasura", obj(json!({"role": "{{user.public_metadata.role}}", "aud": "hasura"})))
        .lifetime(120)
        .send()
        .await
        .unwrap();
    assert_eq!(t.lifetime, 120);
    assert_eq!(t.allowed_clock_skew, 5);
    assert_eq!(t.signing_algorithm, "RS256");
    assert!(!t.custom_signing_key);
    let other = jt.create("other", obj(json!({}))).send().await.unwrap();

    assert_eq!(jt.get(&t.id).send().await.unwrap(), t);
    assert_eq!(jt.list().send().await.unwrap().data.len(), 2);
    let page = jt.list().paginated(true).limit(1).offset(1).send().await.unwrap();
    assert_eq!((page.data.len(), page.total_count), (1, Some(2)));

    let u = jt.update(&t.id, "hasura-v2", obj(json!({"role": "admin"}))).allowed_clock_skew(10).send().await.unwrap();
    assert_eq!(u.name, "hasura-v2");
    assert_eq!(u.claims, obj(json!({"role": "admin"})), "claims are replaced");
    assert_eq!(u.allowed_clock_skew, 10);
    assert_eq!(u.created_at, t.created_at);

    // A session token from the template, by name.
    let user = env.user("jwt@example.com").await;
    let sid = env.clerk.session_token(&user).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    let tok = env.client.sessions().create_token_from_template(&sid, "hasura-v2").send().await.unwrap();
    assert_eq!(tok.object.as_deref(), Some("token"));
    let auth = env.client.verifier().build().unwrap().verify(tok.jwt.as_deref().unwrap()).await.unwrap();
    assert_eq!(auth.user_id(), user.as_str());
    assert_eq!(auth.claim("role"), Some(json!("admin")));

    let d = jt.delete(&t.id).send().await.unwrap();
    assert!(d.deleted);
    assert_eq!(d.object, "jwt_template");
    assert_eq!(d.id.as_deref(), Some(t.id.as_str()));
    assert!(jt.get(&t.id).send().await.unwrap_err().is_not_found());
    let left: Vec<String> = jt.list().send().await.unwrap().data.into_iter().map(|t| t.id).collect();
    assert_eq!(left, [other.id]);
    env.finish();
}
