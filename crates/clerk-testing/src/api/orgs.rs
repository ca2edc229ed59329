//! Organizations, memberships, organization invitations and instance invitations.
//!
//! Organizations are stored as the JSON the Backend API answers with; counts (`members_count`,
//! `pending_invitations_count`, `missing_member_with_elevated_permissions`) are computed when asked for, so they can
//! never drift. Memberships embed their organization and the member's `public_user_data`, refreshed on every answer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Handled, deleted, merge, obj, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

const ADMIN: &str = "org:admin";
const MEMBER: &str = "org:member";
const DEFAULT_ORG_IMAGE: &str = "https://img.clerk.com/emulator/default-organization";
const DEFAULT_USER_IMAGE: &str = "https://img.clerk.com/emulator/default";
const DAY_MS: i64 = 24 * 3600 * 1000;
const DEFAULT_EXPIRY_DAYS: i64 = 30;

/// Organizations and what hangs off them.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) organizations: BTreeMap<String, Value>,
    /// Memberships by organization id, then user id.
    pub(crate) memberships: BTreeMap<String, BTreeMap<String, Value>>,
    /// Organization invitations by id.
    pub(crate) org_invitations: BTreeMap<String, Value>,
    /// Instance invitations (`/invitations`) by id.
    pub(crate) invitations: BTreeMap<String, Value>,
}

impl State {
    /// Whether `user_id` is a member of organization `org_id`.
    pub(crate) fn is_member(&self, org_id: &str, user_id: &str) -> bool {
        self.memberships.get(org_id).is_some_and(|m| m.contains_key(user_id))
    }

    /// Every membership of a user, each with its organization as it is now.
    pub(crate) fn memberships_of_user(&self, user_id: &str) -> Vec<Value> {
        self.memberships.values().filter_map(|m| m.get(user_id)).map(|m| self.render_membership(m, None)).collect()
    }

    /// Forgets a deleted user's memberships.
    pub(crate) fn remove_user(&mut self, user_id: &str) {
        for m in self.memberships.values_mut() {
            m.remove(user_id);
        }
    }

    fn org(&self, id: &str) -> Result<&Value, ApiError> {
        self.organizations.get(id).ok_or_else(|| ApiError::not_found("organization"))
    }

    fn org_mut(&mut self, id: &str) -> Result<&mut Value, ApiError> {
        self.organizations.get_mut(id).ok_or_else(|| ApiError::not_found("organization"))
    }

    /// An organization by id or, failing that, by slug.
    fn org_by_id_or_slug(&self, id_or_slug: &str) -> Result<&Value, ApiError> {
        self.organizations
            .get(id_or_slug)
            .or_else(|| self.organizations.values().find(|o| o["slug"] == id_or_slug))
            .ok_or_else(|| ApiError::not_found("organization"))
    }

    fn slug_taken(&self, slug: &str, except: Option<&str>) -> bool {
        self.organizations.values().any(|o| o["slug"] == slug && except.is_none_or(|id| o["id"] != id))
    }

    /// A slug derived from `name`, made unique with a random suffix when needed.
    fn unique_slug(&self, name: &str) -> String {
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let base = match slug.trim_end_matches('-') {
            "" => "organization",
            b => b,
        };
        let mut slug = base.to_owned();
        while self.slug_taken(&slug, None) {
            slug = format!("{base}-{}", ids::random_base62(6).to_lowercase());
        }
        slug
    }

    fn members_count(&self, org_id: &str) -> usize {
        self.memberships.get(org_id).map_or(0, BTreeMap::len)
    }

    fn pending_count(&self, org_id: &str) -> usize {
        self.org_invitations.values().filter(|i| i["organization_id"] == org_id && i["status"] == "pending").count()
    }

    fn has_admin(&self, org_id: &str) -> bool {
        self.memberships.get(org_id).is_some_and(|m| m.values().any(|x| x["role"] == ADMIN))
    }

    fn is_admin(&self, org_id: &str, user_id: &str) -> bool {
        self.memberships.get(org_id).and_then(|m| m.get(user_id)).is_some_and(|m| m["role"] == ADMIN)
    }

    /// The organization as answered: with the counts when asked for.
    fn render_org(&self, org: &Value, opts: OrgOpts) -> Value {
        let mut o = org.clone();
        let id = org["id"].as_str().unwrap_or_default();
        if opts.counts {
            o["members_count"] = json!(self.members_count(id));
            o["pending_invitations_count"] = json!(self.pending_count(id));
        }
        if opts.missing_admin {
            o["missing_member_with_elevated_permissions"] = json!(!self.has_admin(id));
        }
        o
    }

    /// A membership as answered: its organization as it is now and, given the users, fresh `public_user_data`.
    pub(crate) fn render_membership(&self, m: &Value, users: Option<&BTreeMap<String, Value>>) -> Value {
        let mut out = m.clone();
        if let Some(org) = m["organization"]["id"].as_str().and_then(|id| self.organizations.get(id)) {
            out["organization"] = self.render_org(org, OrgOpts::default());
        }
        if let Some(u) = users.and_then(|us| m["public_user_data"]["user_id"].as_str().and_then(|id| us.get(id))) {
            out["public_user_data"] = public_user_data(u);
        }
        out
    }

    /// `403 organization_membership_quota_exceeded` when `adding` more members or invitations would pass the
    /// organization's `max_allowed_memberships` (0 is unlimited), pending invitations included.
    fn check_quota(&self, org_id: &str, adding: usize) -> Result<(), ApiError> {
        let max = self.organizations.get(org_id).and_then(|o| o["max_allowed_memberships"].as_u64()).unwrap_or(0);
        let used = self.members_count(org_id) + self.pending_count(org_id) + adding;
        if max > 0 && u64::try_from(used).unwrap_or(u64::MAX) > max {
            return Err(ApiError::new(
                403,
                "organization_membership_quota_exceeded",
                "membership quota exceeded",
                format!(
                    "You have reached your limit of {max} organization memberships, including outstanding invitations."
                ),
            ));
        }
        Ok(())
    }

