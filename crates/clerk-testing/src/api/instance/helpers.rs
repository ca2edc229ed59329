//! What the instance-level modules share: lookups in a resource map that answer Clerk's not-found error, reading and
//! copying request-body fields, the `{data, total_count}` envelope, and the URL, host name and email address checks.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Shared;
use crate::api::{deleted, ok};
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};

pub(super) fn get<'a>(map: &'a BTreeMap<String, Value>, id: &str, what: &str) -> Result<&'a Value, ApiError> {
    map.get(id).ok_or_else(|| ApiError::not_found(what))
}

pub(super) fn get_mut<'a>(
    map: &'a mut BTreeMap<String, Value>,
    id: &str,
    what: &str,
) -> Result<&'a mut Value, ApiError> {
    map.get_mut(id).ok_or_else(|| ApiError::not_found(what))
}

pub(super) fn remove(map: &mut BTreeMap<String, Value>, id: &str, object: &str, what: &str) -> Result<Reply, ApiError> {
    match map.remove(id) {
        Some(_) => ok(deleted(object, id)),
        None => Err(ApiError::not_found(what)),
    }
}

/// Copies the listed fields that are present and not `null` (a `null` in a PATCH leaves the value as it is).
pub(super) fn set_given(target: &mut Value, body: &Value, fields: &[&str]) {
    for f in fields {
        if let Some(v) = body.get(*f).filter(|v| !v.is_null()) {
            target[*f] = v.clone();
        }
    }
}

/// Sets every field of `fields` on `target`, `null`s included.
pub(super) fn assign(target: &mut Value, fields: &Value) {
    for (k, v) in fields.as_object().into_iter().flatten() {
        target[k.as_str()] = v.clone();
    }
}

/// A non-null boolean field of the body.
pub(super) fn flag(body: &Value, key: &str) -> Option<bool> {
    body.get(key).and_then(Value::as_bool)
}

/// The `{data, total_count}` envelope with `default_order` when no `order_by` is given.
pub(super) fn envelope(ctx: &Ctx, mut items: Vec<Value>, default_order: &str) -> Result<Reply, ApiError> {
    crate::api::sort(&mut items, ctx.query_one("order_by").unwrap_or(default_order))?;
    let total = items.len();
    let limit = usize::try_from(ctx.query_int("limit").unwrap_or(10)).unwrap_or(10);
    let offset = usize::try_from(ctx.query_int("offset").unwrap_or(0)).unwrap_or(0);
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    ok(json!({ "data": page, "total_count": total }))
}

/// `scheme://rest`, no whitespace: what Clerk accepts as a redirect or callback URL (native schemes included).
pub(super) fn valid_url(u: &str) -> bool {
    let Some((scheme, rest)) = u.split_once("://") else { return false };
    !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !u.contains(char::is_whitespace)
}

/// An `http(s)://host[:port]` origin without a path.
pub(super) fn valid_origin(u: &str) -> bool {
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains(char::is_whitespace))
}

/// A lowercase DNS name with at least two labels.
pub(super) fn valid_hostname(h: &str) -> bool {
    h.len() <= 253
        && h.contains('.')
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

pub(super) fn valid_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains('@') && valid_hostname(&domain.to_ascii_lowercase())
    }) && !e.contains(char::is_whitespace)
}

/// The host the emulator's Frontend API answers on (`127.0.0.1:PORT`).
pub(super) fn frontend_host(shared: &Shared) -> String {
    let url = shared.issuer();
    url.split_once("://").map_or(url.clone(), |(_, h)| h.to_owned())
}
