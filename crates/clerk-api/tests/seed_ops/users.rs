//! Users, email addresses, phone numbers, sessions, clients and the JWKS.

use clerk_api::{FilePart, Nullable};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::json;

use crate::support::{Env, obj};

const USER_LIFECYCLE: &[&str] = &[
    "CreateUser",
    "GetUser",
    "UpdateUser",
    "UpdateUserMetadata",
    "BanUser",
    "UnbanUser",
    "LockUser",
    "UnlockUser",
    "VerifyPassword",
    "VerifyTOTP",
    "DisableMFA",
    "SetUserProfileImage",
    "DeleteUserProfileImage",
    "GetOAuthAccessToken",
    "UsersGetOrganizationMemberships",
    "DeleteUser",
];
const USER_LISTS: &[&str] = &["CreateUser", "GetUserList", "GetUsersCount"];
const IDENTIFIERS: &[&str] = &[
    "CreateEmailAddress",
    "GetEmailAddress",
    "UpdateEmailAddress",
    "DeleteEmailAddress",
    "CreatePhoneNumber",
    "GetPhoneNumber",
    "UpdatePhoneNumber",
    "DeletePhoneNumber",
];
const SESSIONS: &[&str] = &[
    "GetSession",
    "GetSessionList",
    "GetClient",
    "VerifyClient",
    "CreateSessionTokenFromTemplate",
    "RevokeSession",
    "GetJWKS",
];

/// The flows of this module, each the operations it runs.
pub const FLOWS: &[&[&str]] = &[USER_LIFECYCLE, USER_LISTS, IDENTIFIERS, SESSIONS];

#[tokio::test]
async fn user_lifecycle() {
    let env = Env::start(USER_LIFECYCLE).await;
    let users = env.client.users();
    let u = users
        .create()
        .email_address(vec!["Ada@Example.com".to_owned()])
        .phone_number(vec!["+15555550100".to_owned()])
        .username("ada_l")
        .first_name("Ada")
        .last_name("Lovelace")
        .password("correct-horse-battery")
        .external_id("ext-1")
        .public_metadata(obj(json!({"plan": "pro", "nested": {"a": 1, "b": 2}})))
        .send()
        .await
        .unwrap();
    let id = u.id.as_str().to_owned();
    assert!(id.starts_with("user_"));
    assert_eq!(u.email_addresses[0].email_address, "ada@example.com");
    assert_eq!(u.primary_email_address_id, u.email_addresses[0].id);
    assert_eq!(u.phone_numbers[0].phone_number, "+15555550100");
    assert_eq!(u.external_id.as_deref(), Some("ext-1"));
    assert!(u.password_enabled);

    let got = users.get(&id).send().await.unwrap();
    assert_eq!(got, u);

    let upd = users.update(&id).first_name("Augusta").username(Nullable::Null).send().await.unwrap();
    assert_eq!(upd.first_name.as_deref(), Some("Augusta"));
    assert_eq!(upd.username, None);

    let meta = users
        .update_metadata(&id)
        .public_metadata(obj(json!({"nested": {"b": null, "c": 3}, "plan": null})))
        .private_metadata(obj(json!({"k": "v"})))
        .send()
        .await
        .unwrap();
    assert_eq!(meta.public_metadata, obj(json!({"nested": {"a": 1, "c": 3}})));
    assert_eq!(meta.private_metadata, Some(obj(json!({"k": "v"}))));

    assert!(users.ban(&id).send().await.unwrap().banned);
    assert!(!users.unban(&id).send().await.unwrap().banned);
    assert!(users.lock(&id).send().await.unwrap().locked);
    assert!(!users.unlock(&id).send().await.unwrap().locked);

    let ok = users.verify_password(&id, "correct-horse-battery").send().await.unwrap();
    assert_eq!(ok.verified, Some(true));
    let wrong = users.verify_password(&id, "nope").send().await.unwrap_err();
    assert_eq!(wrong.status(), Some(422));
    let totp = users.verify_totp(&id, "123456").send().await.unwrap();
    assert_eq!(totp.verified, Some(true));
    let mfa = users.disable_mfa(&id).send().await.unwrap();
    assert_eq!(mfa.user_id.as_ref().map(|u| u.as_str()), Some(id.as_str()));

    let with_image = users
        .set_profile_image(&id, FilePart::new("me.png", "image/png", &b"\x89PNG\r\n\x1a\nfake"[..]))
        .send()
        .await
        .unwrap();
    assert!(with_image.has_image);
    let without = users.delete_profile_image(&id).send().await.unwrap();
    assert!(!without.has_image);

    let tokens = users.get_oauth_access_token(&id, "oauth_google").send().await.unwrap();
    assert!(tokens.data.is_empty(), "no connected account: {tokens:?}");
    let memberships = users.get_organization_memberships(&id).send().await.unwrap();
    assert_eq!(memberships.total_count, Some(0));
    assert!(memberships.data.is_empty());

    // Deleting answers the deleted object; the user is gone.
    let del = users.delete(&id).send().await.unwrap();
    assert!(del.deleted);
    assert_eq!(del.id.as_deref(), Some(id.as_str()));
    assert_eq!(del.object, "user");
    let gone = users.get(&id).send().await.unwrap_err();
    assert!(gone.is_not_found());
    env.finish();
}

