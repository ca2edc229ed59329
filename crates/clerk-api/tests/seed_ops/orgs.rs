//! Organizations, memberships, organization invitations and instance invitations.

use clerk_api::{CreateOrganizationInvitationBulkItem, FilePart};
use serde_json::json;

use crate::support::{Env, obj};

const ORGANIZATION_LIFECYCLE: &[&str] = &[
    "CreateOrganization",
    "GetOrganization",
    "ListOrganizations",
    "UpdateOrganization",
    "MergeOrganizationMetadata",
    "UploadOrganizationLogo",
    "DeleteOrganizationLogo",
    "DeleteOrganization",
];
const MEMBERSHIPS: &[&str] = &[
    "CreateOrganizationMembership",
    "ListOrganizationMemberships",
    "UpdateOrganizationMembership",
    "UpdateOrganizationMembershipMetadata",
    "UsersGetOrganizationMemberships",
    "DeleteOrganizationMembership",
];
const ORGANIZATION_INVITATIONS: &[&str] = &[
    "CreateOrganizationInvitation",
    "CreateOrganizationInvitationBulk",
    "GetOrganizationInvitation",
    "ListOrganizationInvitations",
    "RevokeOrganizationInvitation",
];
const INSTANCE_INVITATIONS: &[&str] = &["CreateInvitation", "ListInvitations", "RevokeInvitation"];

/// The flows of this module, each the operations it runs.
pub const FLOWS: &[&[&str]] = &[ORGANIZATION_LIFECYCLE, MEMBERSHIPS, ORGANIZATION_INVITATIONS, INSTANCE_INVITATIONS];

#[tokio::test]
async fn organization_lifecycle() {
    let env = Env::start(ORGANIZATION_LIFECYCLE).await;
    let ada = env.user("ada@example.com").await;
    let orgs = env.client.organizations();
    let org = orgs
        .create("Acme Corp")
        .slug("acme")
        .created_by(ada.as_str())
        .max_allowed_memberships(5)
        .public_metadata(obj(json!({"plan": "pro", "limits": {"seats": 5, "projects": 3}})))
        .private_metadata(obj(json!({"crm": "123"})))
        .send()
        .await
        .unwrap();
    let org_id = org.id.as_str().to_owned();
    assert!(org_id.starts_with("org_"));
    assert_eq!(org.slug, "acme");
    assert_eq!(org.created_by.as_deref(), Some(ada.as_str()));
    assert_eq!(org.max_allowed_memberships, 5);
    assert!(!org.has_image);

    let got = orgs.get(&org_id).send().await.unwrap();
    assert_eq!(got, org);
    assert_eq!(got.members_count, None);
    let by_slug = orgs.get("acme").include_members_count(true).send().await.unwrap();
    assert_eq!(by_slug.id.as_str(), org_id);
    assert_eq!(by_slug.members_count, Some(1), "the creator is a member");

    orgs.create("Beta").send().await.unwrap();
    let list = orgs.list().send().await.unwrap();
    assert_eq!(list.total_count, Some(2));
    let names: Vec<&str> = list.data.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Beta", "Acme Corp"], "newest first");
    let mine = orgs.list().user_id(vec![ada.clone()]).include_members_count(true).send().await.unwrap();
    assert_eq!(mine.total_count, Some(1));
    assert_eq!(mine.data[0].members_count, Some(1));

    let upd = orgs.update(&org_id).name("Acme Inc").slug("acme-inc").admin_delete_enabled(false).send().await.unwrap();
    assert_eq!(upd.name, "Acme Inc");
    assert_eq!(upd.slug, "acme-inc");
    assert!(!upd.admin_delete_enabled);

    let merged = orgs
        .merge_metadata(&org_id)
        .public_metadata(obj(json!({"limits": {"projects": null, "storage": "10GB"}, "plan": null, "tier": 2})))
        .private_metadata(obj(json!({"notes": ["a"]})))
        .send()
        .await
        .unwrap();
    assert_eq!(merged.public_metadata, obj(json!({"limits": {"seats": 5, "storage": "10GB"}, "tier": 2})));
    assert_eq!(merged.private_metadata, Some(obj(json!({"crm": "123", "notes": ["a"]}))));

    let logo = orgs
        .upload_logo(&org_id, FilePart::new("logo.png", "image/png", &b"\x89PNG\r\n\x1a\nfake"[..]))
        .uploader_user_id(ada.as_str())
        .send()
        .await
        .unwrap();
    assert!(logo.has_image);
    assert_eq!(logo.logo_url.as_deref(), Some(logo.image_url.as_str()));
    let no_logo = orgs.delete_logo(&org_id).send().await.unwrap();
    assert!(!no_logo.has_image);

    // Deleting answers the deleted object.
    let gone = orgs.delete(&org_id).send().await.unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.object, "organization");
    assert_eq!(gone.id.as_deref(), Some(org_id.as_str()));
    assert!(orgs.get(&org_id).send().await.unwrap_err().is_not_found());
    env.finish();
}

