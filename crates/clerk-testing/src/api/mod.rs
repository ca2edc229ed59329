//! The in-memory Backend API: one module per group of resources, each answering the operations it knows.

pub(crate) mod instance;
pub(crate) mod machine;
pub(crate) mod orgs;
pub(crate) mod users;

use serde_json::{Map, Value, json};

use crate::Shared;
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};
use crate::spec::Operation;

/// What a module's `handle` returns: `None` when the operation is not its own.
pub(crate) type Handled = Option<Result<Reply, ApiError>>;

/// Dispatches a routed, validated request to the module that owns its operation.
pub(crate) fn handle(shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let mut store = shared.lock_store();
    if let Some(r) = users::handle(&mut store, shared, ctx) {
        return r;
    }
    if let Some(r) = orgs::handle(&mut store, shared, ctx) {
        return r;
    }
    if let Some(r) = instance::handle(&mut store, shared, ctx) {
        return r;
    }
    if let Some(r) = machine::handle(&mut store, shared, ctx) {
        return r;
    }
    Err(ApiError::not_implemented(ctx.op.id))
}

/// `200` with a JSON body.
pub(crate) fn ok(v: Value) -> Result<Reply, ApiError> {
    Ok(Reply::Json(200, v))
}

/// The `DeletedObject` answer.
pub(crate) fn deleted(object: &str, id: &str) -> Value {
    json!({ "object": object, "id": id, "deleted": true })
}

/// Whether the operation's 200 answer is the `{data, total_count}` envelope (always, or with `paginated=true`).
fn wants_envelope(op: &Operation, ctx: &Ctx) -> bool {
    let Some(schema) = op.responses.iter().find(|r| r.status == 200).and_then(|r| r.schema) else { return false };
    let parsed: Value = serde_json::from_str(schema).unwrap_or(Value::Null);
    let resolved = crate::validate::resolve(&parsed, crate::server::resolver()).cloned().unwrap_or(Value::Null);
    if resolved.get("properties").and_then(|p| p.get("total_count")).is_some() {
        return true;
    }
    ctx.query_bool("paginated") == Some(true)
}

/// Applies `order_by`, `offset` and `limit` (default 10, 1..=500) and answers in the operation's list shape: a bare
/// array, or `{data, total_count}` when the spec says so or `paginated=true` was asked.
pub(crate) fn list(ctx: &Ctx, mut items: Vec<Value>) -> Result<Reply, ApiError> {
    sort(&mut items, ctx.query_one("order_by").unwrap_or("-created_at"))?;
    let total = items.len();
    let has_limit = ctx.op.params.iter().any(|p| p.name == "limit");
    let limit = usize::try_from(ctx.query_int("limit").unwrap_or(10)).unwrap_or(10);
    let offset = usize::try_from(ctx.query_int("offset").unwrap_or(0)).unwrap_or(0);
    let page: Vec<Value> = if has_limit { items.into_iter().skip(offset).take(limit).collect() } else { items };
    if wants_envelope(ctx.op, ctx) { ok(json!({ "data": page, "total_count": total })) } else { ok(Value::Array(page)) }
}

/// Sorts by `[+|-]field` (`-created_at` newest first). Unknown fields are rejected, as Clerk does.
pub(crate) fn sort(items: &mut [Value], order_by: &str) -> Result<(), ApiError> {
    let (desc, field) = match order_by.as_bytes().first() {
        Some(b'-') => (true, &order_by[1..]),
        Some(b'+') => (false, &order_by[1..]),
        _ => (false, order_by),
    };
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(ApiError::param_invalid("order_by", "not a sortable field"));
    }
    let key = |v: &Value| -> (i64, String) {
        match v.get(field) {
            Some(Value::Number(n)) => (n.as_i64().unwrap_or(0), String::new()),
            Some(Value::String(s)) => (0, s.to_lowercase()),
            _ => (0, String::new()),
        }
    };
    items.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let ord =
            ka.cmp(&kb).then_with(|| a["created_at"].as_i64().unwrap_or(0).cmp(&b["created_at"].as_i64().unwrap_or(0)));
        if desc { ord.reverse() } else { ord }
    });
    Ok(())
}

/// Deep-merges `patch` into `target`: objects merge recursively, `null` deletes a key, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if let Some(existing) = t.get_mut(k)
                    && existing.is_object()
                    && v.is_object()
                {
                    merge(existing, v);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// A string field of the request body, if present and a string.
pub(crate) fn s<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// A JSON object field of the request body, or `{}`.
pub(crate) fn obj(body: &Value, key: &str) -> Value {
    body.get(key).filter(|v| v.is_object()).cloned().unwrap_or_else(|| Value::Object(Map::new()))
}

/// Copies the listed fields present in `body` into `target` (a `null` sets null).
pub(crate) fn copy_fields(target: &mut Value, body: &Value, fields: &[&str]) {
    for f in fields {
        if let Some(v) = body.get(*f) {
            target[*f] = v.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_deep_with_null_deletion() {
        let mut t = json!({"a": 1, "nested": {"x": 1, "y": 2}, "gone": true});
        merge(&mut t, &json!({"nested": {"y": null, "z": 3}, "gone": null, "b": [1]}));
        assert_eq!(t, json!({"a": 1, "nested": {"x": 1, "z": 3}, "b": [1]}));
    }

    #[test]
    fn sort_orders() {
        let mut items = vec![json!({"created_at": 2, "n": "b"}), json!({"created_at": 1, "n": "A"})];
        sort(&mut items, "-created_at").unwrap();
        assert_eq!(items[0]["created_at"], 2);
        sort(&mut items, "+n").unwrap();
        assert_eq!(items[0]["n"], "A");
        assert!(sort(&mut items, "-created_at;drop").is_err());
    }
}
