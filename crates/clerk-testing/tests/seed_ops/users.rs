//! Seed operations of the users group: users, email addresses, phone numbers, sessions, clients, JWKS.

use serde_json::json;

use crate::support::Api;

/// The seed operations this module exercises.
pub const COVERED: &[&str] = &[
    "BanUser",
    "CreateEmailAddress",
    "CreatePhoneNumber",
    "CreateSessionTokenFromTemplate",
    "CreateUser",
    "DeleteEmailAddress",
    "DeletePhoneNumber",
    "DeleteUser",
    "DeleteUserProfileImage",
    "DisableMFA",
    "GetClient",
    "GetEmailAddress",
    "GetJWKS",
    "GetOAuthAccessToken",
    "GetPhoneNumber",
    "GetSession",
    "GetSessionList",
    "GetUser",
    "GetUserList",
    "GetUsersCount",
    "LockUser",
    "RevokeSession",
    "SetUserProfileImage",
    "UnbanUser",
    "UnlockUser",
    "UpdateEmailAddress",
    "UpdatePhoneNumber",
    "UpdateUser",
    "UpdateUserMetadata",
    "UsersGetOrganizationMemberships",
    "VerifyClient",
    "VerifyPassword",
    "VerifyTOTP",
];

#[tokio::test]
async fn user_lifecycle() {
    let api = Api::start().await;
    let u = api
        .call(
            "CreateUser",
            "/users",
            Some(json!({
                "email_address": ["Ada@Example.com"], "phone_number": ["+15555550100"], "username": "ada_l",
                "first_name": "Ada", "last_name": "Lovelace", "password": "correct-horse-battery",
                "public_metadata": {"plan": "pro", "nested": {"a": 1, "b": 2}}, "external_id": "ext-1"
            })),
        )
        .await;
    let id = u["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("user_"));
    assert_eq!(u["email_addresses"][0]["email_address"], "ada@example.com");
    assert_eq!(u["primary_email_address_id"], u["email_addresses"][0]["id"]);
    assert_eq!(u["password_enabled"], true);

    let got = api.call("GetUser", &format!("/users/{id}"), None).await;
    assert_eq!(got, u);

    let upd =
        api.call("UpdateUser", &format!("/users/{id}"), Some(json!({"first_name": "Augusta", "username": ""}))).await;
    assert_eq!(upd["first_name"], "Augusta");
    assert!(upd["username"].is_null());

    let meta = api
        .call(
            "UpdateUserMetadata",
            &format!("/users/{id}/metadata"),
            Some(json!({"public_metadata": {"nested": {"b": null, "c": 3}, "plan": null}, "private_metadata": {"k": "v"}})),
        )
        .await;
    assert_eq!(meta["public_metadata"], json!({"nested": {"a": 1, "c": 3}}));
    assert_eq!(meta["private_metadata"], json!({"k": "v"}));

    assert_eq!(api.call("BanUser", &format!("/users/{id}/ban"), None).await["banned"], true);
    assert_eq!(api.call("UnbanUser", &format!("/users/{id}/unban"), None).await["banned"], false);
    assert_eq!(api.call("LockUser", &format!("/users/{id}/lock"), None).await["locked"], true);
    assert_eq!(api.call("UnlockUser", &format!("/users/{id}/unlock"), None).await["locked"], false);

    let ok = api
        .call(
            "VerifyPassword",
            &format!("/users/{id}/verify_password"),
            Some(json!({"password": "correct-horse-battery"})),
        )
        .await;
    assert_eq!(ok["verified"], true);
    let wrong = api
        .raw(
            "POST",
            &format!("/users/{id}/verify_password"),
            Some(("application/json", json!({"password": "nope"}).to_string().into())),
        )
        .await;
    assert_eq!(wrong.status, 422);
    api.call("VerifyTOTP", &format!("/users/{id}/verify_totp"), Some(json!({"code": "123456"}))).await;
    api.call("DisableMFA", &format!("/users/{id}/mfa"), None).await;

    let with_image =
        api.call_multipart("SetUserProfileImage", &format!("/users/{id}/profile_image"), b"\x89PNG", &[]).await;
    assert_eq!(with_image["has_image"], true);
    let without = api.call("DeleteUserProfileImage", &format!("/users/{id}/profile_image"), None).await;
    assert_eq!(without["has_image"], false);

    let tokens = api.call("GetOAuthAccessToken", &format!("/users/{id}/oauth_access_tokens/oauth_google"), None).await;
    assert!(tokens.is_array() || tokens["data"].is_array());
    let memberships =
        api.call("UsersGetOrganizationMemberships", &format!("/users/{id}/organization_memberships"), None).await;
    assert_eq!(memberships["total_count"], 0);

    let del = api.call("DeleteUser", &format!("/users/{id}"), None).await;
    assert_eq!(del["deleted"], true);
    let gone = api.raw("GET", &format!("/users/{id}"), None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["errors"][0]["code"], "resource_not_found");
}

#[tokio::test]
async fn user_list_filters_count_and_pagination() {
    let api = Api::start().await;
    for i in 0..12 {
        api.user(&format!("user{i:02}@example.com")).await;
    }
    let page = api.call("GetUserList", "/users?limit=5&offset=10&order_by=%2Bcreated_at", None).await;
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["email_addresses"][0]["email_address"], "user10@example.com");
    let one = api
        .call("GetUserList", "/users?email_address=user03%40example.com&email_address=user04%40example.com", None)
        .await;
    assert_eq!(one.as_array().unwrap().len(), 2);
    let q = api.call("GetUserList", "/users?query=user1", None).await;
    assert_eq!(q.as_array().unwrap().len(), 2);
    let count = api.call("GetUsersCount", "/users/count?query=user0", None).await;
    assert_eq!(count, json!({"object": "total_count", "total_count": 10}));
    // Cursor pagination.
    let all = api.call("GetUserList", "/users?limit=100", None).await;
    let third = all[2]["id"].as_str().unwrap();
    let after = api.call("GetUserList", &format!("/users?starting_after={third}&limit=100"), None).await;
    assert_eq!(after.as_array().unwrap().len(), 9);
    // Spec checks on the way in: bad types and unknown params are 422s naming the parameter.
    let bad = api.raw("GET", "/users?limit=abc", None).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["errors"][0]["meta"]["param_name"], "limit");
    let unknown = api.raw("GET", "/users?colour=red", None).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.json()["errors"][0]["code"], "form_param_unknown");
}

