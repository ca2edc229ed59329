//! Seed operations of the orgs group: organizations, memberships, organization invitations and instance invitations.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::support::Api;

/// The seed operations this module exercises.
pub const COVERED: &[&str] = &[
    "CreateInvitation",
    "CreateOrganization",
    "CreateOrganizationInvitation",
    "CreateOrganizationInvitationBulk",
    "CreateOrganizationMembership",
    "DeleteOrganization",
    "DeleteOrganizationLogo",
    "DeleteOrganizationMembership",
    "GetOrganization",
    "GetOrganizationInvitation",
    "ListInvitations",
    "ListOrganizationInvitations",
    "ListOrganizationMemberships",
    "ListOrganizations",
    "MergeOrganizationMetadata",
    "RevokeInvitation",
    "RevokeOrganizationInvitation",
    "UpdateOrganization",
    "UpdateOrganizationMembership",
    "UpdateOrganizationMembershipMetadata",
    "UploadOrganizationLogo",
];

/// Sends a request expected to fail; returns the status and the first Clerk error, checking the error shape.
async fn fail(api: &Api, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| ("application/json", Bytes::from(b.to_string())));
    let a = api.raw(method, path, body).await;
    assert!(a.status >= 400, "{method} {path}: expected an error, got {} {}", a.status, a.json());
    let v = a.json();
    let e = v["errors"][0].clone();
    assert!(e["code"].is_string() && e["message"].is_string() && e["long_message"].is_string(), "{v}");
    assert!(v["clerk_trace_id"].is_string(), "{v}");
    (a.status, e)
}

