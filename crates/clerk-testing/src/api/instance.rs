//! Instance-level resources: allow and block lists, JWT templates, sign-in and actor tokens, redirect URLs, domains,
//! OAuth applications, SAML connections, email/SMS templates, instance settings, proxy checks, the Svix app, sign-ups
//! and the interstitial.

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
}

impl State {
    /// A JWT template by its name.
    pub(crate) fn jwt_template_by_name(&self, name: &str) -> Option<Value> {
        self.jwt_templates.values().find(|t| t["name"] == name).cloned()
    }
}

pub(crate) fn handle(_store: &mut Store, _shared: &Shared, _ctx: &Ctx) -> Handled {
    None
}