#[tokio::test]
async fn email_addresses_and_phone_numbers() {
    let api = Api::start().await;
    let uid = api.user("first@example.com").await;
    let e = api
        .call(
            "CreateEmailAddress",
            "/email_addresses",
            Some(json!({"user_id": uid, "email_address": "second@example.com", "verified": false})),
        )
        .await;
    let eid = e["id"].as_str().unwrap().to_owned();
    assert!(e["verification"].is_null());
    assert_eq!(
        api.call("GetEmailAddress", &format!("/email_addresses/{eid}"), None).await["email_address"],
        "second@example.com"
    );
    let verified = api
        .call(
            "UpdateEmailAddress",
            &format!("/email_addresses/{eid}"),
            Some(json!({"verified": true, "primary": true})),
        )
        .await;
    assert_eq!(verified["verification"]["status"], "verified");
    assert_eq!(api.call("GetUser", &format!("/users/{uid}"), None).await["primary_email_address_id"], eid);
    api.call("DeleteEmailAddress", &format!("/email_addresses/{eid}"), None).await;
    assert_eq!(api.raw("GET", &format!("/email_addresses/{eid}"), None).await.status, 404);

    let p = api
        .call("CreatePhoneNumber", "/phone_numbers", Some(json!({"user_id": uid, "phone_number": "+15555550123"})))
        .await;
    let pid = p["id"].as_str().unwrap().to_owned();
    api.call("GetPhoneNumber", &format!("/phone_numbers/{pid}"), None).await;
    let upd = api
        .call("UpdatePhoneNumber", &format!("/phone_numbers/{pid}"), Some(json!({"reserved_for_second_factor": true})))
        .await;
    assert_eq!(upd["reserved_for_second_factor"], true);
    api.call("DeletePhoneNumber", &format!("/phone_numbers/{pid}"), None).await;
    // Duplicate address is a 422 in Clerk's shape.
    let dup = api
        .raw(
            "POST",
            "/email_addresses",
            Some((
                "application/json",
                json!({"user_id": uid, "email_address": "FIRST@example.com"}).to_string().into(),
            )),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.json()["errors"][0]["code"], "form_identifier_exists");
}