    /// Pending invitations whose `expires_at` has passed become `expired`.
    fn expire(&mut self, now: i64) {
        for inv in self.org_invitations.values_mut().chain(self.invitations.values_mut()) {
            if inv["status"] == "pending" && inv["expires_at"].as_i64().is_some_and(|t| t <= now) {
                inv["status"] = json!("expired");
            }
        }
    }
}

/// Which computed fields an organization answer carries.
#[derive(Debug, Clone, Copy, Default)]
struct OrgOpts {
    counts: bool,
    missing_admin: bool,
}

impl OrgOpts {
    fn from_query(ctx: &Ctx) -> Self {
        Self {
            counts: ctx.query_bool("include_members_count") == Some(true),
            missing_admin: ctx.query_bool("include_missing_member_with_elevated_permissions") == Some(true),
        }
    }
}

pub(crate) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    // Counts and quotas read the pending invitations, so expire them first.
    if ctx.op.id.contains("Invitation") || ctx.op.id.contains("Organization") {
        let now = store.now_ms();
        store.orgs.expire(now);
    }
    let r = match ctx.op.id {
        // Organizations.
        "CreateOrganization" => create_org(store, ctx),
        "GetOrganization" => store
            .orgs
            .org_by_id_or_slug(ctx.path("organization_id"))
            .and_then(|o| ok(store.orgs.render_org(o, OrgOpts::from_query(ctx)))),
        "ListOrganizations" => list_orgs(store, ctx),
        "UpdateOrganization" => update_org(store, ctx),
        "DeleteOrganization" => delete_org(store, ctx),
        "MergeOrganizationMetadata" => org_metadata(store, ctx, true),
        "ReplaceOrganizationMetadata" => org_metadata(store, ctx, false),
        "UploadOrganizationLogo" => upload_logo(store, ctx),
        "DeleteOrganizationLogo" => {
            let now = store.now_ms();
            store
                .orgs
                .org_mut(ctx.path("organization_id"))
                .map(|o| {
                    o["image_url"] = json!(DEFAULT_ORG_IMAGE);
                    o["has_image"] = json!(false);
                    o["updated_at"] = json!(now);
                    o.clone()
                })
                .and_then(|o| ok(store.orgs.render_org(&o, OrgOpts::default())))
        }
        // Memberships.
        "CreateOrganizationMembership" => create_membership(store, ctx),
        "ListOrganizationMemberships" => list_memberships(store, ctx, Some(ctx.path("organization_id"))),
        "InstanceGetOrganizationMemberships" => list_memberships(store, ctx, None),
        "UpdateOrganizationMembership" => update_membership(store, ctx, false),
        "UpdateOrganizationMembershipMetadata" => update_membership(store, ctx, true),
        "DeleteOrganizationMembership" => delete_membership(store, ctx),
        // Organization invitations.
        "CreateOrganizationInvitation" => create_org_invitations(store, shared, ctx, std::slice::from_ref(&ctx.json))
            .and_then(|mut v| v.pop().map_or_else(|| Err(ApiError::param_missing("email_address")), ok)),
        "CreateOrganizationInvitationBulk" => {
            let items = ctx.json.as_array().cloned().unwrap_or_default();
            create_org_invitations(store, shared, ctx, &items)
                .and_then(|v| ok(json!({ "total_count": v.len(), "data": v })))
        }
        "GetOrganizationInvitation" => org_invitation(store, ctx).cloned().and_then(ok),
        "ListOrganizationInvitations" | "ListPendingOrganizationInvitations" => list_org_invitations(store, ctx),
        "ListInstanceOrganizationInvitations" => list_instance_org_invitations(store, ctx, None),
        "UsersGetOrganizationInvitations" => {
            let Some(user) = store.users.users.get(ctx.path("user_id")) else {
                return Some(Err(ApiError::not_found("user")));
            };
            let emails = user_emails(user);
            list_instance_org_invitations(store, ctx, Some(&emails))
        }
        "RevokeOrganizationInvitation" => revoke_org_invitation(store, ctx),
        // Instance invitations.
        "CreateInvitation" => create_invitations(store, shared, std::slice::from_ref(&ctx.json))
            .and_then(|mut v| v.pop().map_or_else(|| Err(ApiError::param_missing("email_address")), ok)),
        "CreateBulkInvitations" => {
            let items = ctx.json.as_array().cloned().unwrap_or_default();
            create_invitations(store, shared, &items).and_then(|v| ok(Value::Array(v)))
        }
        "ListInvitations" => {
            let status = ctx.query_one("status");
            let query = ctx.query_one("query").map(str::to_lowercase);
            let mut items: Vec<Value> = store
                .orgs
                .invitations
                .values()
                .filter(|i| status.is_none_or(|st| i["status"] == st))
                .filter(|i| query.as_deref().is_none_or(|q| i["email_address"].as_str().is_some_and(|e| e.contains(q))))
                .cloned()
                .collect();
            order(&mut items, ctx, &["created_at", "email_address", "expires_at"], |v, f| v[f].clone())
                .and_then(|()| page(ctx, items, false))
        }
        "RevokeInvitation" => {
            let now = store.now_ms();
            match store.orgs.invitations.get_mut(ctx.path("invitation_id")) {
                None => Err(ApiError::not_found("invitation")),
                Some(inv) if inv["status"] != "pending" => Err(ApiError::new(
                    400,
                    "invitation_not_pending",
                    "invitation is not pending",
                    format!("Only pending invitations can be revoked; this one is {}.", inv["status"]),
                )),
                Some(inv) => {
                    inv["status"] = json!("revoked");
                    inv["revoked"] = json!(true);
                    inv["updated_at"] = json!(now);
                    ok(inv.clone())
                }
            }
        }
        _ => return None,
    };
    Some(r)
}

