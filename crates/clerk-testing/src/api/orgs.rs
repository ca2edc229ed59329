//! Organizations, memberships, organization invitations and instance invitations.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Handled;
use crate::Shared;
use crate::server::Ctx;
use crate::store::Store;

/// Organizations and what hangs off them.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) organizations: BTreeMap<String, Value>,
    /// Memberships by organization id, then user id.
    pub(crate) memberships: BTreeMap<String, BTreeMap<String, Value>>,
}

impl State {
    /// Whether `user_id` is a member of organization `org_id`.
    pub(crate) fn is_member(&self, org_id: &str, user_id: &str) -> bool {
        self.memberships.get(org_id).is_some_and(|m| m.contains_key(user_id))
    }

    /// Every membership of a user.
    pub(crate) fn memberships_of_user(&self, user_id: &str) -> Vec<Value> {
        self.memberships.values().filter_map(|m| m.get(user_id).cloned()).collect()
    }

    /// Forgets a deleted user's memberships.
    pub(crate) fn remove_user(&mut self, user_id: &str) {
        for m in self.memberships.values_mut() {
            m.remove(user_id);
        }
    }
}

pub(crate) fn handle(_store: &mut Store, _shared: &Shared, _ctx: &Ctx) -> Handled {
    None
}
