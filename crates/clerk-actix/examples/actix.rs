//! The actix-web example app, configured only by the environment:
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

use actix_web::{App, HttpResponse, HttpServer, web};
use clerk_actix::{ClerkAuth, ClerkMiddleware, ClerkUser, OptionalClerkAuth, Require};
use serde_json::{Value, json};

/// The app's routes, given its Clerk middleware (tests mount them against the emulator):
/// `App::new().configure(|cfg| app(cfg, clerk))`.
pub(crate) fn app(cfg: &mut web::ServiceConfig, clerk: ClerkMiddleware) {
    cfg.route("/health", web::get().to(|| async { "ok" })).service(
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

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT must be a port number, got {p}"))?,
        Err(_) => 3000,
    };
    let clerk = ClerkMiddleware::from_env()?;
    // actix-web stops gracefully on Ctrl-C (SIGINT) and SIGTERM by itself.
    let server = HttpServer::new(move || {
        let clerk = clerk.clone();
        App::new().configure(move |cfg| app(cfg, clerk))
    })
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        eprintln!("actix example listening on http://{addr}");
    }
    server.run().await?;
    Ok(())
}