// ---------------------------------------------------------------------------------------------------------------
// Organizations.

fn create_org(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body = &ctx.json;
    let name = valid_name(s(body, "name").unwrap_or_default())?;
    let creator = match s(body, "created_by") {
        Some(uid) => Some(store.users.users.get(uid).cloned().ok_or_else(|| ApiError::not_found("user"))?),
        None => None,
    };
    let slug = match s(body, "slug") {
        Some(slug) => {
            check_slug(slug)?;
            if store.orgs.slug_taken(slug, None) {
                return Err(slug_taken());
            }
            slug.to_owned()
        }
        None => store.orgs.unique_slug(name),
    };
    let now = store.now_ms();
    let created_at = match s(body, "created_at") {
        Some(t) => parse_rfc3339_ms(t).ok_or_else(|| ApiError::param_invalid("created_at", "not an RFC 3339 date"))?,
        None => now,
    };
    let id = ids::new_id("org");
    let org = json!({
        "object": "organization",
        "id": id,
        "name": name,
        "slug": slug,
        "image_url": DEFAULT_ORG_IMAGE,
        "has_image": false,
        "max_allowed_memberships": body.get("max_allowed_memberships").and_then(Value::as_i64).unwrap_or(0),
        "admin_delete_enabled": true,
        "public_metadata": obj(body, "public_metadata"),
        "private_metadata": obj(body, "private_metadata"),
        "created_by": creator.as_ref().map_or(Value::String(String::new()), |u| u["id"].clone()),
        "role_set_key": body.get("role_set_key").filter(|v| v.is_string()).cloned().unwrap_or(Value::Null),
        "created_at": created_at,
        "updated_at": now,
    });
    store.orgs.organizations.insert(id.clone(), org.clone());
    let mut members = BTreeMap::new();
    if let Some(u) = creator {
        let m = new_membership(&org, &u, ADMIN, &json!({}), &json!({}), now);
        members.insert(u["id"].as_str().unwrap_or_default().to_owned(), m);
    }
    store.orgs.memberships.insert(id, members);
    ok(org)
}

fn list_orgs(store: &Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let opts = OrgOpts::from_query(ctx);
    let (users_in, users_out) = signed(&multi(ctx, "user_id"));
    let (orgs_in, orgs_out) = signed(&multi(ctx, "organization_id"));
    let query = ctx.query_one("query").map(str::to_lowercase);
    let st = &store.orgs;
    let mut items: Vec<Value> = st
        .organizations
        .values()
        .filter(|o| {
            let id = o["id"].as_str().unwrap_or_default();
            let lower = |k: &str| o[k].as_str().unwrap_or_default().to_lowercase();
            (users_in.is_empty() || users_in.iter().any(|u| st.is_member(id, u)))
                && !users_out.iter().any(|u| st.is_member(id, u))
                && (orgs_in.is_empty() || orgs_in.contains(&id))
                && !orgs_out.contains(&id)
                && query.as_deref().is_none_or(|q| {
                    id.eq_ignore_ascii_case(q) || lower("name").contains(q) || lower("slug").contains(q)
                })
        })
        .map(|o| st.render_org(o, opts))
        .collect();
    order(&mut items, ctx, &["created_at", "name", "members_count"], |o, f| {
        if f == "members_count" { json!(st.members_count(o["id"].as_str().unwrap_or_default())) } else { o[f].clone() }
    })?;
    page(ctx, items, true)
}

fn update_org(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("organization_id");
    let body = &ctx.json;
    store.orgs.org(id)?;
    let name = s(body, "name").map(valid_name).transpose()?;
    if let Some(slug) = s(body, "slug") {
        check_slug(slug)?;
        if store.orgs.slug_taken(slug, Some(id)) {
            return Err(slug_taken());
        }
    }
    let created_at = match s(body, "created_at") {
        Some(t) => {
            Some(parse_rfc3339_ms(t).ok_or_else(|| ApiError::param_invalid("created_at", "not an RFC 3339 date"))?)
        }
        None => None,
    };
    let now = store.now_ms();
    let org = store.orgs.org_mut(id)?;
    if let Some(name) = name {
        org["name"] = json!(name);
    }
    for key in ["slug", "max_allowed_memberships", "admin_delete_enabled"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            org[key] = v.clone();
        }
    }
    if let Some(v) = body.get("role_set_key") {
        org["role_set_key"] = v.clone();
    }
    if let Some(t) = created_at {
        org["created_at"] = json!(t);
    }
    org["updated_at"] = json!(now);
    let org = org.clone();
    ok(store.orgs.render_org(&org, OrgOpts::default()))
}

fn delete_org(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("organization_id");
    store.orgs.organizations.remove(id).ok_or_else(|| ApiError::not_found("organization"))?;
    store.orgs.memberships.remove(id);
    store.orgs.org_invitations.retain(|_, i| i["organization_id"] != id);
    for sess in store.users.sessions.values_mut() {
        if sess["last_active_organization_id"] == id {
            sess["last_active_organization_id"] = Value::Null;
        }
    }
    ok(deleted("organization", id))
}

