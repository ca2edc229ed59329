//! What the load bench server (`loadbench_server.rs`) and the instruction-count harness (`middleware_icount.rs`)
//! share: the unprotected apps (with and without the floor's bare RSA check), the `/me` body, the verifiers.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use clerk_core::{Algorithm, SessionAuth, Verifier, VerifyingKey};
use serde_json::{Value, json};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the emulator's tokens carry as `azp` by default.
pub const AUTHORIZED_PARTY: &str = "http://localhost:3000";

/// The examples' `/me` body, from a session.
pub fn me_json(auth: &SessionAuth) -> Value {
    json!({
        "user_id": auth.user_id(),
        "session_id": auth.session_id(),
        "org_id": auth.org_id(),
        "org_role": auth.org_role(),
        "org_permissions": auth.org_permissions(),
        "actor": auth.actor(),
    })
}

pub fn verifier(pem: &str) -> Result<Verifier, BoxError> {
    Ok(Verifier::builder().jwt_key(pem)?.authorized_parties([AUTHORIZED_PARTY]).build()?)
}

/// The same verifier without a verified-token cache: every request pays a full verification.
pub fn verifier_without_cache(pem: &str) -> Result<Verifier, BoxError> {
    Ok(Verifier::builder()
        .jwt_key(pem)?
        .authorized_parties([AUTHORIZED_PARTY])
        .token_cache(clerk_core::TokenCacheConfig::disabled())
        .build()?)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The floor's RSA check (the repeated token's signature over its signing input, with the same key), done by the
/// `_rsa` apps on every request.
pub struct RsaCheck {
    key: VerifyingKey,
    input: Vec<u8>,
    signature: Vec<u8>,
}

impl RsaCheck {
    pub fn new(pem: &str, token: &str) -> Result<Self, BoxError> {
        let key = VerifyingKey::from_pem(pem)?;
        let dot = token.rfind('.').ok_or("token has no signature")?;
        let signature = b64url_decode(&token[dot + 1..]).ok_or("signature not base64url")?;
        let check = Self { key, input: token.as_bytes()[..dot].to_vec(), signature };
        if !check.run() {
            return Err("the floor key does not verify the token".into());
        }
        Ok(check)
    }

    pub fn run(&self) -> bool {
        self.key.verify(Algorithm::RS256, std::hint::black_box(&self.input), &self.signature)
    }
}

/// The unprotected axum app (the example's routes, `/me` answering the same JSON from a session verified
/// beforehand); with `rsa`, `/me` first does the floor's RSA check (500 if it fails).
pub fn axum_plain_app(auth: Arc<SessionAuth>, rsa: Option<Arc<RsaCheck>>) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/me",
            get(move || {
                let auth = Arc::clone(&auth);
                let rsa = rsa.clone();
                async move {
                    if rsa.is_some_and(|r| !r.run()) {
                        return Err(http::StatusCode::INTERNAL_SERVER_ERROR);
                    }
                    Ok(axum::Json(me_json(&auth)))
                }
            }),
        )
        .route("/user", get(|| async { "user" }))
        .route("/optional", get(|| async { "optional" }))
        .route("/org-admin", get(|| async { "admin" }))
        .route("/health", get(|| async { "ok" }))
}

async fn actix_me_plain(auth: actix_web::web::Data<SessionAuth>) -> actix_web::web::Json<Value> {
    actix_web::web::Json(me_json(&auth))
}

async fn actix_me_rsa(
    auth: actix_web::web::Data<SessionAuth>,
    rsa: actix_web::web::Data<RsaCheck>,
) -> Result<actix_web::web::Json<Value>, actix_web::Error> {
    if !rsa.run() {
        return Err(actix_web::error::ErrorInternalServerError("rsa"));
    }
    Ok(actix_web::web::Json(me_json(&auth)))
}

/// The unprotected actix app's routes: the example's routing (`/health`, then a scope with `/me` first), without
/// the middleware; `auth` and `rsa` as app data, and with `with_rsa`, `/me` first does the floor's RSA check.
pub fn actix_plain_app(
    cfg: &mut actix_web::web::ServiceConfig,
    auth: actix_web::web::Data<SessionAuth>,
    rsa: actix_web::web::Data<RsaCheck>,
    with_rsa: bool,
) {
    use actix_web::web;
    let me = if with_rsa { web::get().to(actix_me_rsa) } else { web::get().to(actix_me_plain) };
    cfg.app_data(auth).app_data(rsa).route("/health", web::get().to(|| async { "ok" })).service(
        web::scope("")
            .route("/me", me)
            .route("/user", web::get().to(|| async { "user" }))
            .route("/optional", web::get().to(|| async { "optional" }))
            .service(web::resource("/org-admin").route(web::get().to(|| async { "admin" }))),
    );
}
