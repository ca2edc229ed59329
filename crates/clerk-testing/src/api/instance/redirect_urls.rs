//! Redirect URLs: where the instance may send users back to (native app schemes included).

use serde_json::json;

use super::helpers::{get, remove, valid_url};
use crate::api::{Handled, list, ok, s};
use crate::errors::ApiError;
use crate::ids;
use crate::server::{Ctx, Reply};
use crate::store::Store;

pub(super) fn handle(store: &mut Store, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "CreateRedirectURL" => create_redirect_url(store, ctx),
        "GetRedirectURL" => get(&store.instance.redirect_urls, ctx.path("id"), "redirect URL").cloned().and_then(ok),
        "ListRedirectURLs" => list(ctx, store.instance.redirect_urls.values().cloned().collect()),
        "DeleteRedirectURL" => {
            remove(&mut store.instance.redirect_urls, ctx.path("id"), "redirect_url", "redirect URL")
        }
        _ => return None,
    };
    Some(r)
}

fn create_redirect_url(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let url = s(&ctx.json, "url").unwrap_or_default().trim().to_owned();
    if url.is_empty() {
        return Err(ApiError::param_missing("url"));
    }
    if !valid_url(&url) {
        return Err(ApiError::param_invalid("url", "is not a valid URL"));
    }
    if store.instance.redirect_urls.values().any(|r| r["url"] == url.as_str()) {
        return Err(ApiError::conflict("duplicate_record", "url", "This redirect URL already exists."));
    }
    let now = store.now_ms();
    let id = ids::new_id("ru");
    let v = json!({ "object": "redirect_url", "id": id, "url": url, "created_at": now, "updated_at": now });
    store.instance.redirect_urls.insert(id, v.clone());
    ok(v)
}