fn org_metadata(store: &mut Store, ctx: &Ctx, merging: bool) -> Result<Reply, ApiError> {
    let now = store.now_ms();
    let org = store.orgs.org_mut(ctx.path("organization_id"))?;
    for key in ["public_metadata", "private_metadata"] {
        if let Some(patch) = ctx.json.get(key).filter(|v| v.is_object()) {
            if merging {
                merge(&mut org[key], patch);
            } else {
                org[key] = patch.clone();
            }
        }
    }
    org["updated_at"] = json!(now);
    let org = org.clone();
    ok(store.orgs.render_org(&org, OrgOpts::default()))
}

fn upload_logo(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("organization_id");
    store.orgs.org(id)?;
    // A file part, or (as some clients send it) a plain part without a file name.
    let (ctype, len) = match (ctx.files.get("file"), ctx.form.get("file")) {
        (Some((_, ctype, data)), _) => (ctype.as_deref(), data.len()),
        (None, Some(text)) => (None, text.len()),
        (None, None) => return Err(ApiError::param_missing("file")),
    };
    let bad_file = |why: &str| {
        ApiError::new(400, "form_param_format_invalid", "is invalid", format!("file is invalid: {why}"))
            .with_meta(json!({ "param_name": "file" }))
    };
    if len == 0 {
        return Err(bad_file("the file is empty"));
    }
    const IMAGE_TYPES: &[&str] =
        &["image/jpeg", "image/png", "image/gif", "image/webp", "image/x-icon", "image/vnd.microsoft.icon"];
    if let Some(ct) = ctype
        && !IMAGE_TYPES.iter().any(|t| ct.eq_ignore_ascii_case(t))
        && !ct.eq_ignore_ascii_case("application/octet-stream")
    {
        return Err(bad_file("only jpeg, png, gif, webp and x-icon images are supported"));
    }
    if let Some(uploader) = ctx.form.get("uploader_user_id")
        && !store.users.users.contains_key(uploader.as_str())
    {
        return Err(ApiError::not_found("user"));
    }
    let now = store.now_ms();
    let url = format!("https://img.clerk.com/emulator/organization/{}", ids::random_base62(16));
    let org = store.orgs.org_mut(id)?;
    org["image_url"] = json!(url);
    org["has_image"] = json!(true);
    org["updated_at"] = json!(now);
    let org = org.clone();
    let mut out = store.orgs.render_org(&org, OrgOpts::default());
    out["logo_url"] = json!(url);
    ok(out)
}

fn valid_name(name: &str) -> Result<&str, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    if trimmed.chars().count() > 256 {
        return Err(ApiError::param_invalid("name", "must be at most 256 characters"));
    }
    if trimmed.contains('<') || trimmed.contains('>') || trimmed.contains("://") {
        return Err(ApiError::param_invalid("name", "must not contain URLs or HTML"));
    }
    Ok(trimmed)
}

fn check_slug(slug: &str) -> Result<(), ApiError> {
    if slug.is_empty()
        || slug.len() > 128
        || !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiError::param_invalid("slug", "may contain only lowercase alphanumeric characters and '-'"));
    }
    Ok(())
}

fn slug_taken() -> ApiError {
    ApiError::conflict("form_identifier_exists", "slug", "This slug is already taken by another organization.")
}

// ---------------------------------------------------------------------------------------------------------------
// Memberships.

fn valid_role(role: &str) -> Result<(), ApiError> {
    let key_ok = role.strip_prefix("org:").is_some_and(|k| {
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-:".contains(&b))
    });
    if key_ok {
        Ok(())
    } else {
        Err(ApiError::param_invalid("role", "must be a role key such as org:admin or org:member"))
    }
}

fn role_name(role: &str) -> String {
    let key = role.strip_prefix("org:").unwrap_or(role).replace(['_', '-'], " ");
    let mut chars = key.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn permissions(role: &str) -> Value {
    match role {
        ADMIN => json!([
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_memberships:read",
            "org:sys_memberships:manage",
            "org:sys_domains:read",
            "org:sys_domains:manage"
        ]),
        MEMBER => json!(["org:sys_memberships:read"]),
        _ => json!([]),
    }
}

fn str_or<'a>(v: &'a Value, key: &str, default: &'a str) -> &'a str {
    v[key].as_str().unwrap_or(default)
}

/// The user's identifier shown to others: primary email, else primary phone, else username.
fn identifier(u: &Value) -> Option<String> {
    let primary = |list: &str, primary: &str, field: &str| {
        let arr = u[list].as_array()?;
        arr.iter().find(|e| e["id"] == u[primary]).or_else(|| arr.first()).and_then(|e| e[field].as_str())
    };
    primary("email_addresses", "primary_email_address_id", "email_address")
        .or_else(|| primary("phone_numbers", "primary_phone_number_id", "phone_number"))
        .or_else(|| u["username"].as_str())
        .map(str::to_owned)
}

fn public_user_data(u: &Value) -> Value {
    json!({
        "user_id": str_or(u, "id", ""),
        "first_name": u["first_name"].as_str(),
        "last_name": u["last_name"].as_str(),
        "profile_image_url": str_or(u, "profile_image_url", DEFAULT_USER_IMAGE),
        "image_url": str_or(u, "image_url", DEFAULT_USER_IMAGE),
        "has_image": u["has_image"].as_bool().unwrap_or(false),
        "identifier": identifier(u),
        "username": u["username"].as_str(),
        "banned": u["banned"].as_bool().unwrap_or(false),
    })
}

fn user_emails(u: &Value) -> BTreeSet<String> {
    u["email_addresses"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["email_address"].as_str().map(str::to_lowercase)).collect())
        .unwrap_or_default()
}

