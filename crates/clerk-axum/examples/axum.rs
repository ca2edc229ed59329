//! The axum example app, configured only by the environment:
//! `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`
//! (comma-separated), `CLERK_WEBHOOK_SIGNING_SECRET` (the webhook endpoint's `whsec_…`; unset: no webhook route),
//! `PORT` (default 3000). Binds 127.0.0.1.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /health` | none | `200 ok` |
//! | `GET /me` | session, no user fetch | `{"user_id", "session_id", "org_id", "org_role", "org_permissions", "actor"}` |
//! | `GET /user` | session, user fetched | the Clerk user object as the Backend API returned it |
//! | `GET /optional` | optional session | `{"signed_in", "user_id"}` |
//! | `GET /org-admin` | session with org role `org:admin` | `200`, else `403` |
//! | `GET /machine` | API key, M2M token or OAuth access token (opaque or JWT) | `{"token_type", "id", "subject", "scopes"}` |
//! | `POST /webhooks/clerk` | a Clerk webhook signature (no session) | `{"id": <svix-id>, "type": <event type>}`; `400` unverified, `413` too large |
//!
//! Session routes refuse machine tokens and `/machine` refuses session tokens (`401`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use clerk_axum::{ClerkAuth, ClerkLayer, ClerkMachine, ClerkUser, ClerkWebhook, RequireLayer, TokenTypes, Webhook};
use serde_json::{Value, json};

/// The app, given its Clerk layer and, when webhooks are configured, the webhook verifier (tests build both against
/// the emulator).
pub(crate) fn app(clerk: ClerkLayer, webhook: Option<Webhook>) -> Router {
    // `Router::layer` wraps the routes added before it: each group gets its own layer.
    let sessions = Router::new()
        .route("/me", get(me))
        .route("/user", get(user))
        .route("/optional", get(optional))
        .route("/org-admin", get(|| async { "admin" }).route_layer(RequireLayer::role("org:admin")))
        .layer(clerk.clone().optional());
    let machines = Router::new().route("/machine", get(machine)).layer(clerk.accepting(TokenTypes::MACHINE).optional());
    let app = Router::new().merge(sessions).merge(machines).route("/health", get(|| async { "ok" }));
    match webhook {
        Some(webhook) => app.route("/webhooks/clerk", post(clerk_webhook).layer(Extension(webhook))),
        None => app,
    }
}

async fn me(auth: ClerkAuth) -> Json<Value> {
    Json(json!({
        "user_id": auth.user_id(),
        "session_id": auth.session_id(),
        "org_id": auth.org_id(),
        "org_role": auth.org_role(),
        "org_permissions": auth.org_permissions(),
        "actor": auth.actor(),
    }))
}

async fn user(user: ClerkUser) -> Json<Value> {
    Json(user.raw.clone())
}

async fn optional(auth: Option<ClerkAuth>) -> Json<Value> {
    Json(json!({ "signed_in": auth.is_some(), "user_id": auth.as_ref().map(|a| a.user_id().to_string()) }))
}

async fn machine(machine: ClerkMachine) -> Json<Value> {
    Json(json!({
        "token_type": machine.token_type().as_str(),
        "id": machine.id(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    }))
}

async fn clerk_webhook(webhook: ClerkWebhook) -> Json<Value> {
    // A real app handles `webhook.event` here (and deduplicates on `webhook.id`, stable across retries).
    Json(json!({ "id": webhook.id, "type": webhook.event_type }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT must be a port number, got {p}"))?,
        Err(_) => 3000,
    };
    let layer = ClerkLayer::from_env()?;
    let webhook = Webhook::from_env().map_err(|e| format!("CLERK_WEBHOOK_SIGNING_SECRET: {e}"))?;
    if webhook.is_none() {
        eprintln!("CLERK_WEBHOOK_SIGNING_SECRET is not set: POST /webhooks/clerk is not mounted");
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("axum example listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(layer, webhook))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