#[tokio::test]
async fn memberships() {
    let env = Env::start(MEMBERSHIPS).await;
    let ada = env.user("ada@example.com").await;
    let bob = env.user("bob@example.com").await;
    let cy = env.user("cy@example.com").await;
    let org = env.client.organizations().create("Acme").created_by(ada.as_str()).send().await.unwrap();
    let org_id = org.id.as_str().to_owned();
    let m = env.client.organization_memberships();

    let bob_m = m
        .create(&org_id, &bob, "org:member")
        .public_metadata(obj(json!({"team": {"name": "core", "lead": false}})))
        .send()
        .await
        .unwrap();
    assert!(bob_m.id.starts_with("orgmem_"));
    assert_eq!(bob_m.role, "org:member");
    assert_eq!(bob_m.organization.id.as_str(), org_id);
    assert_eq!(bob_m.public_user_data.as_ref().unwrap().user_id.as_str(), bob);
    m.create(&org_id, &cy, "org:member").send().await.unwrap();

    let list = m.list(&org_id).role(vec!["org:member".into()]).limit(1).send().await.unwrap();
    assert_eq!(list.total_count, Some(2));
    assert_eq!(list.data.len(), 1);
    let all = m.list(&org_id).order_by("email_address").send().await.unwrap();
    let who: Vec<&str> =
        all.data.iter().map(|m| m.public_user_data.as_ref().unwrap().identifier.as_deref().unwrap()).collect();
    assert_eq!(who, ["ada@example.com", "bob@example.com", "cy@example.com"]);

    let upd = m.update(&org_id, &bob, "org:admin").send().await.unwrap();
    assert_eq!(upd.role, "org:admin");
    let meta = m
        .update_metadata(&org_id, &bob)
        .public_metadata(obj(json!({"team": {"lead": true, "name": null}})))
        .private_metadata(obj(json!({"salary": 1})))
        .send()
        .await
        .unwrap();
    assert_eq!(meta.public_metadata, obj(json!({"team": {"lead": true}})));
    assert_eq!(meta.private_metadata, Some(obj(json!({"salary": 1}))));

    let mine = env.client.users().get_organization_memberships(&bob).send().await.unwrap();
    assert_eq!(mine.total_count, Some(1));
    assert_eq!(mine.data[0].organization.id.as_str(), org_id);
    assert_eq!(mine.data[0].role, "org:admin");

    // Removal answers the membership removed.
    let removed = m.delete(&org_id, &cy).send().await.unwrap();
    assert_eq!(removed.public_user_data.as_ref().unwrap().user_id.as_str(), cy);
    assert!(m.delete(&org_id, &cy).send().await.unwrap_err().is_not_found());
    assert_eq!(m.list(&org_id).send().await.unwrap().total_count, Some(2));
    env.finish();
}