async fn create_org(api: &Api, body: Value) -> Value {
    api.call("CreateOrganization", "/organizations", Some(body)).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn organization_lifecycle() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let org = create_org(
        &api,
        json!({"name": "Acme Corp", "slug": "acme", "created_by": ada, "max_allowed_memberships": 5,
               "public_metadata": {"plan": "pro", "limits": {"seats": 5, "projects": 3}},
               "private_metadata": {"crm": "123"}}),
    )
    .await;
    let org_id = id(&org);
    assert!(org_id.starts_with("org_"));
    assert_eq!(org["object"], "organization");
    assert_eq!(org["slug"], "acme");
    assert_eq!(org["created_by"], ada.as_str());
    assert_eq!(org["max_allowed_memberships"], 5);
    assert_eq!(org["has_image"], false);
    assert_eq!(org["private_metadata"], json!({"crm": "123"}));

    // By id and by slug; counts only when asked for.
    let got = api.call("GetOrganization", &format!("/organizations/{org_id}"), None).await;
    assert_eq!(got, org);
    assert!(got.get("members_count").is_none());
    let by_slug = api
        .call(
            "GetOrganization",
            "/organizations/acme?include_members_count=true&include_missing_member_with_elevated_permissions=true",
            None,
        )
        .await;
    assert_eq!(by_slug["id"], org_id.as_str());
    assert_eq!(by_slug["members_count"], 1, "the creator is a member");
    assert_eq!(by_slug["pending_invitations_count"], 0);
    assert_eq!(by_slug["missing_member_with_elevated_permissions"], false);

    // The creator is an admin.
    let members = api.call("ListOrganizationMemberships", &format!("/organizations/{org_id}/memberships"), None).await;
    assert_eq!(members["total_count"], 1);
    assert_eq!(members["data"][0]["role"], "org:admin");
    assert_eq!(members["data"][0]["public_user_data"]["user_id"], ada.as_str());
    assert_eq!(members["data"][0]["public_user_data"]["identifier"], "ada@example.com");

    // Update: name, slug, limits; metadata is not accepted here in 2026-05-12.
    let upd = api
        .call(
            "UpdateOrganization",
            &format!("/organizations/{org_id}"),
            Some(json!({"name": "Acme Inc", "slug": "acme-inc", "admin_delete_enabled": false})),
        )
        .await;
    assert_eq!(upd["name"], "Acme Inc");
    assert_eq!(upd["slug"], "acme-inc");
    assert_eq!(upd["admin_delete_enabled"], false);
    assert!(upd["updated_at"].as_i64().unwrap() > org["updated_at"].as_i64().unwrap());
    let (status, e) =
        fail(&api, "PATCH", &format!("/organizations/{org_id}"), Some(json!({"public_metadata": {"plan": "free"}})))
            .await;
    assert_eq!((status, e["code"].as_str().unwrap()), (422, "form_param_unknown"));
    let (status, _) = fail(&api, "GET", "/organizations/acme", None).await;
    assert_eq!(status, 404, "the old slug no longer resolves");

    // Deep merge with null deletion.
    let merged = api
        .call(
            "MergeOrganizationMetadata",
            &format!("/organizations/{org_id}/metadata"),
            Some(json!({"public_metadata": {"limits": {"projects": null, "storage": "10GB"}, "plan": null, "tier": 2},
                        "private_metadata": {"notes": ["a"]}})),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"limits": {"seats": 5, "storage": "10GB"}, "tier": 2}));
    assert_eq!(merged["private_metadata"], json!({"crm": "123", "notes": ["a"]}));
    let got = api.call("GetOrganization", &format!("/organizations/{org_id}"), None).await;
    assert_eq!(got["public_metadata"], merged["public_metadata"]);

    // Logo: a file part, then the plain part some clients send, then removal.
    let logo = api
        .call_multipart(
            "UploadOrganizationLogo",
            &format!("/organizations/{org_id}/logo"),
            b"\x89PNG\r\n\x1a\nfake",
            &[("uploader_user_id", ada.as_str())],
        )
        .await;
    assert_eq!(logo["has_image"], true);
    assert_eq!(logo["logo_url"], logo["image_url"]);
    let plain = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nGIF89a\r\n--b--\r\n";
    let a = api
        .raw(
            "PUT",
            &format!("/organizations/{org_id}/logo"),
            Some(("multipart/form-data; boundary=b", Bytes::from(plain))),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json());
    assert_ne!(a.json()["image_url"], logo["image_url"]);
    let no_logo = api.call("DeleteOrganizationLogo", &format!("/organizations/{org_id}/logo"), None).await;
    assert_eq!(no_logo["has_image"], false);
    assert_ne!(no_logo["image_url"], logo["image_url"]);

    // Delete: the organization, its memberships and invitations go.
    let gone = api.call("DeleteOrganization", &format!("/organizations/{org_id}"), None).await;
    assert_eq!(gone, json!({"object": "organization", "id": org_id, "deleted": true}));
    let (status, e) = fail(&api, "GET", &format!("/organizations/{org_id}"), None).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (404, "resource_not_found"));
    let mships =
        api.call("UsersGetOrganizationMemberships", &format!("/users/{ada}/organization_memberships"), None).await;
    assert_eq!(mships["total_count"], 0);
    let (status, _) = fail(&api, "DELETE", &format!("/organizations/{org_id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn organization_validation() {
    let api = Api::start().await;
    let org = create_org(&api, json!({"name": "Acme, Inc."})).await;
    assert_eq!(org["slug"], "acme-inc", "a slug is derived from the name");
    assert_eq!(org["max_allowed_memberships"], 0);
    assert_eq!(org["public_metadata"], json!({}));
    let twin = create_org(&api, json!({"name": "Acme Inc"})).await;
    assert!(twin["slug"].as_str().unwrap().starts_with("acme-inc-"), "derived slugs stay unique: {twin}");

    let (status, e) = fail(&api, "POST", "/organizations", Some(json!({"name": "Other", "slug": "acme-inc"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (422, "form_identifier_exists"));
    assert_eq!(e["meta"]["param_name"], "slug");
    let (status, e) =
        fail(&api, "PATCH", &format!("/organizations/{}", id(&twin)), Some(json!({"slug": "acme-inc"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (422, "form_identifier_exists"));
    let (status, e) = fail(&api, "POST", "/organizations", Some(json!({"name": "X", "slug": "Not A Slug"}))).await;
    assert_eq!((status, e["meta"]["param_name"].as_str().unwrap()), (422, "slug"));
    let (status, e) = fail(&api, "POST", "/organizations", Some(json!({"name": "   "}))).await;
    assert_eq!((status, e["meta"]["param_name"].as_str().unwrap()), (422, "name"));
    let (status, e) = fail(&api, "POST", "/organizations", Some(json!({"slug": "x"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (422, "form_param_missing"));
    let (status, _) =
        fail(&api, "POST", "/organizations", Some(json!({"name": "Y", "created_by": "user_missing"}))).await;
    assert_eq!(status, 404);
    let (status, _) = fail(&api, "POST", "/organizations", Some(json!({"name": "Y", "created_at": "yesterday"}))).await;
    assert_eq!(status, 422);
    let backdated = create_org(&api, json!({"name": "Old", "created_at": "2012-10-20T07:15:20.902Z"})).await;
    assert_eq!(backdated["created_at"], 1_350_717_320_000_i64);

    // Unknown ids answer 404 everywhere.
    for (method, path, body) in [
        ("GET", "/organizations/org_missing", None),
        ("PATCH", "/organizations/org_missing", Some(json!({"name": "n"}))),
        ("PATCH", "/organizations/org_missing/metadata", Some(json!({"public_metadata": {}}))),
        ("DELETE", "/organizations/org_missing/logo", None),
        ("GET", "/organizations/org_missing/memberships", None),
        ("POST", "/organizations/org_missing/memberships", Some(json!({"user_id": "u", "role": "org:member"}))),
        ("PATCH", "/organizations/org_missing/memberships/user_x", Some(json!({"role": "org:member"}))),
        ("DELETE", "/organizations/org_missing/memberships/user_x", None),
        ("GET", "/organizations/org_missing/invitations", None),
        ("GET", "/organizations/org_missing/invitations/orginv_x", None),
        ("POST", "/organizations/org_missing/invitations/orginv_x/revoke", Some(json!({}))),
        ("POST", "/invitations/inv_missing/revoke", None),
    ] {
        let (status, e) = fail(&api, method, path, body).await;
        assert_eq!((status, e["code"].as_str().unwrap()), (404, "resource_not_found"), "{method} {path}");
    }
}

#[tokio::test]
async fn list_organizations_filters_and_pages() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let mut ids = Vec::new();
    for (name, creator) in [("Alpha", &ada), ("Beta", &bob), ("Gamma", &ada), ("Delta Labs", &bob)] {
        let o = create_org(&api, json!({"name": name, "created_by": creator})).await;
        ids.push(id(&o));
    }
    let all = api.call("ListOrganizations", "/organizations", None).await;
    assert_eq!(all["total_count"], 4);
    let names: Vec<&str> = all["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Delta Labs", "Gamma", "Beta", "Alpha"], "newest first by default");

    let page = api.call("ListOrganizations", "/organizations?order_by=name&limit=2&offset=1", None).await;
    assert_eq!(page["total_count"], 4);
    let names: Vec<&str> = page["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta", "Delta Labs"]);

    let mine =
        api.call("ListOrganizations", &format!("/organizations?user_id={ada}&include_members_count=true"), None).await;
    assert_eq!(mine["total_count"], 2);
    assert!(mine["data"].as_array().unwrap().iter().all(|o| o["members_count"] == 1));
    let not_ada = api.call("ListOrganizations", &format!("/organizations?user_id=-{ada}"), None).await;
    assert_eq!(not_ada["total_count"], 2);

    let picked = api
        .call(
            "ListOrganizations",
            &format!("/organizations?organization_id={}&organization_id=%2B{}", ids[0], ids[1]),
            None,
        )
        .await;
    assert_eq!(picked["total_count"], 2);
    let query = api.call("ListOrganizations", "/organizations?query=ta", None).await;
    assert_eq!(query["total_count"], 2, "Beta and Delta Labs: {query}");
    let by_id = api.call("ListOrganizations", &format!("/organizations?query={}", ids[2]), None).await;
    assert_eq!(by_id["data"][0]["name"], "Gamma");

    // Membership counts sort.
    api.call(
        "CreateOrganizationMembership",
        &format!("/organizations/{}/memberships", ids[0]),
        Some(json!({"user_id": bob, "role": "org:member"})),
    )
    .await;
    let by_count = api.call("ListOrganizations", "/organizations?order_by=-members_count&limit=1", None).await;
    assert_eq!(by_count["data"][0]["name"], "Alpha");
    let (status, e) = fail(&api, "GET", "/organizations?order_by=password", None).await;
    assert_eq!((status, e["meta"]["param_name"].as_str().unwrap()), (422, "order_by"));
}

#[tokio::test]
async fn memberships() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let cy = api.user("cy@example.com").await;
    let org = create_org(&api, json!({"name": "Acme", "created_by": ada})).await;
    let org_id = id(&org);
    let base = format!("/organizations/{org_id}/memberships");

    let m = api
        .call(
            "CreateOrganizationMembership",
            &base,
            Some(json!({"user_id": bob, "role": "org:member", "public_metadata": {"team": {"name": "core", "lead": false}}})),
        )
        .await;
    assert_eq!(m["object"], "organization_membership");
    assert!(m["id"].as_str().unwrap().starts_with("orgmem_"));
    assert_eq!(m["role"], "org:member");
    assert_eq!(m["role_name"], "Member");
    assert_eq!(m["permissions"], json!(["org:sys_memberships:read"]));
    assert_eq!(m["organization"]["id"], org_id.as_str());
    assert_eq!(m["public_user_data"]["user_id"], bob.as_str());
    assert_eq!(m["public_user_data"]["identifier"], "bob@example.com");

    // Duplicates and unknown users are refused with Clerk errors.
    let (status, e) = fail(&api, "POST", &base, Some(json!({"user_id": bob, "role": "org:member"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "already_a_member_in_organization"));
    let (status, e) = fail(&api, "POST", &base, Some(json!({"user_id": "user_nobody", "role": "org:member"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (404, "resource_not_found"));
    let (status, e) = fail(&api, "POST", &base, Some(json!({"user_id": cy, "role": "superuser"}))).await;
    assert_eq!((status, e["meta"]["param_name"].as_str().unwrap()), (422, "role"));
    let (status, e) = fail(&api, "POST", &base, Some(json!({"user_id": cy}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (422, "form_param_missing"));

    api.call("CreateOrganizationMembership", &base, Some(json!({"user_id": cy, "role": "org:member"}))).await;
    let got = api.call("GetOrganization", &format!("/organizations/{org_id}?include_members_count=true"), None).await;
    assert_eq!(got["members_count"], 3);

    // Filters and pagination.
    let list = api.call("ListOrganizationMemberships", &format!("{base}?role=org:member&limit=1"), None).await;
    assert_eq!(list["total_count"], 2);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["public_user_data"]["user_id"], cy.as_str(), "newest first");
    let list = api.call("ListOrganizationMemberships", &format!("{base}?query=bob"), None).await;
    assert_eq!(list["total_count"], 1);
    let list =
        api.call("ListOrganizationMemberships", &format!("{base}?user_id=-{ada}&order_by=email_address"), None).await;
    let who: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["public_user_data"]["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["bob@example.com", "cy@example.com"]);
    let list = api.call("ListOrganizationMemberships", &format!("{base}?email_address=ADA@example.com"), None).await;
    assert_eq!(list["data"][0]["role"], "org:admin");

    // Role change and metadata merge.
    let upd =
        api.call("UpdateOrganizationMembership", &format!("{base}/{bob}"), Some(json!({"role": "org:admin"}))).await;
    assert_eq!(upd["role"], "org:admin");
    assert_eq!(upd["role_name"], "Admin");
    assert!(upd["permissions"].as_array().unwrap().contains(&json!("org:sys_memberships:manage")));
    let meta = api
        .call(
            "UpdateOrganizationMembershipMetadata",
            &format!("{base}/{bob}/metadata"),
            Some(json!({"public_metadata": {"team": {"lead": true, "name": null}}, "private_metadata": {"salary": 1}})),
        )
        .await;
    assert_eq!(meta["public_metadata"], json!({"team": {"lead": true}}));
    assert_eq!(meta["private_metadata"], json!({"salary": 1}));
    assert_eq!(meta["role"], "org:admin");
    let (status, _) = fail(&api, "PATCH", &format!("{base}/user_nobody"), Some(json!({"role": "org:member"}))).await;
    assert_eq!(status, 404);

    // The user's own view embeds the organization as it is now.
    api.call("UpdateOrganization", &format!("/organizations/{org_id}"), Some(json!({"name": "Acme 2"}))).await;
    let mine =
        api.call("UsersGetOrganizationMemberships", &format!("/users/{bob}/organization_memberships"), None).await;
    assert_eq!(mine["data"][0]["organization"]["name"], "Acme 2");
    assert_eq!(mine["data"][0]["public_metadata"], json!({"team": {"lead": true}}));

    // Removal answers the membership; deleting a user drops theirs.
    let removed = api.call("DeleteOrganizationMembership", &format!("{base}/{cy}"), None).await;
    assert_eq!(removed["public_user_data"]["user_id"], cy.as_str());
    let (status, _) = fail(&api, "DELETE", &format!("{base}/{cy}"), None).await;
    assert_eq!(status, 404);
    let a = api.raw("DELETE", &format!("/users/{bob}"), None).await;
    assert_eq!(a.status, 200);
    let got = api
        .call(
            "GetOrganization",
            &format!("/organizations/{org_id}?include_members_count=true&include_missing_member_with_elevated_permissions=true"),
            None,
        )
        .await;
    assert_eq!(got["members_count"], 1);
    assert_eq!(got["missing_member_with_elevated_permissions"], false);
    api.call("DeleteOrganizationMembership", &format!("{base}/{ada}"), None).await;
    let got = api
        .call(
            "GetOrganization",
            &format!("/organizations/{org_id}?include_missing_member_with_elevated_permissions=true"),
            None,
        )
        .await;
    assert_eq!(got["missing_member_with_elevated_permissions"], true);
}

#[tokio::test]
async fn membership_quota_counts_members_and_invitations() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let org = create_org(&api, json!({"name": "Tiny", "created_by": ada, "max_allowed_memberships": 2})).await;
    let org_id = id(&org);
    api.call(
        "CreateOrganizationInvitation",
        &format!("/organizations/{org_id}/invitations"),
        Some(json!({"email_address": "new@example.com", "role": "org:member"})),
    )
    .await;
    let (status, e) = fail(
        &api,
        "POST",
        &format!("/organizations/{org_id}/memberships"),
        Some(json!({"user_id": bob, "role": "org:member"})),
    )
    .await;
    assert_eq!((status, e["code"].as_str().unwrap()), (403, "organization_membership_quota_exceeded"));
    api.call("UpdateOrganization", &format!("/organizations/{org_id}"), Some(json!({"max_allowed_memberships": 3})))
        .await;
    api.call(
        "CreateOrganizationMembership",
        &format!("/organizations/{org_id}/memberships"),
        Some(json!({"user_id": bob, "role": "org:member"})),
    )
    .await;
}

#[tokio::test]
async fn organization_invitations() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let org = create_org(&api, json!({"name": "Acme", "created_by": ada})).await;
    let org_id = id(&org);
    let base = format!("/organizations/{org_id}/invitations");
    api.call(
        "CreateOrganizationMembership",
        &format!("/organizations/{org_id}/memberships"),
        Some(json!({"user_id": bob, "role": "org:member"})),
    )
    .await;

    let inv = api
        .call(
            "CreateOrganizationInvitation",
            &base,
            Some(json!({"email_address": "Carol@Example.com", "role": "org:member", "inviter_user_id": ada,
                        "public_metadata": {"source": "test"}, "redirect_url": "https://app.example.com/join",
                        "expires_in_days": 7})),
        )
        .await;
    let inv_id = id(&inv);
    assert!(inv_id.starts_with("orginv_"));
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["email_address"], "carol@example.com");
    assert_eq!(inv["organization_id"], org_id.as_str());
    assert_eq!(inv["inviter_id"], ada.as_str());
    assert_eq!(inv["public_inviter_data"]["identifier"], "ada@example.com");
    assert_eq!(inv["expires_at"].as_i64().unwrap() - inv["created_at"].as_i64().unwrap(), 7 * 86_400_000);
    assert!(inv["url"].as_str().unwrap().contains("redirect_url=https%3A%2F%2Fapp.example.com%2Fjoin"));

    // Refusals: non-admin inviter, an existing member, a second pending invitation, a bad role.
    let (status, e) = fail(
        &api,
        "POST",
        &base,
        Some(json!({"email_address": "dan@example.com", "role": "org:member", "inviter_user_id": bob})),
    )
    .await;
    assert_eq!((status, e["code"].as_str().unwrap()), (403, "not_an_admin_in_organization"));
    let (status, e) =
        fail(&api, "POST", &base, Some(json!({"email_address": "bob@example.com", "role": "org:member"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "already_a_member_in_organization"));
    let (status, e) =
        fail(&api, "POST", &base, Some(json!({"email_address": "carol@example.com", "role": "org:admin"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "duplicate_record"));
    let (status, _) =
        fail(&api, "POST", &base, Some(json!({"email_address": "not-an-email", "role": "org:member"}))).await;
    assert_eq!(status, 422);

    // Bulk: all or nothing.
    let bulk = api
        .call(
            "CreateOrganizationInvitationBulk",
            &format!("{base}/bulk"),
            Some(json!([{"email_address": "dan@example.com", "role": "org:member"},
                        {"email_address": "eve@example.com", "role": "org:admin", "inviter_user_id": ada}])),
        )
        .await;
    assert_eq!(bulk["total_count"], 2);
    assert_eq!(bulk["data"][1]["role_name"], "Admin");
    assert!(bulk["data"][0]["inviter_id"].is_null() && bulk["data"][0]["public_inviter_data"].is_null());
    let (status, _) = fail(
        &api,
        "POST",
        &format!("{base}/bulk"),
        Some(json!([{"email_address": "fay@example.com", "role": "org:member"},
                    {"email_address": "dan@example.com", "role": "org:member"}])),
    )
    .await;
    assert_eq!(status, 400);

    let got = api.call("GetOrganizationInvitation", &format!("{base}/{inv_id}"), None).await;
    assert_eq!(got, inv);
    let other = create_org(&api, json!({"name": "Other"})).await;
    let (status, _) = fail(&api, "GET", &format!("/organizations/{}/invitations/{inv_id}", id(&other)), None).await;
    assert_eq!(status, 404, "an invitation is found only under its organization");
    let counted =
        api.call("GetOrganization", &format!("/organizations/{org_id}?include_members_count=true"), None).await;
    assert_eq!(counted["pending_invitations_count"], 3, "fay was not invited: the bulk failed as a whole");

    // Revoke, once.
    let revoked = api
        .call(
            "RevokeOrganizationInvitation",
            &format!("{base}/{inv_id}/revoke"),
            Some(json!({"requesting_user_id": ada})),
        )
        .await;
    assert_eq!(revoked["status"], "revoked");
    let (status, e) = fail(&api, "POST", &format!("{base}/{inv_id}/revoke"), Some(json!({}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "organization_invitation_not_pending"));
    let dan = bulk["data"][0]["id"].as_str().unwrap();
    let (status, _) =
        fail(&api, "POST", &format!("{base}/{dan}/revoke"), Some(json!({"requesting_user_id": bob}))).await;
    assert_eq!(status, 403, "only admins revoke");

    let pending = api.call("ListOrganizationInvitations", &format!("{base}?status=pending"), None).await;
    assert_eq!(pending["total_count"], 2);
    let revoked = api.call("ListOrganizationInvitations", &format!("{base}?status=revoked"), None).await;
    assert_eq!(revoked["total_count"], 1);
    assert_eq!(revoked["data"][0]["id"], inv_id.as_str());
    let all = api.call("ListOrganizationInvitations", &format!("{base}?order_by=email_address&limit=2"), None).await;
    assert_eq!(all["total_count"], 3);
    let emails: Vec<&str> =
        all["data"].as_array().unwrap().iter().map(|i| i["email_address"].as_str().unwrap()).collect();
    assert_eq!(emails, ["carol@example.com", "dan@example.com"]);
    let one = api.call("ListOrganizationInvitations", &format!("{base}?email_address=eve@example.com"), None).await;
    assert_eq!(one["total_count"], 1);

    // Deleting the organization takes its invitations along.
    api.call("DeleteOrganization", &format!("/organizations/{org_id}"), None).await;
    let (status, _) = fail(&api, "GET", &format!("{base}/{inv_id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn instance_invitations() {
    let api = Api::start().await;
    api.user("taken@example.com").await;
    let inv = api
        .call(
            "CreateInvitation",
            "/invitations",
            Some(json!({"email_address": "New@Example.com", "public_metadata": {"plan": "beta"},
                        "redirect_url": "https://app.example.com/welcome", "notify": false})),
        )
        .await;
    let inv_id = id(&inv);
    assert!(inv_id.starts_with("inv_"));
    assert_eq!(inv["object"], "invitation");
    assert_eq!(inv["email_address"], "new@example.com");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["revoked"], false);
    assert_eq!(inv["public_metadata"], json!({"plan": "beta"}));
    assert_eq!(inv["expires_at"].as_i64().unwrap() - inv["created_at"].as_i64().unwrap(), 30 * 86_400_000);

    let (status, e) = fail(&api, "POST", "/invitations", Some(json!({"email_address": "new@example.com"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "duplicate_record"));
    let (status, e) = fail(&api, "POST", "/invitations", Some(json!({"email_address": "taken@example.com"}))).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "form_identifier_exists"));
    let (status, e) = fail(&api, "POST", "/invitations", Some(json!({"email_address": "nope"}))).await;
    assert_eq!((status, e["meta"]["param_name"].as_str().unwrap()), (422, "email_address"));
    let again = api
        .call(
            "CreateInvitation",
            "/invitations",
            Some(json!({"email_address": "taken@example.com", "ignore_existing": true})),
        )
        .await;
    api.call(
        "CreateInvitation",
        "/invitations",
        Some(json!({"email_address": "other@example.org", "expires_in_days": 1})),
    )
    .await;

    let all = api.call("ListInvitations", "/invitations", None).await;
    assert_eq!(all.as_array().unwrap().len(), 3, "a bare array by default");
    assert_eq!(all[0]["email_address"], "other@example.org", "newest first");
    let q = api.call("ListInvitations", "/invitations?query=example.com", None).await;
    assert_eq!(q.as_array().unwrap().len(), 2);

    let revoked = api.call("RevokeInvitation", &format!("/invitations/{inv_id}/revoke"), None).await;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked"], true);
    let (status, e) = fail(&api, "POST", &format!("/invitations/{inv_id}/revoke"), None).await;
    assert_eq!((status, e["code"].as_str().unwrap()), (400, "invitation_not_pending"));

    let pending = api.call("ListInvitations", "/invitations?status=pending&paginated=true&limit=1", None).await;
    assert_eq!(pending["total_count"], 2);
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let revoked_list = api.call("ListInvitations", "/invitations?status=revoked", None).await;
    assert_eq!(revoked_list[0]["id"], inv_id.as_str());
    // A revoked invitation frees the address for a new one.
    let renewed = api.call("CreateInvitation", "/invitations", Some(json!({"email_address": "new@example.com"}))).await;
    assert_ne!(renewed["id"], inv_id.as_str());
    assert_ne!(again["id"], renewed["id"]);
}

/// Non-seed siblings of the group, run so their answers are checked against the spec too.
#[tokio::test]
async fn non_seed_siblings() {
    let api = Api::start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let org = create_org(&api, json!({"name": "Acme", "created_by": ada, "public_metadata": {"a": 1, "b": 2}})).await;
    let org_id = id(&org);
    let other = create_org(&api, json!({"name": "Other", "created_by": bob})).await;

    let replaced = api
        .call(
            "ReplaceOrganizationMetadata",
            &format!("/organizations/{org_id}/metadata"),
            Some(json!({"public_metadata": {"c": 3}})),
        )
        .await;
    assert_eq!(replaced["public_metadata"], json!({"c": 3}));

    let all = api.call("InstanceGetOrganizationMemberships", "/organization_memberships?limit=1", None).await;
    assert_eq!(all["total_count"], 2);
    assert_eq!(all["data"].as_array().unwrap().len(), 1);

    for (org, email) in [(&org_id, "bob@example.com"), (&id(&other), "carl@example.com")] {
        api.call(
            "CreateOrganizationInvitation",
            &format!("/organizations/{org}/invitations"),
            Some(json!({"email_address": email, "role": "org:member"})),
        )
        .await;
    }
    let pending = api
        .call("ListPendingOrganizationInvitations", &format!("/organizations/{org_id}/invitations/pending"), None)
        .await;
    assert_eq!(pending["total_count"], 1);
    let instance = api.call("ListInstanceOrganizationInvitations", "/organization_invitations?query=carl", None).await;
    assert_eq!(instance["total_count"], 1);
    assert_eq!(instance["data"][0]["public_organization_data"]["name"], "Other");
    let bobs = api
        .call("UsersGetOrganizationInvitations", &format!("/users/{bob}/organization_invitations?status=pending"), None)
        .await;
    assert_eq!(bobs["total_count"], 1);
    assert_eq!(bobs["data"][0]["public_organization_data"]["id"], org_id.as_str());

    let bulk = api
        .call(
            "CreateBulkInvitations",
            "/invitations/bulk",
            Some(json!([{"email_address": "x@example.com"}, {"email_address": "y@example.com", "expires_in_days": 2}])),
        )
        .await;
    assert_eq!(bulk.as_array().unwrap().len(), 2);
    let (status, _) = fail(
        &api,
        "POST",
        "/invitations/bulk",
        Some(json!([{"email_address": "z@example.com"}, {"email_address": "x@example.com"}])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(api.call("ListInvitations", "/invitations", None).await.as_array().unwrap().len(), 2, "all or nothing");
}
