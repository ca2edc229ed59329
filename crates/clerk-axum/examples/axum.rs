//! The axum example app, configured only by the environment:
//! `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`
//! (comma-separated), `PORT` (default 3000). Binds 127.0.0.1.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /health` | none | `200 ok` |
//! | `GET /me` | required, no user fetch | `{"user_id", "session_id", "org_id", "org_role", "org_permissions", "actor"}` |
//! | `GET /user` | required, user fetched | the Clerk user object as the Backend API returned it |
//! | `GET /optional` | optional | `{"signed_in", "user_id"}` |
//! | `GET /org-admin` | org role `org:admin` | `200`, else `403` |
#![allow(clippy::print_stdout, clippy::print_stderr)]

use axum::routing::get;
use axum::{Json, Router};
use clerk_axum::{ClerkAuth, ClerkLayer, ClerkUser, RequireLayer};
use serde_json::{Value, json};

/// The app, given its Clerk layer (tests build it against the emulator).
pub(crate) fn app(clerk: ClerkLayer) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/user", get(user))
        .route("/optional", get(optional))
        .route("/org-admin", get(|| async { "admin" }).route_layer(RequireLayer::role("org:admin")))
        .layer(clerk.optional())
        .route("/health", get(|| async { "ok" }))
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT must be a port number, got {p}"))?,
        Err(_) => 3000,
    };
    let layer = ClerkLayer::from_env()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("axum example listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(layer))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