fn new_membership(org: &Value, user: &Value, role: &str, public: &Value, private: &Value, now: i64) -> Value {
    json!({
        "object": "organization_membership",
        "id": ids::new_id("orgmem"),
        "role": role,
        "role_name": role_name(role),
        "permissions": permissions(role),
        "public_metadata": public,
        "private_metadata": private,
        "organization": org,
        "public_user_data": public_user_data(user),
        "created_at": now,
        "updated_at": now,
    })
}

fn already_member(user_id: &str) -> ApiError {
    ApiError::new(
        400,
        "already_a_member_in_organization",
        "already a member",
        format!("User {user_id} is already a member of the organization."),
    )
}

fn create_membership(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org_id = ctx.path("organization_id");
    let org = store.orgs.org(org_id)?.clone();
    let user_id = s(&ctx.json, "user_id").unwrap_or_default();
    let role = s(&ctx.json, "role").unwrap_or_default();
    valid_role(role)?;
    let user = store.users.users.get(user_id).cloned().ok_or_else(|| ApiError::not_found("user"))?;
    if store.orgs.is_member(org_id, user_id) {
        return Err(already_member(user_id));
    }
    store.orgs.check_quota(org_id, 1)?;
    let now = store.now_ms();
    let m =
        new_membership(&org, &user, role, &obj(&ctx.json, "public_metadata"), &obj(&ctx.json, "private_metadata"), now);
    store.orgs.memberships.entry(org_id.to_owned()).or_default().insert(user_id.to_owned(), m.clone());
    ok(store.orgs.render_membership(&m, Some(&store.users.users)))
}

fn update_membership(store: &mut Store, ctx: &Ctx, metadata: bool) -> Result<Reply, ApiError> {
    let org_id = ctx.path("organization_id");
    store.orgs.org(org_id)?;
    let role = if metadata { None } else { s(&ctx.json, "role") };
    if let Some(role) = role {
        valid_role(role)?;
    }
    let now = store.now_ms();
    let m = store
        .orgs
        .memberships
        .get_mut(org_id)
        .and_then(|m| m.get_mut(ctx.path("user_id")))
        .ok_or_else(|| ApiError::not_found("organization membership"))?;
    if let Some(role) = role {
        m["role"] = json!(role);
        m["role_name"] = json!(role_name(role));
        m["permissions"] = permissions(role);
    }
    if metadata {
        for key in ["public_metadata", "private_metadata"] {
            if let Some(patch) = ctx.json.get(key).filter(|v| v.is_object()) {
                merge(&mut m[key], patch);
            }
        }
    }
    m["updated_at"] = json!(now);
    let m = m.clone();
    ok(store.orgs.render_membership(&m, Some(&store.users.users)))
}

fn delete_membership(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org_id = ctx.path("organization_id");
    let user_id = ctx.path("user_id");
    store.orgs.org(org_id)?;
    let m = store
        .orgs
        .memberships
        .get_mut(org_id)
        .and_then(|m| m.remove(user_id))
        .ok_or_else(|| ApiError::not_found("organization membership"))?;
    for sess in store.users.sessions.values_mut() {
        if sess["user_id"] == user_id && sess["last_active_organization_id"] == org_id {
            sess["last_active_organization_id"] = Value::Null;
        }
    }
    ok(store.orgs.render_membership(&m, Some(&store.users.users)))
}

/// The filters of `ListOrganizationMemberships`, parsed once.
struct MemberFilter<'a> {
    users_in: Vec<&'a str>,
    users_out: Vec<&'a str>,
    emails: Vec<String>,
    phones: Vec<&'a str>,
    usernames: Vec<String>,
    wallets: Vec<String>,
    roles: Vec<&'a str>,
    query: Option<String>,
    email_q: Option<String>,
    phone_q: Option<String>,
    username_q: Option<String>,
    name_q: Option<String>,
    active_before: Option<i64>,
    active_after: Option<i64>,
    created_before: Option<i64>,
    created_after: Option<i64>,
}

impl<'a> MemberFilter<'a> {
    fn new(ctx: &'a Ctx) -> Self {
        let lower = |name: &str| multi(ctx, name).iter().map(|v| v.to_lowercase()).collect();
        let (users_in, users_out) = signed(&multi(ctx, "user_id"));
        let q = |name: &str| ctx.query_one(name).map(str::to_lowercase);
        Self {
            users_in,
            users_out,
            emails: lower("email_address"),
            phones: multi(ctx, "phone_number"),
            usernames: lower("username"),
            wallets: lower("web3_wallet"),
            roles: multi(ctx, "role"),
            query: q("query"),
            email_q: q("email_address_query"),
            phone_q: q("phone_number_query"),
            username_q: q("username_query"),
            name_q: q("name_query"),
            active_before: ctx.query_int("last_active_at_before"),
            active_after: ctx.query_int("last_active_at_after"),
            created_before: ctx.query_int("created_at_before"),
            created_after: ctx.query_int("created_at_after"),
        }
    }

