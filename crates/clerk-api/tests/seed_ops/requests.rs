//! One typed request per seed operation, with fixed ids and realistic arguments, built without sending.

use bytes::Bytes;
use clerk_api::{
    Client, CreateActorTokenBodyActor, CreateOrganizationInvitationBulkItem, CreateSamlConnectionBodyAttributeMapping,
    CreateSamlConnectionBodyProvider, Error, FilePart, Nullable,
    UpdateInstanceBodyPreferredSignInStrategyWhenPasswordRequired,
};
use serde_json::json;

use crate::support::obj;

/// `(operation id, the request as it would be sent)` for every seed operation. Object literals list their keys in
/// sorted order, so the bytes are the same whether or not serde_json preserves insertion order.
pub fn all(c: &Client) -> Vec<(&'static str, Result<http::Request<Bytes>, Error>)> {
    let mut out = Vec::new();
    macro_rules! op {
        ($id:literal, $builder:expr) => {
            out.push(($id, $builder.to_http_request()))
        };
    }
    let png = || FilePart::new("logo.png", "image/png", &b"\x89PNG\r\n\x1a\nfake"[..]);

    // Users.
    op!(
        "GetUserList",
        c.users()
            .list()
            .email_address(vec!["ada@example.com".into(), "bob@example.com".into()])
            .query("ada")
            .order_by("-created_at")
            .limit(10)
            .offset(20)
    );
    op!("GetUsersCount", c.users().count().query("example.com").banned(false));
    op!(
        "CreateUser",
        c.users()
            .create()
            .email_address(vec!["ada@example.com".to_owned()])
            .phone_number(vec!["+15555550100".to_owned()])
            .username("ada_l")
            .first_name("Ada")
            .last_name("Lovelace")
            .password("correct-horse-battery")
            .external_id("ext-1")
            .public_metadata(obj(json!({"plan": "pro"})))
            .private_metadata(obj(json!({"crm_id": 42})))
    );
    op!("GetUser", c.users().get("user_123"));
    op!(
        "UpdateUser",
        c.users()
            .update("user_123")
            .first_name("Augusta")
            .last_name(Nullable::Null)
            .primary_email_address_id("idn_456")
    );
    op!("DeleteUser", c.users().delete("user_123"));
    op!("BanUser", c.users().ban("user_123"));
    op!("UnbanUser", c.users().unban("user_123"));
    op!("LockUser", c.users().lock("user_123"));
    op!("UnlockUser", c.users().unlock("user_123"));
    op!("SetUserProfileImage", c.users().set_profile_image("user_123", png()));
    op!("DeleteUserProfileImage", c.users().delete_profile_image("user_123"));
    op!(
        "UpdateUserMetadata",
        c.users()
            .update_metadata("user_123")
            .public_metadata(obj(json!({"nested": {"c": 3}, "plan": null})))
            .private_metadata(obj(json!({"k": "v"})))
    );
    op!("GetOAuthAccessToken", c.users().get_oauth_access_token("user_123", "oauth_google"));
    op!("UsersGetOrganizationMemberships", c.users().get_organization_memberships("user_123").limit(10).offset(0));
    op!("VerifyPassword", c.users().verify_password("user_123", "correct-horse-battery"));
    op!("VerifyTOTP", c.users().verify_totp("user_123", "123456"));
    op!("DisableMFA", c.users().disable_mfa("user_123"));

    // Email addresses and phone numbers.
    op!(
        "CreateEmailAddress",
        c.email_addresses().create("user_123", "second@example.com").verified(true).primary(false)
    );
    op!("GetEmailAddress", c.email_addresses().get("idn_123"));
    op!("UpdateEmailAddress", c.email_addresses().update("idn_123").verified(true).primary(true));
    op!("DeleteEmailAddress", c.email_addresses().delete("idn_123"));
    op!("CreatePhoneNumber", c.phone_numbers().create("user_123", "+15555550123").verified(true));
    op!("GetPhoneNumber", c.phone_numbers().get("idn_789"));
    op!("UpdatePhoneNumber", c.phone_numbers().update("idn_789").reserved_for_second_factor(true));
    op!("DeletePhoneNumber", c.phone_numbers().delete("idn_789"));

    // Sessions, clients, JWKS.
    op!("GetSessionList", c.sessions().list().user_id("user_123").status("active").paginated(true).limit(10));
    op!("GetSession", c.sessions().get("sess_123"));
    op!("RevokeSession", c.sessions().revoke("sess_123"));
    op!("CreateSessionTokenFromTemplate", c.sessions().create_token_from_template("sess_123", "hasura"));
    op!("GetClient", c.clients().get("client_123"));
    op!("VerifyClient", c.clients().verify("client_token_abc"));
    op!("GetJWKS", c.jwks().get_jwks());

    // Organizations.
    op!(
        "ListOrganizations",
        c.organizations().list().query("acme").include_members_count(true).order_by("-created_at").limit(10).offset(0)
    );
    op!(
        "CreateOrganization",
        c.organizations()
            .create("Acme Corp")
            .slug("acme")
            .created_by("user_123")
            .max_allowed_memberships(5)
            .public_metadata(obj(json!({"plan": "pro"})))
    );
    op!("GetOrganization", c.organizations().get("org_123").include_members_count(true));
    op!(
        "UpdateOrganization",
        c.organizations().update("org_123").name("Acme Inc").slug("acme-inc").admin_delete_enabled(false)
    );
    op!("DeleteOrganization", c.organizations().delete("org_123"));
    op!(
        "MergeOrganizationMetadata",
        c.organizations()
            .merge_metadata("org_123")
            .public_metadata(obj(json!({"plan": null, "tier": 2})))
            .private_metadata(obj(json!({"notes": ["a"]})))
    );
    op!("UploadOrganizationLogo", c.organizations().upload_logo("org_123", png()).uploader_user_id("user_123"));
    op!("DeleteOrganizationLogo", c.organizations().delete_logo("org_123"));

    // Organization memberships.
    op!(
        "CreateOrganizationMembership",
        c.organization_memberships()
            .create("org_123", "user_456", "org:member")
            .public_metadata(obj(json!({"team": "core"})))
    );
    op!(
        "ListOrganizationMemberships",
        c.organization_memberships()
            .list("org_123")
            .role(vec!["org:member".into()])
            .order_by("email_address")
            .limit(10)
    );
    op!("UpdateOrganizationMembership", c.organization_memberships().update("org_123", "user_456", "org:admin"));
    op!(
        "UpdateOrganizationMembershipMetadata",
        c.organization_memberships()
            .update_metadata("org_123", "user_456")
            .public_metadata(obj(json!({"team": {"lead": true}})))
            .private_metadata(obj(json!({"salary": 1})))
    );
    op!("DeleteOrganizationMembership", c.organization_memberships().delete("org_123", "user_456"));

    // Organization invitations.
    op!(
        "CreateOrganizationInvitation",
        c.organization_invitations()
            .create("org_123", "carol@example.com", "org:member")
            .inviter_user_id("user_123")
            .redirect_url("https://app.example.com/join")
            .expires_in_days(7)
    );
    op!(
        "CreateOrganizationInvitationBulk",
        c.organization_invitations().bulk_create(
            "org_123",
            vec![
                CreateOrganizationInvitationBulkItem {
                    email_address: "dan@example.com".into(),
                    role: "org:member".into(),
                    ..Default::default()
                },
                CreateOrganizationInvitationBulkItem {
                    email_address: "eve@example.com".into(),
                    role: "org:admin".into(),
                    inviter_user_id: Some("user_123".into()),
                    ..Default::default()
                },
            ]
        )
    );
    op!("ListOrganizationInvitations", c.organization_invitations().list("org_123").status("pending").limit(10));
    op!("GetOrganizationInvitation", c.organization_invitations().get("org_123", "orginv_123"));
    op!(
        "RevokeOrganizationInvitation",
        c.organization_invitations().revoke("org_123", "orginv_123").requesting_user_id("user_123")
    );

    // Instance invitations.
    op!(
        "CreateInvitation",
        c.invitations()
            .create("new@example.com")
            .public_metadata(obj(json!({"plan": "beta"})))
            .redirect_url("https://app.example.com/welcome")
            .notify(false)
            .expires_in_days(7)
    );
    op!("ListInvitations", c.invitations().list().status("pending").paginated(true).limit(10));
    op!("RevokeInvitation", c.invitations().revoke("inv_123"));

    // Allow and block lists.
    op!("ListAllowlistIdentifiers", c.allowlist_identifiers().list().paginated(true).limit(10));
    op!("CreateAllowlistIdentifier", c.allowlist_identifiers().create("ada@example.com").notify(false));
    op!("DeleteAllowlistIdentifier", c.allowlist_identifiers().delete("alid_123"));
    op!("ListBlocklistIdentifiers", c.blocklist_identifiers().list());
    op!("CreateBlocklistIdentifier", c.blocklist_identifiers().create("spam@example.com"));
    op!("DeleteBlocklistIdentifier", c.blocklist_identifiers().delete("blid_123"));

    // Instance settings.
    op!(
        "UpdateInstanceAuthConfig",
        c.beta_features()
            .update_instance_settings()
            .restricted_to_allowlist(true)
            .from_email_address("hello")
            .progressive_sign_up(true)
    );
    op!(
        "UpdateInstance",
        c.instance_settings()
            .update()
            .allowed_origins(vec!["https://app.example.com".to_owned()])
            .support_email("help@example.com")
            .preferred_sign_in_strategy_when_password_required(
                UpdateInstanceBodyPreferredSignInStrategyWhenPasswordRequired::Otp,
            )
    );
    op!("UpdateInstanceRestrictions", c.instance_settings().update_restrictions().allowlist(true).blocklist(false));
    op!(
        "UpdateInstanceOrganizationSettings",
        c.instance_settings()
            .update_organization_settings()
            .max_allowed_memberships(25)
            .domains_enabled(true)
            .domains_enrollment_modes(vec!["automatic_invitation".to_owned()])
    );
    op!("ChangeProductionInstanceDomain", c.instance_settings().change_domain().home_url("https://www.example.com"));

    // Actor and sign-in tokens.
    op!(
        "CreateActorToken",
        c.actor_tokens()
            .create(
                "user_123",
                CreateActorTokenBodyActor { sub: "user_admin".into(), extra: obj(json!({"reason": "support"})) }
            )
            .expires_in_seconds(600)
    );
    op!("RevokeActorToken", c.actor_tokens().revoke("act_123"));
    op!("CreateSignInToken", c.sign_in_tokens().create("user_123").expires_in_seconds(3600));
    op!("RevokeSignInToken", c.sign_in_tokens().revoke("sit_123"));

    // Domains and proxy checks.
    op!("ListDomains", c.domains().list());
    op!("AddDomain", c.domains().add("satellite.example.com", true));
    op!(
        "UpdateDomain",
        c.domains().update("dmn_123").name("sat.example.org").proxy_url("https://sat.example.org/__clerk")
    );
    op!("DeleteDomain", c.domains().delete("dmn_123"));
    op!(
        "VerifyDomainProxy",
        c.proxy_checks().verify().domain_id("dmn_123").proxy_url("https://sat.example.org/__clerk")
    );

    // Redirect URLs.
    op!("ListRedirectURLs", c.redirect_urls().list());
    op!("CreateRedirectURL", c.redirect_urls().create("myapp://oauth-callback"));
    op!("GetRedirectURL", c.redirect_urls().get("ru_123"));
    op!("DeleteRedirectURL", c.redirect_urls().delete("ru_123"));

    // OAuth applications.
    op!("ListOAuthApplications", c.oauth_applications().list().name_query("acme").limit(5));
    op!(
        "CreateOAuthApplication",
        c.oauth_applications()
            .create("Acme CLI")
            .redirect_uris(vec!["https://acme.dev/callback".to_owned()])
            .scopes("profile email openid")
    );
    op!("GetOAuthApplication", c.oauth_applications().get("oa_123"));
    op!(
        "UpdateOAuthApplication",
        c.oauth_applications()
            .update("oa_123")
            .name("Acme CLI v2")
            .redirect_uris(vec!["https://acme.dev/cb2".to_owned()])
    );
    op!("DeleteOAuthApplication", c.oauth_applications().delete("oa_123"));
    op!("RotateOAuthApplicationSecret", c.oauth_applications().rotate_secret("oa_123"));

    // SAML connections.
    op!("ListSAMLConnections", c.saml_connections().list().query("acme").limit(10));
    op!(
        "CreateSAMLConnection",
        c.saml_connections()
            .create("Okta", CreateSamlConnectionBodyProvider::SamlOkta)
            .domains(vec!["acme.com".to_owned()])
            .attribute_mapping(CreateSamlConnectionBodyAttributeMapping {
                email_address: Some("mail".into()),
                ..Default::default()
            })
    );
    op!("GetSAMLConnection", c.saml_connections().get("samlc_123"));
    op!(
        "UpdateSAMLConnection",
        c.saml_connections()
            .update("samlc_123")
            .name("Okta SSO")
            .idp_entity_id("https://okta.example/entity")
            .idp_sso_url("https://okta.example/sso")
            .idp_certificate("MIIC...")
            .active(true)
    );
    op!("DeleteSAMLConnection", c.saml_connections().delete("samlc_123"));

    // Sign-ups.
    op!("UpdateSignUp", c.sign_ups().update("sua_123").external_id("ext_42"));

    // Email and SMS templates.
    op!("GetTemplateList", c.email_sms_templates().list("email"));
    op!("GetTemplate", c.email_sms_templates().get("email", "verification_code"));
    op!(
        "UpsertTemplate",
        c.email_sms_templates()
            .upsert("email", "verification_code")
            .subject("Your code: {{otp_code}}")
            .body("<p>Code: {{ otp_code }}</p>")
            .from_email_name("security")
    );
    op!("RevertTemplate", c.email_sms_templates().revert("email", "verification_code"));
    op!("PreviewTemplate", c.email_sms_templates().preview("email", "verification_code").subject("{{otp_code}}!"));
    op!(
        "ToggleTemplateDelivery",
        c.email_sms_templates().toggle_template_delivery("email", "verification_code").delivered_by_clerk(false)
    );

    // Svix.
    op!("CreateSvixApp", c.webhooks().create_svix_app());
    op!("GenerateSvixAuthURL", c.webhooks().generate_svix_auth_url());
    op!("DeleteSvixApp", c.webhooks().delete_svix_app());

    // JWT templates.
    op!("ListJWTTemplates", c.jwt_templates().list());
    op!(
        "CreateJWTTemplate",
        c.jwt_templates().create("hasura", obj(json!({"role": "{{user.public_metadata.role}}"}))).lifetime(120)
    );
    op!("GetJWTTemplate", c.jwt_templates().get("jtmp_123"));
    op!(
        "UpdateJWTTemplate",
        c.jwt_templates().update("jtmp_123", "hasura-v2", obj(json!({"role": "admin"}))).allowed_clock_skew(10)
    );
    op!("DeleteJWTTemplate", c.jwt_templates().delete("jtmp_123"));

    // The interstitial.
    op!(
        "GetPublicInterstitial",
        c.miscellaneous()
            .get_public_interstitial()
            .publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
            .sign_in_url("https://app.example.com/sign-in")
    );

    out
}
