//! Change detection: the store guard, whose release raises the events of what changed, and the shadow copy of the
//! store it compares with.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;

use serde_json::{Value, json};

use super::Hub;
use crate::store::Store;

/// User fields whose change alone raises no `user.updated` (they move on every sign-in).
pub(super) const USER_ACTIVITY_FIELDS: &[&str] = &["last_active_at", "last_sign_in_at"];

/// The store, locked. Dropping it compares the store with the webhook shadow and queues the events.
pub(crate) struct StoreGuard<'a> {
    store: MutexGuard<'a, Store>,
    hub: &'a Hub,
}

impl fmt::Debug for StoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreGuard").finish_non_exhaustive()
    }
}

impl<'a> StoreGuard<'a> {
    pub(crate) const fn new(store: MutexGuard<'a, Store>, hub: &'a Hub) -> Self {
        Self { store, hub }
    }
}

impl Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.hub.sync(&self.store);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The shadow.

/// The last state events were raised for.
#[derive(Debug, Default)]
pub(super) struct Shadow {
    users: BTreeMap<String, Value>,
    session_status: BTreeMap<String, String>,
    orgs: BTreeMap<String, Value>,
    memberships: BTreeMap<(String, String), Value>,
}

fn memberships(store: &Store) -> impl Iterator<Item = ((String, String), &Value)> {
    store.orgs.memberships.iter().flat_map(|(org, ms)| ms.iter().map(move |(user, m)| ((org.clone(), user.clone()), m)))
}

fn status(session: &Value) -> String {
    session["status"].as_str().unwrap_or_default().to_owned()
}

/// Makes `shadow` equal to `current`, copying only what differs.
fn sync_map(shadow: &mut BTreeMap<String, Value>, current: &BTreeMap<String, Value>) {
    shadow.retain(|k, _| current.contains_key(k));
    for (k, v) in current {
        if shadow.get(k) != Some(v) {
            shadow.insert(k.clone(), v.clone());
        }
    }
}

/// Whether two objects are equal except for `ignored` fields.
pub(super) fn eq_except(a: &Value, b: &Value, ignored: &[&str]) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let keep = |k: &&String| !ignored.contains(&k.as_str());
            a.iter().filter(|(k, _)| keep(k)).all(|(k, v)| b.get(k) == Some(v))
                && b.keys().filter(keep).all(|k| a.contains_key(k))
        }
        _ => a == b,
    }
}

impl Shadow {
    pub(super) fn of(store: &Store) -> Self {
        Self {
            users: store.users.users.clone(),
            session_status: store.users.sessions.iter().map(|(id, s)| (id.clone(), status(s))).collect(),
            orgs: store.orgs.organizations.clone(),
            memberships: memberships(store).map(|(k, m)| (k, m.clone())).collect(),
        }
    }

    /// The events between the shadow and `store`, in causal order (creations, updates, session changes,
    /// deletions from the leaves up); the shadow then matches `store`.
    pub(super) fn update(&mut self, store: &Store) -> Vec<(&'static str, Value)> {
        let users = &store.users.users;
        let orgs = &store.orgs.organizations;
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut sessions = Vec::new();
        let mut deleted = Vec::new();

        // Users.
        let mut user_created = Vec::new();
        let mut user_updated = Vec::new();
        for (id, u) in users {
            match self.users.get(id) {
                None => user_created.push(("user.created", u.clone())),
                Some(old) if !eq_except(old, u, USER_ACTIVITY_FIELDS) => user_updated.push(("user.updated", u.clone())),
                _ => {}
            }
        }
        let user_deleted: Vec<_> = self
            .users
            .iter()
            .filter(|(id, _)| !users.contains_key(*id))
            .map(|(id, old)| {
                let mut d = json!({"object": "user", "id": id, "deleted": true});
                if let Some(ext) = old["external_id"].as_str() {
                    d["external_id"] = json!(ext);
                }
                ("user.deleted", d)
            })
            .collect();

        // Organizations.
        let mut org_created = Vec::new();
        let mut org_updated = Vec::new();
        for (id, o) in orgs {
            match self.orgs.get(id) {
                None => org_created.push(("organization.created", o.clone())),
                Some(old) if old != o => org_updated.push(("organization.updated", o.clone())),
                _ => {}
            }
        }
        let org_deleted: Vec<_> = self
            .orgs
            .iter()
            .filter(|(id, _)| !orgs.contains_key(*id))
            .map(|(id, old)| {
                let mut d = json!({"object": "organization", "id": id, "deleted": true});
                if let Some(slug) = old["slug"].as_str() {
                    d["slug"] = json!(slug);
                }
                ("organization.deleted", d)
            })
            .collect();

        // Memberships: compared as stored; sent as the Backend API answers them (current organization, fresh
        // `public_user_data`). A deleted one is rendered with the last known user and organization.
        let current: BTreeMap<(String, String), &Value> = memberships(store).collect();
        let render = |m: &Value, users: &BTreeMap<String, Value>, org_id: &str| {
            let mut out = store.orgs.render_membership(m, Some(users));
            if !orgs.contains_key(org_id)
                && let Some(old) = self.orgs.get(org_id)
            {
                out["organization"] = old.clone();
            }
            out
        };
        let mut mem_created = Vec::new();
        let mut mem_updated = Vec::new();
        for ((org_id, user_id), m) in &current {
            match self.memberships.get(&(org_id.clone(), user_id.clone())) {
                None => mem_created.push(("organizationMembership.created", render(m, users, org_id))),
                Some(old) if old != *m => {
                    mem_updated.push(("organizationMembership.updated", render(m, users, org_id)))
                }
                _ => {}
            }
        }
        let mem_deleted: Vec<_> = self
            .memberships
            .iter()
            .filter(|(k, _)| !current.contains_key(*k))
            .map(|((org_id, _), old)| ("organizationMembership.deleted", render(old, &self.users, org_id)))
            .collect();

        // Sessions: created (or pending), then status transitions.
        for (id, s) in &store.users.sessions {
            let now = status(s);
            let event = match (self.session_status.get(id).map(String::as_str), now.as_str()) {
                (None, "pending") => Some("session.pending"),
                (None, _) => Some("session.created"),
                (Some(before), after) if before == after => None,
                (Some(_), "revoked") => Some("session.revoked"),
                (Some(_), "ended") => Some("session.ended"),
                (Some(_), "removed") => Some("session.removed"),
                (Some(_), "pending") => Some("session.pending"),
                _ => None,
            };
            if let Some(event) = event {
                let mut data = s.clone();
                let uid = s["user_id"].as_str().unwrap_or_default();
                data["user"] = users.get(uid).or_else(|| self.users.get(uid)).cloned().unwrap_or(Value::Null);
                sessions.push((event, data));
            }
        }

        created.extend(user_created);
        created.extend(org_created);
        created.extend(mem_created);
        updated.extend(user_updated);
        updated.extend(org_updated);
        updated.extend(mem_updated);
        deleted.extend(mem_deleted);
        deleted.extend(org_deleted);
        deleted.extend(user_deleted);
        let mut events = created;
        events.extend(updated);
        events.extend(sessions);
        events.extend(deleted);
        sync_map(&mut self.users, users);
        sync_map(&mut self.orgs, orgs);
        self.memberships.retain(|k, _| current.contains_key(k));
        for (k, m) in current {
            if self.memberships.get(&k) != Some(m) {
                self.memberships.insert(k, m.clone());
            }
        }
        self.session_status = store.users.sessions.iter().map(|(id, s)| (id.clone(), status(s))).collect();
        events
    }
}
