//! The Svix app: the instance's webhook portal, created, linked to and deleted through the Backend API.

use serde_json::json;

use crate::api::{Handled, ok};
use crate::errors::ApiError;
use crate::ids;
use crate::server::{Ctx, Reply};
use crate::store::Store;

pub(super) fn handle(store: &mut Store, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "CreateSvixApp" => {
            if store.instance.svix_app.is_some() {
                return Some(Err(ApiError::new(
                    400,
                    "svix_app_exists",
                    "Svix app already exists",
                    "A Svix app already exists for this instance.",
                )));
            }
            let app = ids::new_id("app");
            let url = svix_url(&app);
            store.instance.svix_app = Some(app);
            ok(json!({ "svix_url": url }))
        }
        "GenerateSvixAuthURL" => match &store.instance.svix_app {
            Some(app) => ok(json!({ "svix_url": svix_url(app) })),
            None => Err(svix_missing()),
        },
        "DeleteSvixApp" => match store.instance.svix_app.take() {
            Some(_) => Ok(Reply::Empty(204)),
            None => Err(svix_missing()),
        },
        _ => return None,
    };
    Some(r)
}

fn svix_url(app: &str) -> String {
    format!("https://app.svix.com/app-portal/{app}/login#key={}", ids::random_base62(40))
}

fn svix_missing() -> ApiError {
    ApiError::new(400, "svix_app_missing", "Svix app missing", "This instance has no Svix app; create one first.")
}