#[tokio::test]
async fn organization_invitations() {
    let env = Env::start(ORGANIZATION_INVITATIONS).await;
    let ada = env.user("ada@example.com").await;
    let org = env.client.organizations().create("Acme").created_by(ada.as_str()).send().await.unwrap();
    let org_id = org.id.as_str().to_owned();
    let inv = env.client.organization_invitations();

    let carol = inv
        .create(&org_id, "Carol@Example.com", "org:member")
        .inviter_user_id(ada.as_str())
        .public_metadata(obj(json!({"source": "test"})))
        .redirect_url("https://app.example.com/join")
        .expires_in_days(7)
        .send()
        .await
        .unwrap();
    assert!(carol.id.starts_with("orginv_"));
    assert_eq!(carol.email_address, "carol@example.com");
    assert_eq!(carol.status.as_deref(), Some("pending"));
    assert_eq!(carol.inviter_id.as_deref(), Some(ada.as_str()));
    assert_eq!(carol.organization_id.as_ref().map(|o| o.as_str()), Some(org_id.as_str()));

    let bulk = inv
        .bulk_create(
            &org_id,
            vec![
                CreateOrganizationInvitationBulkItem {
                    email_address: "dan@example.com".into(),
                    role: "org:member".into(),
                    ..Default::default()
                },
                CreateOrganizationInvitationBulkItem {
                    email_address: "eve@example.com".into(),
                    role: "org:admin".into(),
                    inviter_user_id: Some(ada.as_str().into()),
                    ..Default::default()
                },
            ],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.data.len(), 2);
    assert_eq!(bulk.data[1].role_name, "Admin");

    let got = inv.get(&org_id, &carol.id).send().await.unwrap();
    assert_eq!(got, carol);

    let revoked = inv.revoke(&org_id, &carol.id).requesting_user_id(ada.as_str()).send().await.unwrap();
    assert_eq!(revoked.status.as_deref(), Some("revoked"));

    let pending = inv.list(&org_id).status("pending").send().await.unwrap();
    assert_eq!(pending.total_count, Some(2));
    let revoked = inv.list(&org_id).status("revoked").send().await.unwrap();
    assert_eq!(revoked.total_count, Some(1));
    assert_eq!(revoked.data[0].id, carol.id);
    let page = inv.list(&org_id).order_by("email_address").limit(2).send().await.unwrap();
    assert_eq!(page.total_count, Some(3));
    let emails: Vec<&str> = page.data.iter().map(|i| i.email_address.as_str()).collect();
    assert_eq!(emails, ["carol@example.com", "dan@example.com"]);
    env.finish();
}

#[tokio::test]
async fn instance_invitations() {
    let env = Env::start(INSTANCE_INVITATIONS).await;
    let inv = env.client.invitations();
    let first = inv
        .create("New@Example.com")
        .public_metadata(obj(json!({"plan": "beta"})))
        .redirect_url("https://app.example.com/welcome")
        .notify(false)
        .send()
        .await
        .unwrap();
    assert!(first.id.starts_with("inv_"));
    assert_eq!(first.email_address, "new@example.com");
    assert_eq!(first.status.as_str(), "pending");
    assert_eq!(first.public_metadata, obj(json!({"plan": "beta"})));
    inv.create("other@example.org").expires_in_days(1).send().await.unwrap();

    let all = inv.list().send().await.unwrap();
    assert_eq!(all.data.len(), 2);
    assert_eq!(all.total_count, None, "a bare array by default");
    assert_eq!(all.data[0].email_address, "other@example.org", "newest first");

    let revoked = inv.revoke(&first.id).send().await.unwrap();
    assert_eq!(revoked.status, "revoked");
    assert_eq!(revoked.revoked, Some(true));

    let pending = inv.list().status("pending").paginated(true).send().await.unwrap();
    assert_eq!(pending.total_count, Some(1));
    assert_eq!(pending.data[0].email_address, "other@example.org");
    let q = inv.list().query("example.com").send().await.unwrap();
    assert_eq!(q.data.len(), 1);
    env.finish();
}
