//! Email and SMS templates: Clerk's defaults (added on first use), customized, reverted, toggled and previewed.

use serde_json::{Value, json};

use super::helpers::{assign, flag, set_given};
use crate::api::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::store::Store;
use crate::{Shared, ids};

pub(super) fn handle(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Handled {
    if ctx.op.path.starts_with("/templates/{template_type}") && !matches!(ctx.path("template_type"), "email" | "sms") {
        return Some(Err(ApiError::param_invalid("template_type", "must be email or sms")));
    }
    let r = match ctx.op.id {
        "GetTemplateList" => {
            ensure_templates(store, shared);
            let t = ctx.path("template_type");
            list(ctx, store.instance.templates.values().filter(|v| v["template_type"] == t).cloned().collect())
        }
        "GetTemplate" => {
            ensure_templates(store, shared);
            template_mut(store, ctx).map(|t| t.clone()).and_then(ok)
        }
        "UpsertTemplate" => upsert_template(store, shared, ctx),
        "RevertTemplate" => revert_template(store, shared, ctx),
        "ToggleTemplateDelivery" => toggle_template_delivery(store, shared, ctx),
        "PreviewTemplate" => preview_template(store, shared, ctx),
        _ => return None,
    };
    Some(r)
}

/// A default template: type, slug, name, subject (email), body, required variables, available variables.
struct DefaultTemplate {
    kind: &'static str,
    slug: &'static str,
    name: &'static str,
    subject: &'static str,
    body: &'static str,
    required: &'static [&'static str],
    available: &'static [&'static str],
}

const DEFAULT_TEMPLATES: &[DefaultTemplate] = &[
    DefaultTemplate {
        kind: "email",
        slug: "verification_code",
        name: "Verification code",
        subject: "{{otp_code}} is your verification code",
        body: "<p>Enter this verification code to continue to {{app.name}}:</p><p><strong>{{otp_code}}</strong></p>",
        required: &["otp_code"],
        available: &["app.name", "app.url", "otp_code", "requested_at", "requested_by", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "reset_password_code",
        name: "Reset password code",
        subject: "{{otp_code}} is your password reset code",
        body: "<p>Use this code to reset your {{app.name}} password:</p><p><strong>{{otp_code}}</strong></p>",
        required: &["otp_code"],
        available: &["app.name", "app.url", "otp_code", "requested_at", "requested_by", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "magic_link_sign_in",
        name: "Magic link sign in",
        subject: "Sign in to {{app.name}}",
        body: "<p><a href=\"{{magic_link}}\">Sign in to {{app.name}}</a></p>",
        required: &["magic_link"],
        available: &["app.name", "app.url", "magic_link", "ttl_minutes", "requested_at", "requested_from"],
    },
    DefaultTemplate {
        kind: "email",
        slug: "invitation",
        name: "Invitation",
        subject: "{{inviter_name}} invited you to {{app.name}}",
        body: "<p>{{inviter_name}} invited you to join {{app.name}}.</p><p><a href=\"{{action_url}}\">Accept</a></p>",
        required: &["action_url"],
        available: &["app.name", "app.url", "action_url", "inviter_name"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "verification_code",
        name: "Verification code",
        subject: "",
        body: "{{otp_code}} is your verification code for {{app.name}}.",
        required: &["otp_code"],
        available: &["app.name", "otp_code"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "reset_password_code",
        name: "Reset password code",
        subject: "",
        body: "{{otp_code}} is your password reset code for {{app.name}}.",
        required: &["otp_code"],
        available: &["app.name", "otp_code"],
    },
    DefaultTemplate {
        kind: "sms",
        slug: "invitation",
        name: "Invitation",
        subject: "",
        body: "{{inviter_name}} invited you to {{app.name}}: {{action_url}}",
        required: &["action_url"],
        available: &["app.name", "action_url", "inviter_name"],
    },
];

fn default_template(kind: &str, slug: &str) -> Option<&'static DefaultTemplate> {
    DEFAULT_TEMPLATES.iter().find(|t| t.kind == kind && t.slug == slug)
}

/// The default content fields of a template (what `RevertTemplate` restores).
fn default_content(d: &DefaultTemplate) -> Value {
    let mut v = json!({
        "resource_type": "system",
        "name": d.name,
        "markup": "",
        "body": d.body,
        "delivered_by_clerk": true,
        "enabled": true,
        "can_revert": false,
    });
    if d.kind == "email" {
        v["subject"] = json!(d.subject);
        v["from_email_name"] = json!("notifications");
        v["reply_to_email_name"] = json!("");
    } else {
        v["subject"] = Value::Null;
    }
    v
}

/// Adds the default templates on first use (newest first in creation order, so the default `-created_at` list
/// order is the templates' position order).
fn ensure_templates(store: &mut Store, shared: &Shared) {
    if !store.instance.templates.is_empty() {
        return;
    }
    for kind in ["email", "sms"] {
        let defaults: Vec<&DefaultTemplate> = DEFAULT_TEMPLATES.iter().filter(|t| t.kind == kind).collect();
        for (position, d) in defaults.iter().enumerate().rev() {
            let now = store.now_ms();
            let mut t = json!({
                "object": "template",
                "id": ids::new_id("tmpl"),
                "instance_id": shared.instance_id,
                "template_type": d.kind,
                "slug": d.slug,
                "position": position,
                "can_delete": false,
                "can_edit_body": true,
                "can_toggle": true,
                "available_variables": d.available,
                "required_variables": d.required,
                "flagged_as_suspicious": false,
                "created_at": now,
                "updated_at": now,
            });
            assign(&mut t, &default_content(d));
            store.instance.templates.insert(format!("{}/{}", d.kind, d.slug), t);
        }
    }
}

fn template_mut<'a>(store: &'a mut Store, ctx: &Ctx) -> Result<&'a mut Value, ApiError> {
    let key = format!("{}/{}", ctx.path("template_type"), ctx.path("slug"));
    store.instance.templates.get_mut(&key).ok_or_else(|| ApiError::not_found("template"))
}

/// The `{{ variable }}` names a template text mentions.
pub(super) fn variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim_matches(|c: char| c == '{' || c.is_whitespace()));
        rest = &after[end + 2..];
    }
    out
}