#[tokio::test]
async fn user_list_filters_count_and_pagination() {
    let env = Env::start(USER_LISTS).await;
    let users = env.client.users();
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(env.user(&format!("user{i:02}@example.com")).await);
    }

    // Offset pages in creation order.
    let page = users.list().limit(5).offset(20).order_by("+created_at").send().await.unwrap();
    let emails: Vec<&str> = page.data.iter().map(|u| u.email_addresses[0].email_address.as_str()).collect();
    assert_eq!(
        emails,
        ["user20@example.com", "user21@example.com", "user22@example.com", "user23@example.com", "user24@example.com"]
    );
    assert_eq!(page.total_count, None, "a bare array on the wire");

    // Filters: repeated email addresses, a query, a user id list.
    let two = users
        .list()
        .email_address(vec!["user03@example.com".into(), "user04@example.com".into()])
        .send()
        .await
        .unwrap();
    let mut got: Vec<&str> = two.data.iter().map(|u| u.id.as_str()).collect();
    got.sort_unstable();
    let mut want = vec![ids[3].as_str(), ids[4].as_str()];
    want.sort_unstable();
    assert_eq!(got, want);
    let q = users.list().query("user1").send().await.unwrap();
    assert_eq!(q.data.len(), 10, "user10..user19");
    assert!(q.data.iter().all(|u| u.email_addresses[0].email_address.starts_with("user1")));
    let by_id = users.list().user_id(vec![ids[7].clone()]).send().await.unwrap();
    assert_eq!(by_id.data.len(), 1);
    assert_eq!(by_id.data[0].id.as_str(), ids[7]);

    // Cursor pagination after the third user.
    let after = users.list().starting_after(&ids[2]).order_by("+created_at").limit(100).send().await.unwrap();
    assert_eq!(after.data.len(), 22);
    assert_eq!(after.data[0].id.as_str(), ids[3]);

    let count = users.count().query("user0").send().await.unwrap();
    assert_eq!(count.total_count, 10);
    assert_eq!(count.object, "total_count");
    assert_eq!(users.count().send().await.unwrap().total_count, 25);

    // `paginate()` walks every page, `limit` at a time.
    let before = env.clerk.requests().len();
    let all: Vec<_> = users.list().limit(10).order_by("+created_at").paginate().try_collect().await.unwrap();
    assert_eq!(all.len(), 25);
    let all_ids: Vec<&str> = all.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(all_ids, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let pages = env.clerk.requests()[before..].iter().filter(|r| r.operation_id == Some("GetUserList")).count();
    assert_eq!(pages, 3, "10 + 10 + 5");
    // The stream also works item by item.
    let first_three: Vec<_> = users.list().limit(2).paginate().take(3).collect().await;
    assert_eq!(first_three.len(), 3);
    env.finish();
}