#[tokio::test]
async fn sessions_clients_templates_and_jwks() {
    let api = Api::start().await;
    let uid = api.user("sess@example.com").await;
    let sid = api.clerk.session_token(&uid).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    let s = api.call("GetSession", &format!("/sessions/{sid}"), None).await;
    assert_eq!(s["status"], "active");
    let list = api.call("GetSessionList", &format!("/sessions?user_id={uid}&paginated=true"), None).await;
    assert_eq!(list["total_count"], 1);
    let bare = api.call("GetSessionList", &format!("/sessions?user_id={uid}"), None).await;
    assert_eq!(bare.as_array().unwrap().len(), 1);

    let client_id = s["client_id"].as_str().unwrap();
    api.call("GetClient", &format!("/clients/{client_id}"), None).await;
    let token = api.clerk.client_token(&sid).unwrap();
    let c = api.call("VerifyClient", "/clients/verify", Some(json!({"token": token}))).await;
    assert_eq!(c["id"], client_id);

    api.call("CreateJWTTemplate", "/jwt_templates", Some(json!({"name": "hasura", "claims": {"role": "user"}}))).await;
    let t = api.call("CreateSessionTokenFromTemplate", &format!("/sessions/{sid}/tokens/hasura"), None).await;
    let jwt = t["jwt"].as_str().unwrap();
    let v = clerk_core::Verifier::builder().jwt_key(&api.clerk.jwt_public_key()).unwrap().build().unwrap();
    let auth = v.verify(jwt).await.unwrap();
    assert_eq!(auth.user_id(), uid.as_str());
    assert_eq!(auth.claim("role"), Some(json!("user")));

    let revoked = api.call("RevokeSession", &format!("/sessions/{sid}/revoke"), None).await;
    assert_eq!(revoked["status"], "revoked");

    let jwks = api.call("GetJWKS", "/jwks", None).await;
    assert_eq!(jwks["keys"][0]["kid"], api.clerk.instance_id());
}

#[tokio::test]
async fn requests_are_checked_against_the_spec() {
    let api = Api::start().await;
    // Unknown path and unknown method: 404 in Clerk's shape.
    let a = api.raw("GET", "/nope", None).await;
    assert_eq!(a.status, 404);
    assert!(a.json()["clerk_trace_id"].is_string());
    assert_eq!(api.raw("PUT", "/users", None).await.status, 404);
    // The Elixir library's wrong path for client verification.
    assert_eq!(api.raw("POST", "/tokens/verify", None).await.status, 404);
    // A body field the spec does not allow: the 2026-05-12 PATCH /users/{id} takes no metadata.
    let uid = api.user("strict@example.com").await;
    let r = api
        .raw(
            "PATCH",
            &format!("/users/{uid}"),
            Some(("application/json", json!({"public_metadata": {}}).to_string().into())),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["code"], "form_param_unknown");
    assert_eq!(r.json()["errors"][0]["meta"]["param_name"], "public_metadata");
    // A missing required field and a wrong type.
    let r = api
        .raw("POST", "/email_addresses", Some(("application/json", json!({"user_id": uid}).to_string().into())))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["meta"]["param_name"], "email_address");
    let r = api
        .raw("POST", "/users", Some(("application/json", json!({"email_address": "not-a-list"}).to_string().into())))
        .await;
    assert_eq!(r.status, 422);
    // Malformed JSON is a 400, never a panic.
    let r = api.raw("POST", "/users", Some(("application/json", "{".into()))).await;
    assert_eq!(r.status, 400);
}
