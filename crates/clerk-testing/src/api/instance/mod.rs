//! Instance-level resources: allow and block lists, JWT templates, sign-in and actor tokens, redirect URLs, domains,
//! OAuth applications, SAML connections, email/SMS templates, instance settings, proxy checks, the Svix app, sign-ups
//! and the interstitial.
//!
//! This module holds their state. Each submodule answers the operations of one group of resources and [`handle`] asks
//! them in turn, as the API's dispatcher asks the groups of the whole API; what they share is in `helpers`.

mod domains;
mod helpers;
mod identifiers;
mod interstitial;
mod jwt_templates;
mod oauth_applications;
mod redirect_urls;
mod saml_connections;
mod settings;
mod sign_ups;
mod svix;
mod templates;
mod tokens;

use std::collections::BTreeMap;

use serde_json::Value;

use super::Handled;
use crate::Shared;
use crate::server::Ctx;
use crate::store::Store;

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

/// Answers an instance-level operation, or `None` when the operation is not one.
pub(crate) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    tokens::handle(store, shared, ctx)
        .or_else(|| identifiers::handle(store, shared, ctx))
        .or_else(|| settings::handle(store, shared, ctx))
        .or_else(|| domains::handle(store, shared, ctx))
        .or_else(|| interstitial::handle(shared, ctx))
        .or_else(|| oauth_applications::handle(store, shared, ctx))
        .or_else(|| redirect_urls::handle(store, ctx))
        .or_else(|| saml_connections::handle(store, shared, ctx))
        .or_else(|| sign_ups::handle(store, ctx))
        .or_else(|| templates::handle(store, shared, ctx))
        .or_else(|| svix::handle(store, ctx))
        .or_else(|| jwt_templates::handle(store, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use super::identifiers::identifier_type;
    use super::interstitial::{js_string, publishable_key_host};
    use super::sign_ups::update_sign_up;
    use super::templates::{render, variables};
    use crate::server::Reply;
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