/// Fills `{{ variable }}`s with sample values.
pub(super) fn render(text: &str, app_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim_matches(|c: char| c == '{' || c.is_whitespace());
        let value = match name {
            "app.name" => app_name,
            "app.url" => "https://example.com",
            "otp_code" => "123456",
            "magic_link" => "https://example.com/v1/verify?token=sample",
            "action_url" => "https://example.com/v1/tickets/accept?ticket=sample",
            "inviter_name" => "Ada Lovelace",
            "ttl_minutes" => "10",
            "requested_at" => "1 January 2026, 12:00 UTC",
            "requested_by" => "Chrome, macOS",
            "requested_from" => "127.0.0.1",
            _ => "",
        };
        out.push_str(value);
        rest = after[end + 2..].trim_start_matches('}');
    }
    out.push_str(rest);
    out
}

fn upsert_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let body = &ctx.json;
    for key in ["from_email_name", "reply_to_email_name"] {
        if let Some(v) = s(body, key)
            && (v.contains('@') || v.contains(char::is_whitespace) || (key == "from_email_name" && v.is_empty()))
        {
            return Err(ApiError::param_invalid(key, "must be the local part of an email address"));
        }
    }
    if s(body, "name").is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    let is_email = t["template_type"] == "email";
    let new_body = s(body, "body").or_else(|| t["body"].as_str()).unwrap_or_default().to_owned();
    let new_markup = s(body, "markup").or_else(|| t["markup"].as_str()).unwrap_or_default().to_owned();
    let mentioned: Vec<&str> = variables(&new_body).into_iter().chain(variables(&new_markup)).collect();
    let missing: Vec<&str> = t["required_variables"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).filter(|v| !mentioned.contains(v)).collect())
        .unwrap_or_default();
    if !missing.is_empty() {
        return Err(ApiError::unprocessable(
            "template_missing_required_variables",
            format!("The template must use the variables: {}.", missing.join(", ")),
        ));
    }
    set_given(t, body, &["name", "body", "markup", "delivered_by_clerk"]);
    if is_email {
        set_given(t, body, &["subject", "from_email_name", "reply_to_email_name"]);
    }
    t["resource_type"] = json!("user");
    t["can_revert"] = json!(true);
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn revert_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    if t["can_revert"] != true {
        return Err(ApiError::new(
            400,
            "template_not_revertable",
            "cannot be reverted",
            "This template has not been customized.",
        ));
    }
    let d = default_template(t["template_type"].as_str().unwrap_or(""), t["slug"].as_str().unwrap_or(""))
        .ok_or_else(|| ApiError::not_found("template"))?;
    assign(t, &default_content(d));
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn toggle_template_delivery(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    ensure_templates(store, shared);
    let now = store.now_ms();
    let t = template_mut(store, ctx)?;
    if t["can_toggle"] != true {
        return Err(ApiError::new(423, "template_locked", "locked", "Delivery of this template cannot be toggled."));
    }
    let current = t["delivered_by_clerk"].as_bool().unwrap_or(true);
    t["delivered_by_clerk"] = json!(flag(&ctx.json, "delivered_by_clerk").unwrap_or(!current));
    t["updated_at"] = json!(now);
    ok(t.clone())
}

fn preview_template(store: &mut Store, shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let kind = ctx.path("template_type");
    ensure_templates(store, shared);
    let t = template_mut(store, ctx)?.clone();
    let body = &ctx.json;
    let app = "Emulated App";
    let text = s(body, "body").or_else(|| t["body"].as_str()).unwrap_or_default();
    let mut out = json!({ "body": render(text, app) });
    if kind == "email" {
        let subject = match body.get("subject") {
            Some(Value::String(sub)) => sub.clone(),
            _ => t["subject"].as_str().unwrap_or_default().to_owned(),
        };
        let from = s(body, "from_email_name").or_else(|| t["from_email_name"].as_str()).unwrap_or("notifications");
        let reply_to = s(body, "reply_to_email_name").or_else(|| t["reply_to_email_name"].as_str()).unwrap_or("");
        let host = "example.com";
        out["subject"] = json!(render(&subject, app));
        out["from_email_address"] = json!(format!("{from}@{host}"));
        out["reply_to_email_address"] =
            if reply_to.is_empty() { Value::Null } else { json!(format!("{reply_to}@{host}")) };
    }
    ok(out)
}
