//! A validator for the OpenAPI 3.0 schema subset Clerk's spec uses: `type`, `nullable`, `enum`, `properties`,
//! `required`, `additionalProperties`, `items`, `allOf`, `anyOf`, `oneOf`, `minimum`/`maximum`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`, and `$ref: '#/components/schemas/<Name>'`.
//!
//! The emulator checks every request against the spec with it, and tests check responses. `oneOf` is checked as
//! "at least one branch matches": several of Clerk's `oneOf`s have overlapping branches, which a strict check would
//! reject for valid data. `format` and `pattern` are not checked.

use serde_json::Value;

/// Resolves `#/components/schemas/<Name>` references.
pub trait SchemaResolver {
    /// The schema named `name`, if known.
    fn schema(&self, name: &str) -> Option<&Value>;
}

impl<S: std::hash::BuildHasher> SchemaResolver for std::collections::HashMap<String, Value, S> {
    fn schema(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl SchemaResolver for serde_json::Map<String, Value> {
    fn schema(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, as a JSON path (`$.email_addresses[0].id`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

const MAX_DEPTH: usize = 64;

/// Validates `value` against `schema`; an empty list means valid.
#[must_use]
pub fn validate(value: &Value, schema: &Value, resolver: &dyn SchemaResolver) -> Vec<Violation> {
    let mut out = Vec::new();
    check(value, schema, resolver, "$", 0, &mut out);
    out
}

fn push(out: &mut Vec<Violation>, path: &str, message: impl Into<String>) {
    out.push(Violation { path: path.to_owned(), message: message.into() });
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Resolves a `$ref` to the schema it names.
pub fn resolve<'a>(schema: &'a Value, resolver: &'a dyn SchemaResolver) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolver.schema(r.rsplit('/').next().unwrap_or(r)),
        None => Some(schema),
    }
}

fn check(
    value: &Value,
    schema: &Value,
    resolver: &dyn SchemaResolver,
    path: &str,
    depth: usize,
    out: &mut Vec<Violation>,
) {
    if depth > MAX_DEPTH {
        push(out, path, "schema nesting too deep");
        return;
    }
    let Some(schema) = resolve(schema, resolver) else {
        push(out, path, format!("unresolvable schema reference {}", schema["$ref"]));
        return;
    };
    let Some(obj) = schema.as_object() else { return };

    if value.is_null() {
        let nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
        let has_type = obj.contains_key("type");
        let enum_has_null = obj.get("enum").and_then(Value::as_array).is_some_and(|e| e.contains(&Value::Null));
        // A schema with no type and no composition accepts anything, null included.
        let composed = ["allOf", "anyOf", "oneOf", "$ref"].iter().any(|k| obj.contains_key(*k));
        if nullable || enum_has_null || (!has_type && !composed) {
            return;
        }
        if !has_type {
            // Composition: null passes if a branch accepts it.
            for key in ["anyOf", "oneOf"] {
                if let Some(branches) = obj.get(key).and_then(Value::as_array)
                    && branches.iter().any(|b| validate_inner(value, b, resolver, path, depth).is_empty())
                {
                    return;
                }
            }
        }
        push(out, path, "is null but the schema is not nullable");
        return;
    }

    if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(value, s, resolver, path, depth + 1, out);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = obj.get(key).and_then(Value::as_array) {
            let mut best: Option<Vec<Violation>> = None;
            let mut matched = false;
            for b in branches {
                let v = validate_inner(value, b, resolver, path, depth);
                if v.is_empty() {
                    matched = true;
                    break;
                }
                if best.as_ref().is_none_or(|x| v.len() < x.len()) {
                    best = Some(v);
                }
            }
            if !matched {
                push(out, path, format!("matches no branch of {key}"));
                if let Some(b) = best {
                    out.extend(b);
                }
            }
        }
    }

    if let Some(t) = obj.get("type").and_then(Value::as_str) {
        let actual = type_name(value);
        let ok = actual == t || (t == "number" && actual == "integer");
        if !ok {
            push(out, path, format!("expected {t}, found {actual}"));
            return;
        }
    }

    if let Some(en) = obj.get("enum").and_then(Value::as_array)
        && !en.contains(value)
    {
        push(out, path, format!("{value} is not one of the allowed values"));
    }

    match value {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = obj.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                push(out, path, format!("{x} is below the minimum {min}"));
            }
            if let Some(max) = obj.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                push(out, path, format!("{x} is above the maximum {max}"));
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = obj.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                push(out, path, format!("shorter than {min} characters"));
            }
            if let Some(max) = obj.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                push(out, path, format!("longer than {max} characters"));
            }
        }
        Value::Array(items) => {
            if let Some(min) = obj.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                push(out, path, format!("fewer than {min} items"));
            }
            if let Some(max) = obj.get("maxItems").and_then(Value::as_u64)
                && (items.len() as u64) > max
            {
                push(out, path, format!("more than {max} items"));
            }
            if let Some(item_schema) = obj.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, resolver, &format!("{path}[{i}]"), depth + 1, out);
                }
            }
        }
        Value::Object(map) => {
            let props = obj.get("properties").and_then(Value::as_object);
            if let Some(required) = obj.get("required").and_then(Value::as_array) {
                for r in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        push(out, &format!("{path}.{r}"), "is required");
                    }
                }
            }
            for (k, v) in map {
                let child = format!("{path}.{k}");
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    check(v, ps, resolver, &child, depth + 1, out);
                } else {
                    match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => push(out, &child, "is not allowed"),
                        Some(s @ Value::Object(_)) => check(v, s, resolver, &child, depth + 1, out),
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
}