    fn matches(&self, m: &Value, user: &Value) -> bool {
        let uid = str_or(user, "id", "");
        let strs = |list: &str, field: &str| -> Vec<String> {
            user[list]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e[field].as_str().map(str::to_lowercase)).collect())
                .unwrap_or_default()
        };
        let emails = strs("email_addresses", "email_address");
        let phones = strs("phone_numbers", "phone_number");
        let wallets = strs("web3_wallets", "web3_wallet");
        let username = str_or(user, "username", "").to_lowercase();
        let name = format!("{} {}", str_or(user, "first_name", ""), str_or(user, "last_name", "")).to_lowercase();
        let contains = |hay: &[String], q: &str| hay.iter().any(|h| h.contains(q));
        let time = |k: &str| user[k].as_i64();
        (self.users_in.is_empty() || self.users_in.contains(&uid))
            && !self.users_out.contains(&uid)
            && (self.emails.is_empty() || self.emails.iter().any(|e| emails.contains(e)))
            && (self.phones.is_empty() || self.phones.iter().any(|p| phones.iter().any(|x| x == p)))
            && (self.usernames.is_empty() || self.usernames.contains(&username))
            && (self.wallets.is_empty() || self.wallets.iter().any(|w| wallets.contains(w)))
            && (self.roles.is_empty() || self.roles.iter().any(|r| m["role"] == *r))
            && self.query.as_deref().is_none_or(|q| {
                contains(&emails, q)
                    || contains(&phones, q)
                    || contains(&wallets, q)
                    || username.contains(q)
                    || name.contains(q)
                    || uid.to_lowercase().contains(q)
            })
            && self.email_q.as_deref().is_none_or(|q| contains(&emails, q))
            && self.phone_q.as_deref().is_none_or(|q| contains(&phones, q))
            && self.username_q.as_deref().is_none_or(|q| username.contains(q))
            && self.name_q.as_deref().is_none_or(|q| name.contains(q))
            && self.active_before.is_none_or(|t| time("last_active_at").is_some_and(|x| x < t))
            && self.active_after.is_none_or(|t| time("last_active_at").is_some_and(|x| x > t))
            && self.created_before.is_none_or(|t| time("created_at").is_some_and(|x| x < t))
            && self.created_after.is_none_or(|t| time("created_at").is_some_and(|x| x > t))
    }
}

fn list_memberships(store: &Store, ctx: &Ctx, org_id: Option<&str>) -> Result<Reply, ApiError> {
    if let Some(id) = org_id {
        store.orgs.org(id)?;
    }
    let users = &store.users.users;
    let filter = MemberFilter::new(ctx);
    let mut items: Vec<Value> = store
        .orgs
        .memberships
        .iter()
        .filter(|(o, _)| org_id.is_none_or(|id| id == o.as_str()))
        .flat_map(|(_, m)| m.iter())
        .filter(|(uid, m)| users.get(uid.as_str()).is_some_and(|u| filter.matches(m, u)))
        .map(|(_, m)| store.orgs.render_membership(m, Some(users)))
        .collect();
    let fields = ["created_at", "first_name", "last_name", "username", "email_address", "phone_number"];
    order(&mut items, ctx, &fields, |m, f| {
        let pud = &m["public_user_data"];
        let user = pud["user_id"].as_str().and_then(|id| users.get(id));
        match f {
            "created_at" => m["created_at"].clone(),
            "first_name" | "last_name" | "username" => pud[f].clone(),
            _ => user
                .and_then(|u| {
                    let list = if f == "email_address" { "email_addresses" } else { "phone_numbers" };
                    u[list].as_array().and_then(|a| a.first()).map(|e| e[f].clone())
                })
                .unwrap_or(Value::Null),
        }
    })?;
    page(ctx, items, true)
}

// ---------------------------------------------------------------------------------------------------------------
// Organization invitations.

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.contains(char::is_whitespace)
}

/// The invitation link: a ticket on the emulator's Frontend API, carrying `redirect_url` when given.
fn ticket_url(shared: &Shared, redirect_url: Option<&str>) -> String {
    let mut url = format!("{}/v1/tickets/accept?ticket={}", shared.issuer(), ids::random_base62(32));
    if let Some(r) = redirect_url {
        url.push_str("&redirect_url=");
        for b in r.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                url.push(char::from(b));
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

fn expires_at(body: &Value, now: i64) -> i64 {
    let days = body.get("expires_in_days").and_then(Value::as_i64).unwrap_or(DEFAULT_EXPIRY_DAYS);
    now.saturating_add(days.saturating_mul(DAY_MS))
}

fn inviter_data(u: &Value) -> Value {
    json!({
        "user_id": str_or(u, "id", ""),
        "first_name": u["first_name"].as_str(),
        "last_name": u["last_name"].as_str(),
        "image_url": str_or(u, "image_url", DEFAULT_USER_IMAGE),
        "has_image": u["has_image"].as_bool().unwrap_or(false),
        "identifier": identifier(u).unwrap_or_default(),
    })
}

/// Checks every invitation of the batch, then creates them all (or none).
fn create_org_invitations(
    store: &mut Store,
    shared: &Shared,
    ctx: &Ctx,
    items: &[Value],
) -> Result<Vec<Value>, ApiError> {
    let org_id = ctx.path("organization_id");
    store.orgs.org(org_id)?;
    let member_emails: BTreeSet<String> = store
        .orgs
        .memberships
        .get(org_id)
        .into_iter()
        .flat_map(BTreeMap::keys)
        .filter_map(|uid| store.users.users.get(uid))
        .flat_map(user_emails)
        .collect();
    let mut pending: BTreeSet<String> = store
        .orgs
        .org_invitations
        .values()
        .filter(|i| i["organization_id"] == org_id && i["status"] == "pending")
        .filter_map(|i| i["email_address"].as_str().map(str::to_lowercase))
        .collect();
    let mut inviters = Vec::with_capacity(items.len());
    for body in items {
        let email = s(body, "email_address").unwrap_or_default().to_lowercase();
        if !valid_email(&email) {
            return Err(ApiError::param_invalid("email_address", "is not a valid email address"));
        }
        valid_role(s(body, "role").unwrap_or_default())?;
        if member_emails.contains(&email) {
            return Err(ApiError::new(
                400,
                "already_a_member_in_organization",
                "already a member",
                format!("{email} is already a member of the organization."),
            ));
        }
        if !pending.insert(email.clone()) {
            return Err(ApiError::new(
                400,
                "duplicate_record",
                "duplicate invitation",
                format!("There is already a pending invitation for {email} in this organization."),
            )
            .with_meta(json!({ "param_name": "email_address" })));
        }
        let inviter = match s(body, "inviter_user_id") {
            Some(uid) => {
                let u = store.users.users.get(uid).ok_or_else(|| ApiError::not_found("user"))?;
                if !store.orgs.is_admin(org_id, uid) {
                    return Err(not_an_admin());
                }
                Some(u.clone())
            }
            None => None,
        };
        inviters.push(inviter);
    }
    store.orgs.check_quota(org_id, items.len())?;
    let mut out = Vec::with_capacity(items.len());
    for (body, inviter) in items.iter().zip(inviters) {
        let now = store.now_ms();
        let role = s(body, "role").unwrap_or_default();
        let id = ids::new_id("orginv");
        let inv = json!({
            "object": "organization_invitation",
            "id": id,
            "email_address": s(body, "email_address").unwrap_or_default().to_lowercase(),
            "role": role,
            "role_name": role_name(role),
            "organization_id": org_id,
            "inviter_id": inviter.as_ref().map(|u| u["id"].clone()),
            "public_inviter_data": inviter.as_ref().map(inviter_data),
            "status": "pending",
            "public_metadata": obj(body, "public_metadata"),
            "private_metadata": obj(body, "private_metadata"),
            "url": ticket_url(shared, s(body, "redirect_url")),
            "expires_at": expires_at(body, now),
            "created_at": now,
            "updated_at": now,
        });
        store.orgs.org_invitations.insert(id, inv.clone());
        out.push(inv);
    }
    Ok(out)
}

fn not_an_admin() -> ApiError {
    ApiError::new(
        403,
        "not_an_admin_in_organization",
        "not an admin",
        "The user must be an administrator of the organization.",
    )
}

fn org_invitation<'a>(store: &'a Store, ctx: &Ctx) -> Result<&'a Value, ApiError> {
    let org_id = ctx.path("organization_id");
    store.orgs.org(org_id)?;
    store
        .orgs
        .org_invitations
        .get(ctx.path("invitation_id"))
        .filter(|i| i["organization_id"] == org_id)
        .ok_or_else(|| ApiError::not_found("organization invitation"))
}