#[tokio::test]
async fn email_addresses_and_phone_numbers() {
    let env = Env::start(IDENTIFIERS).await;
    let uid = env.user("first@example.com").await;
    let emails = env.client.email_addresses();
    let e = emails.create(&uid, "second@example.com").verified(false).send().await.unwrap();
    let eid = e.id.clone().unwrap();
    assert_eq!(e.email_address, "second@example.com");
    assert!(e.verification.is_none());
    assert_eq!(emails.get(&eid).send().await.unwrap().email_address, "second@example.com");
    let verified = emails.update(&eid).verified(true).primary(true).send().await.unwrap();
    assert_eq!(verified.verification.as_ref().map(|v| v.status.as_str()), Some("verified"));
    let user = env.client.users().get(&uid).send().await.unwrap();
    assert_eq!(user.primary_email_address_id.as_deref(), Some(eid.as_str()));
    // Back to the first address as primary, so the second can go.
    let first = user.email_addresses.iter().find(|a| a.email_address == "first@example.com").unwrap();
    env.client.users().update(&uid).primary_email_address_id(first.id.clone().unwrap()).send().await.unwrap();
    let del = emails.delete(&eid).send().await.unwrap();
    assert!(del.deleted);
    assert_eq!(del.id.as_deref(), Some(eid.as_str()));
    assert!(emails.get(&eid).send().await.unwrap_err().is_not_found());

    let phones = env.client.phone_numbers();
    let p = phones.create(&uid, "+15555550123").send().await.unwrap();
    let pid = p.id.clone().unwrap();
    assert_eq!(phones.get(&pid).send().await.unwrap().phone_number, "+15555550123");
    let upd = phones.update(&pid).reserved_for_second_factor(true).send().await.unwrap();
    assert_eq!(upd.reserved_for_second_factor, Some(true));
    let del = phones.delete(&pid).send().await.unwrap();
    assert!(del.deleted);
    assert!(phones.get(&pid).send().await.unwrap_err().is_not_found());
    env.finish();
}

#[tokio::test]
async fn sessions_clients_templates_and_jwks() {
    let env = Env::start(SESSIONS).await;
    let uid = env.user("sess@example.com").await;
    let sid = env.clerk.session_token(&uid).unwrap().claims()["sid"].as_str().unwrap().to_owned();
    let sessions = env.client.sessions();
    let s = sessions.get(&sid).send().await.unwrap();
    assert_eq!(s.id.as_str(), sid);
    assert_eq!(s.user_id.as_str(), uid);
    assert_eq!(s.status.as_str(), "active");

    let page = sessions.list().user_id(&uid).paginated(true).send().await.unwrap();
    assert_eq!(page.total_count, Some(1));
    assert_eq!(page.data[0].id.as_str(), sid);
    let bare = sessions.list().user_id(&uid).send().await.unwrap();
    assert_eq!(bare.total_count, None);
    assert_eq!(bare.data.len(), 1);

    let c = env.client.clients().get(&s.client_id).send().await.unwrap();
    assert_eq!(c.id, s.client_id);
    assert!(c.session_ids.contains(&sid));
    let token = env.clerk.client_token(&sid).unwrap();
    let verified = env.client.clients().verify(token).send().await.unwrap();
    assert_eq!(verified.id, s.client_id);

    env.client.jwt_templates().create("hasura", obj(json!({"role": "user"}))).send().await.unwrap();
    let t = sessions.create_token_from_template(&sid, "hasura").send().await.unwrap();
    let jwt = t.jwt.unwrap();
    let v = env.client.verifier().build().unwrap();
    let auth = v.verify(&jwt).await.unwrap();
    assert_eq!(auth.user_id(), uid.as_str());
    assert_eq!(auth.claim("role"), Some(json!("user")));

    let revoked = sessions.revoke(&sid).send().await.unwrap();
    assert_eq!(revoked.status.as_str(), "revoked");

    let jwks = env.client.jwks().get_jwks().send().await.unwrap();
    let keys = jwks.keys.unwrap();
    assert_eq!(keys[0].kid, env.clerk.instance_id());
    assert_eq!(keys[0].kty, "RSA");
    env.finish();
}
