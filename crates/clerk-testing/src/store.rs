//! The emulator's state: one value behind one mutex, so concurrent requests never lose an update.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::api;

/// Everything the emulated instance holds.
#[derive(Debug, Default)]
pub(crate) struct Store {
    last_ms: i64,
    pub(crate) users: api::users::State,
    pub(crate) orgs: api::orgs::State,
    pub(crate) instance: api::instance::State,
    pub(crate) machine: api::machine::State,
}

impl Store {
    /// The current time in epoch milliseconds, strictly increasing across calls so creation order is total.
    pub(crate) fn now_ms(&mut self) -> i64 {
        let wall =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        self.last_ms = wall.max(self.last_ms + 1);
        self.last_ms
    }

    /// Any object by id, whatever its kind.
    pub(crate) fn object(&self, id: &str) -> Option<Value> {
        if let Some(client) = self.users.clients.get(id) {
            return Some(crate::api::users::client_view(self, client));
        }
        self.users
            .users
            .get(id)
            .or_else(|| self.users.sessions.get(id))
            .or_else(|| self.orgs.organizations.get(id))
            .cloned()
    }
}