fn list_org_invitations(store: &Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org_id = ctx.path("organization_id");
    store.orgs.org(org_id)?;
    let status =
        if ctx.op.id == "ListPendingOrganizationInvitations" { Some("pending") } else { ctx.query_one("status") };
    let email = ctx.query_one("email_address").map(str::to_lowercase);
    let mut items: Vec<Value> = store
        .orgs
        .org_invitations
        .values()
        .filter(|i| i["organization_id"] == org_id)
        .filter(|i| status.is_none_or(|st| i["status"] == st))
        .filter(|i| email.as_deref().is_none_or(|e| i["email_address"] == e))
        .cloned()
        .collect();
    order(&mut items, ctx, &["created_at", "email_address"], |v, f| v[f].clone())?;
    page(ctx, items, true)
}

/// Organization invitations across the instance (or addressed to `emails`), with `public_organization_data`.
fn list_instance_org_invitations(
    store: &Store,
    ctx: &Ctx,
    emails: Option<&BTreeSet<String>>,
) -> Result<Reply, ApiError> {
    let status = ctx.query_one("status");
    let query = ctx.query_one("query").map(str::to_lowercase);
    let mut items: Vec<Value> = store
        .orgs
        .org_invitations
        .values()
        .filter(|i| status.is_none_or(|st| i["status"] == st))
        .filter(|i| {
            let email = i["email_address"].as_str().unwrap_or_default();
            query.as_deref().is_none_or(|q| email.contains(q)) && emails.is_none_or(|set| set.contains(email))
        })
        .filter_map(|i| {
            let org = store.orgs.organizations.get(i["organization_id"].as_str()?)?;
            let mut out = i.clone();
            out["public_organization_data"] = json!({
                "id": org["id"],
                "name": org["name"],
                "slug": org["slug"],
                "image_url": org["image_url"],
                "has_image": org["has_image"],
            });
            Some(out)
        })
        .collect();
    order(&mut items, ctx, &["created_at", "email_address"], |v, f| v[f].clone())?;
    page(ctx, items, true)
}

fn revoke_org_invitation(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org_id = ctx.path("organization_id");
    let inv_id = org_invitation(store, ctx)?["id"].as_str().unwrap_or_default().to_owned();
    if let Some(uid) = s(&ctx.json, "requesting_user_id") {
        if !store.users.users.contains_key(uid) {
            return Err(ApiError::not_found("user"));
        }
        if !store.orgs.is_admin(org_id, uid) {
            return Err(not_an_admin());
        }
    }
    let now = store.now_ms();
    let inv = store.orgs.org_invitations.get_mut(&inv_id).ok_or_else(|| ApiError::not_found("invitation"))?;
    if inv["status"] != "pending" {
        return Err(ApiError::new(
            400,
            "organization_invitation_not_pending",
            "not pending",
            format!("Only pending organization invitations can be revoked; this one is {}.", inv["status"]),
        ));
    }
    inv["status"] = json!("revoked");
    inv["updated_at"] = json!(now);
    ok(inv.clone())
}

// ---------------------------------------------------------------------------------------------------------------
// Instance invitations.