fn validate_inner(
    value: &Value,
    schema: &Value,
    resolver: &dyn SchemaResolver,
    path: &str,
    depth: usize,
) -> Vec<Violation> {
    let mut v = Vec::new();
    check(value, schema, resolver, path, depth + 1, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> serde_json::Map<String, Value> {
        json!({
            "Email": {"type": "object", "additionalProperties": false, "required": ["id", "email_address"],
                      "properties": {"id": {"type": "string"}, "email_address": {"type": "string"},
                                     "verified": {"type": "boolean", "nullable": true}}},
            "User": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "emails": {"type": "array", "items": {"$ref": "#/components/schemas/Email"}},
                "status": {"type": "string", "enum": ["active", "banned"]},
                "age": {"type": "integer", "minimum": 0},
                "any": {},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn accepts_valid_and_names_violations() {
        let r = schemas();
        let user = json!({"$ref": "#/components/schemas/User"});
        let ok = json!({"id": "u", "emails": [{"id": "e", "email_address": "a@b.c", "verified": null}],
                        "status": "active", "age": 3, "any": null, "either": 5});
        assert_eq!(validate(&ok, &user, &r), vec![]);

        let bad = json!({"emails": [{"id": 1, "email_address": "x", "extra": true}], "status": "gone", "age": -1.5,
                         "either": true});
        let v: Vec<String> = validate(&bad, &user, &r).iter().map(ToString::to_string).collect();
        assert!(v.contains(&"$.id: is required".to_owned()), "{v:?}");
        assert!(v.contains(&"$.emails[0].id: expected string, found integer".to_owned()), "{v:?}");
        assert!(v.contains(&"$.emails[0].extra: is not allowed".to_owned()), "{v:?}");
        assert!(v.iter().any(|m| m.starts_with("$.status:")), "{v:?}");
        assert!(v.iter().any(|m| m.starts_with("$.age: expected integer")), "{v:?}");
        assert!(v.iter().any(|m| m.starts_with("$.either: matches no branch")), "{v:?}");
    }

    #[test]
    fn null_needs_nullable_and_refs_must_resolve() {
        let r = schemas();
        assert!(!validate(&Value::Null, &json!({"type": "string"}), &r).is_empty());
        assert!(validate(&Value::Null, &json!({"type": "string", "nullable": true}), &r).is_empty());
        assert!(!validate(&json!(1), &json!({"$ref": "#/components/schemas/Nope"}), &r).is_empty());
    }

    #[test]
    fn recursive_schemas_terminate() {
        let r: serde_json::Map<String, Value> =
            json!({"Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}})
                .as_object()
                .cloned()
                .unwrap();
        let mut v = json!({});
        for _ in 0..100 {
            v = json!({ "next": v });
        }
        let out = validate(&v, &json!({"$ref": "#/components/schemas/Node"}), &r);
        assert!(out.iter().any(|x| x.message.contains("too deep")));
    }
}
