//! The shared policy through the actix middleware: requirement combinations, and the failure behind a refusal
//! reaching a handler that asks for it (`Result<ClerkAuth, ClerkRejection>`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{App, test, web};
use clerk_actix::{Authenticator, Clerk, ClerkAuth, ClerkRejection, Require, Requirement};
use clerk_core::{Reverification, Verifier};
use clerk_testing::{Emulator, Fault};
use serde_json::{Value, json};

async fn call<S, B>(app: &S, path: &str, token: Option<&str>) -> (StatusCode, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri(path);
    if let Some(t) = token {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    (status, String::from_utf8(test::read_body(resp).await.to_vec()).unwrap())
}

fn local(clerk: &Emulator) -> Clerk {
    let verifier = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    Clerk::new(Authenticator::builder().verifier(verifier).build().unwrap())
}

async fn ok() -> &'static str {
    "ok"
}

#[actix_web::test]
async fn requirements_combine_with_any_and_all() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("policy@example.com").unwrap();
    let any = Requirement::any([Requirement::role("org:admin"), Requirement::permission("org:billing:manage")]);
    let all = Requirement::all([Requirement::role("org:admin"), Requirement::permission("org:reports:read")]);
    let fresh = Requirement::all([
        Requirement::permission("org:billing:manage"),
        Requirement::Reverification(Reverification::Strict),
    ]);
    let app = test::init_service(
        App::new().service(
            web::scope("")
                .wrap(local(&clerk))
                .service(web::resource("/any").wrap(Require::new(any)).route(web::get().to(ok)))
                .service(web::resource("/all").wrap(Require::new(all)).route(web::get().to(ok)))
                .service(web::resource("/billing-fresh").wrap(Require::new(fresh)).route(web::get().to(ok))),
        ),
    )
    .await;
    let token = |role: &str, perms: &[&str], fva: i64| {
        clerk
            .session_token(&uid)
            .unwrap()
            .organization("org_1", "acme", role, perms)
            .claim("fva", json!([fva, fva]))
            .mint()
    };
    let admin = token("org:admin", &[], 0);
    let biller = token("org:member", &["org:billing:manage"], 0);
    let member = token("org:member", &[], 0);
    let admin_reports = token("org:admin", &["org:reports:read"], 0);

    assert_eq!(call(&app, "/any", Some(&admin)).await, (StatusCode::OK, "ok".to_owned()));
    assert_eq!(call(&app, "/any", Some(&biller)).await.0, StatusCode::OK);
    assert_eq!(call(&app, "/any", Some(&member)).await, (StatusCode::FORBIDDEN, "Forbidden".to_owned()));
    assert_eq!(call(&app, "/any", None).await.0, StatusCode::UNAUTHORIZED);

    assert_eq!(call(&app, "/all", Some(&admin)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "/all", Some(&biller)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "/all", Some(&admin_reports)).await.0, StatusCode::OK);

    assert_eq!(call(&app, "/billing-fresh", Some(&biller)).await.0, StatusCode::OK);
    let (status, body) = call(&app, "/billing-fresh", Some(&token("org:member", &["org:billing:manage"], 600))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["clerk_error"]["reason"], "reverification-error");
    assert_eq!(body["clerk_error"]["metadata"]["reverification"]["level"], "second_factor");
    let stale_member = token("org:member", &[], 600);
    assert_eq!(
        call(&app, "/billing-fresh", Some(&stale_member)).await,
        (StatusCode::FORBIDDEN, "Forbidden".to_owned())
    );
}

/// What a handler sees when it asks for every outcome.
async fn outcome(auth: Result<ClerkAuth, ClerkRejection>) -> String {
    match auth {
        Ok(auth) => format!("signed-in {}", auth.user_id()),
        Err(rejection) => match rejection.failure() {
            Some(failure) => format!("{} {}", rejection.status().as_u16(), failure.reason()),
            None => format!("{} signed-out", rejection.status().as_u16()),
        },
    }
}

#[actix_web::test]
async fn the_failure_reason_reaches_a_handler_that_asks() {
    let clerk = Emulator::start().await.unwrap();
    let uid = clerk.create_user("reason@example.com").unwrap();
    let app = test::init_service(App::new().wrap(local(&clerk).optional()).route("/who", web::get().to(outcome))).await;
    let valid = clerk.session_token(&uid).unwrap().mint();
    let expired = clerk.session_token(&uid).unwrap().expired(Duration::from_secs(60)).mint();
    let forged = clerk.session_token(&uid).unwrap().signed_by(clerk.foreign_key().unwrap()).mint();

    assert_eq!(call(&app, "/who", Some(&valid)).await.1, format!("signed-in {uid}"));
    assert_eq!(call(&app, "/who", Some(&expired)).await.1, "401 token-expired");
    assert_eq!(call(&app, "/who", Some(&forged)).await.1, "401 token-invalid-signature");
    assert_eq!(call(&app, "/who", Some("not-a-token")).await.1, "401 token-invalid");
    assert_eq!(call(&app, "/who", None).await.1, "401 signed-out");

    let client = clerk_api::Client::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(clerk_api::RetryPolicy::none())
        .build()
        .unwrap();
    let remote = Clerk::new(client.authenticator().unwrap().build().unwrap()).optional();
    let app = test::init_service(App::new().wrap(remote).route("/who", web::get().to(outcome))).await;
    clerk.faults().inject_times("/v1/jwks", Fault::Status(503), 1);
    assert_eq!(call(&app, "/who", Some(&valid)).await.1, "503 jwk-remote-failed-to-load");
}