/// Checks every invitation of the batch, then creates them all (or none).
fn create_invitations(store: &mut Store, shared: &Shared, items: &[Value]) -> Result<Vec<Value>, ApiError> {
    let user_emails: BTreeSet<String> = store.users.users.values().flat_map(user_emails).collect();
    let mut pending: BTreeSet<String> = store
        .orgs
        .invitations
        .values()
        .filter(|i| i["status"] == "pending")
        .filter_map(|i| i["email_address"].as_str().map(str::to_lowercase))
        .collect();
    for body in items {
        let email = s(body, "email_address").unwrap_or_default().to_lowercase();
        if !valid_email(&email) {
            return Err(ApiError::param_invalid("email_address", "is not a valid email address"));
        }
        let newly_pending = pending.insert(email.clone());
        if body.get("ignore_existing") == Some(&json!(true)) {
            continue;
        }
        if user_emails.contains(&email) {
            return Err(ApiError::new(
                400,
                "form_identifier_exists",
                "already exists",
                format!("A user with the email address {email} already exists."),
            )
            .with_meta(json!({ "param_name": "email_address" })));
        }
        if !newly_pending {
            return Err(ApiError::new(
                400,
                "duplicate_record",
                "duplicate invitation",
                format!("There are already pending invitations for the following email addresses: {email}"),
            )
            .with_meta(json!({ "param_name": "email_address" })));
        }
    }
    let mut out = Vec::with_capacity(items.len());
    for body in items {
        let now = store.now_ms();
        let id = ids::new_id("inv");
        let inv = json!({
            "object": "invitation",
            "id": id,
            "email_address": s(body, "email_address").unwrap_or_default().to_lowercase(),
            "public_metadata": obj(body, "public_metadata"),
            "revoked": false,
            "status": "pending",
            "url": ticket_url(shared, s(body, "redirect_url")),
            "expires_at": expires_at(body, now),
            "created_at": now,
            "updated_at": now,
        });
        store.orgs.invitations.insert(id, inv.clone());
        out.push(inv);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------------------
// Lists.

/// A repeatable query parameter, given as `name` or `name[]`.
fn multi<'a>(ctx: &'a Ctx, name: &str) -> Vec<&'a str> {
    let bracketed = format!("{name}[]");
    ctx.query.iter().filter(|(n, _)| n == name || *n == bracketed).map(|(_, v)| v.as_str()).collect()
}

/// Splits `+id`/`id` (include) from `-id` (exclude). A `+` sent unencoded arrives as a space.
fn signed<'a>(values: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for v in values {
        let v = v.trim();
        match v.strip_prefix('-') {
            Some(x) => exclude.push(x),
            None => include.push(v.strip_prefix('+').unwrap_or(v)),
        }
    }
    (include, exclude)
}

/// Sorts by `[+|-]field` (default `-created_at`), `field` one of `allowed`, its value given by `key`; ties by
/// creation.
fn order<F>(items: &mut Vec<Value>, ctx: &Ctx, allowed: &[&str], key: F) -> Result<(), ApiError>
where
    F: Fn(&Value, &str) -> Value,
{
    // An unencoded `+` arrives as a space.
    let order_by = ctx.query_one("order_by").unwrap_or("-created_at").trim();
    let (desc, field) = match order_by.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, order_by.strip_prefix('+').unwrap_or(order_by)),
    };
    if !allowed.contains(&field) {
        return Err(ApiError::param_invalid("order_by", &format!("must be one of {}", allowed.join(", "))));
    }
    let rank = |v: &Value| match v {
        Value::Number(n) => (0, n.as_i64().unwrap_or(0), String::new()),
        Value::String(s) => (1, 0, s.to_lowercase()),
        _ => (2, 0, String::new()),
    };
    let mut keyed: Vec<_> =
        items.drain(..).map(|v| (rank(&key(&v, field)), v["created_at"].as_i64().unwrap_or(0), v)).collect();
    keyed.sort_by(|a, b| {
        let o = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
        if desc { o.reverse() } else { o }
    });
    items.extend(keyed.into_iter().map(|(_, _, v)| v));
    Ok(())
}

/// `offset`/`limit` (default 10), answered as `{data, total_count}` when `envelope` (or `paginated=true`), else as a
/// bare array.
fn page(ctx: &Ctx, items: Vec<Value>, envelope: bool) -> Result<Reply, ApiError> {
    let total = items.len();
    let limit = usize::try_from(ctx.query_int("limit").unwrap_or(10)).unwrap_or(10);
    let offset = usize::try_from(ctx.query_int("offset").unwrap_or(0)).unwrap_or(0);
    let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    if envelope || ctx.query_bool("paginated") == Some(true) {
        ok(json!({ "data": data, "total_count": total }))
    } else {
        ok(Value::Array(data))
    }
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` (fractions and offsets ignored) to epoch milliseconds.
fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_and_keys() {
        assert_eq!(role_name("org:admin"), "Admin");
        assert_eq!(role_name("org:billing_manager"), "Billing manager");
        assert!(valid_role("org:member").is_ok());
        assert!(valid_role("admin").is_err());
        assert!(valid_role("org:").is_err());
    }

    #[test]
    fn slugs_are_derived_and_unique() {
        let mut st = State::default();
        assert_eq!(st.unique_slug("Acme, Inc."), "acme-inc");
        assert_eq!(st.unique_slug("!!!"), "organization");
        st.organizations.insert("org_1".into(), json!({"id": "org_1", "slug": "acme-inc"}));
        let s = st.unique_slug("Acme Inc");
        assert!(s.starts_with("acme-inc-") && s.len() == "acme-inc-".len() + 6, "{s}");
    }

    #[test]
    fn signed_ids() {
        let (i, e) = signed(&["+a", " b", "-c", "d"]);
        assert_eq!(i, vec!["a", "b", "d"]);
        assert_eq!(e, vec!["c"]);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339_ms("1970-01-02T00:00:00Z"), Some(DAY_MS));
        assert_eq!(parse_rfc3339_ms("2012-13-20T07:15:20Z"), None);
        assert_eq!(parse_rfc3339_ms("nope"), None);
        assert_eq!(parse_rfc3339_ms("2012-10-20T07:15:2é"), None);
    }
}
