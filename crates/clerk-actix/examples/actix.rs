//! The actix-web example app, configured only by the environment:
//! `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `CLERK_PUBLISHABLE_KEY`, `CLERK_AUTHORIZED_PARTIES`
//! (comma-separated), `CLERK_WEBHOOK_SIGNING_SECRET` (`whsec_…`; unset: no webhook route), `PORT` (default 3000).
//! Binds 127.0.0.1.
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `GET /health` | none | `200 ok` |
//! | `GET /me` | required, no user fetch | `{"user_id", "session_id", "org_id", "org_role", "org_permissions", "actor"}` |
//! | `GET /user` | required, user fetched | the Clerk user object as the Backend API returned it |
//! | `GET /optional` | optional | `{"signed_in", "user_id"}` |
//! | `GET /org-admin` | org role `org:admin` | `200`, else `403` |
//! | `GET /machine` | a machine token: API key, M2M token or OAuth access token (opaque or JWT); a session token is `401` | `{"token_type", "id", "subject", "scopes"}` |
//! | `POST /webhooks/clerk` | a Svix signature (no session); mounted when `CLERK_WEBHOOK_SIGNING_SECRET` is set | `{"id", "type"}`; bad signature or stale timestamp `400`, too large `413` |
//!
//! Machine tokens are refused on the session routes (`401`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use actix_web::{App, HttpResponse, HttpServer, web};
use clerk_actix::{
    Clerk, ClerkAuth, ClerkMachine, ClerkUser, ClerkWebhook, OptionalClerkAuth, Require, TokenTypes, Webhook,
};
use serde_json::{Value, json};

/// The app's routes, given its Clerk middleware and, when webhooks are configured, their verifier (tests mount them
/// against the emulator): `App::new().configure(|cfg| app(cfg, clerk, webhook))`.
pub(crate) fn app(cfg: &mut web::ServiceConfig, clerk: Clerk, webhook: Option<Webhook>) {
    cfg.route("/health", web::get().to(|| async { "ok" }));
    // Outside the session middleware: Clerk's requests are authenticated by their signature.
    if let Some(webhook) = webhook {
        cfg.service(
            web::resource("/webhooks/clerk").app_data(web::Data::new(webhook)).route(web::post().to(clerk_webhook)),
        );
    }
    // Before the catch-all scope below, with its own middleware: machine tokens only (optional mode, as the session
    // scope: the extractor decides, so an unmatched method is a 405 whatever the credentials).
    cfg.service(
        web::resource("/machine")
            .wrap(clerk.clone().accepting(TokenTypes::MACHINE).optional())
            .route(web::get().to(machine)),
    );
    cfg.service(
        web::scope("")
            .wrap(clerk.optional())
            .route("/me", web::get().to(me))
            .route("/user", web::get().to(user))
            .route("/optional", web::get().to(optional))
            .service(
                web::resource("/org-admin").wrap(Require::role("org:admin")).route(web::get().to(|| async { "admin" })),
            ),
    );
}

async fn me(auth: ClerkAuth) -> web::Json<Value> {
    web::Json(json!({
        "user_id": auth.user_id(),
        "session_id": auth.session_id(),
        "org_id": auth.org_id(),
        "org_role": auth.org_role(),
        "org_permissions": auth.org_permissions(),
        "actor": auth.actor(),
    }))
}

async fn user(user: ClerkUser) -> HttpResponse {
    HttpResponse::Ok().json(&user.raw)
}

async fn optional(OptionalClerkAuth(auth): OptionalClerkAuth) -> web::Json<Value> {
    web::Json(json!({ "signed_in": auth.is_some(), "user_id": auth.as_ref().map(|a| a.user_id().to_string()) }))
}

async fn machine(machine: ClerkMachine) -> web::Json<Value> {
    web::Json(json!({
        "token_type": machine.token_type().as_str(),
        "id": machine.id(),
        "subject": machine.subject(),
        "scopes": machine.scopes(),
    }))
}

async fn clerk_webhook(ClerkWebhook(event): ClerkWebhook) -> web::Json<Value> {
    web::Json(json!({ "id": event.id, "type": event.event_type }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT must be a port number, got {p}"))?,
        Err(_) => 3000,
    };
    let clerk = Clerk::from_env()?;
    let webhook = Webhook::from_env().map_err(|e| format!("CLERK_WEBHOOK_SIGNING_SECRET: {e}"))?;
    if webhook.is_none() {
        eprintln!("CLERK_WEBHOOK_SIGNING_SECRET is not set: POST /webhooks/clerk is not mounted");
    }
    // actix-web stops gracefully on Ctrl-C (SIGINT) and SIGTERM by itself.
    let server = HttpServer::new(move || {
        let (clerk, webhook) = (clerk.clone(), webhook.clone());
        App::new().configure(move |cfg| app(cfg, clerk, webhook))
    })
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        eprintln!("actix example listening on http://{addr}");
    }
    server.run().await?;
    Ok(())
}
