//! Typed events against Clerk's webhooks spec, read at run time from `../shared/clerk-spec/` (never copied into the
//! repository): every event type of the spec decodes into its typed variant, from the spec's own example and from
//! payloads synthesised from the schema; nothing is lost on the way.
//!
//! About the examples: all 45 event types of `webhooks-2025-04-15.yml` have one. 27 are inline (`example:`); the 18
//! `session.*`, `subscription.*` and `subscriptionItem.*` ones are `examples: {default: {$ref:
//! '#/components/examples/…'}}`, resolved here. On top of the examples, `every_event_type_decodes_from_its_schema`
//! synthesises two payloads per event type from the schema alone (written in this file, see [`Synth`]): a minimal one
//! (required properties only, `null` wherever the schema allows it) and a full one (every property, with the
//! property-level `example` value where the spec has one of the right JSON type, else a placeholder per type). So a
//! type without an example would still be covered.

// Helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use clerk_webhooks::models::{SessionStatus, User};
use clerk_webhooks::{Event, EventType, TestClock, Webhook, WebhookEvent};
use serde_json::{Map, Value, json};

/// The webhooks spec, as JSON.
fn spec() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/clerk-spec/webhooks-2025-04-15.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(spec: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("not a local ref: {reference}"));
    spec.pointer(pointer).unwrap_or_else(|| panic!("cannot resolve {reference}"))
}

/// Every event type: `(type, request media object)`, in the spec's order.
fn event_types(spec: &Value) -> Vec<(String, &Value)> {
    let hooks = spec["x-webhooks"].as_object().unwrap();
    hooks
        .iter()
        .map(|(name, item)| (name.clone(), &item["post"]["requestBody"]["content"]["application/json"]))
        .collect()
}

/// An event's example payload: inline `example`, else the first of `examples` (resolving `$ref`s).
fn example<'a>(spec: &'a Value, media: &'a Value) -> Option<&'a Value> {
    if let Some(example) = media.get("example") {
        return Some(example);
    }
    let first = media.get("examples")?.as_object()?.values().next()?;
    let first = match first.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(spec, reference),
        None => first,
    };
    first.get("value")
}

/// A value without its `null` members (a `null` decodes to `None`, which is not written back).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Asserts that an event's data decoded into its typed variant and that the typed model, written back, is the data.
fn assert_typed_and_lossless(event_type: &str, data: &Value, event: &Event, what: &str) {
    assert!(event.is_typed(), "{what}: `{event_type}` did not decode into its typed variant: {event:#?}");
    assert_eq!(event.event_type(), event_type, "{what}");
    assert_eq!(event.kind().as_str(), event_type, "{what}");
    assert!(!matches!(event.kind(), EventType::Unknown(_)), "{what}");
    let written = event.__data_json().unwrap();
    assert_eq!(without_nulls(&written), without_nulls(data), "{what}: `{event_type}` lost or changed data");
}

#[test]
fn every_event_type_decodes_from_its_spec_example() {
    let spec = spec();
    let types = event_types(&spec);
    let mut checked = BTreeSet::new();
    for (event_type, media) in &types {
        let example = example(&spec, media).unwrap_or_else(|| panic!("`{event_type}` has no example"));
        assert_eq!(example["type"], event_type.as_str());
        let body = serde_json::to_vec(example).unwrap();
        let event = WebhookEvent::from_json("msg_test", &body).unwrap();
        assert_eq!(event.id, "msg_test");
        assert_eq!(&event.event_type, event_type);
        assert_eq!(event.raw, *example);
        assert_eq!(event.timestamp_ms, example["timestamp"].as_i64());
        assert_eq!(event.instance_id.as_deref(), example["instance_id"].as_str());
        if let Some(attributes) = example.get("event_attributes") {
            let attributes_back = serde_json::to_value(event.attributes.as_ref().unwrap()).unwrap();
            assert_eq!(without_nulls(&attributes_back), without_nulls(attributes));
        }
        assert_typed_and_lossless(event_type, &example["data"], &event.event, "spec example");
        assert!(checked.insert(event_type.clone()), "`{event_type}` listed twice");
    }
    assert_eq!(checked.len(), types.len());
    assert_eq!(checked.len(), 45, "the spec's event type count changed: regenerate and review");
    // The generated enum lists exactly the spec's types.
    let generated: BTreeSet<String> = EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(generated, checked);
}

#[test]
fn spec_examples_decode_into_the_documented_types() {
    let spec = spec();
    let mut seen = 0;
    for (event_type, media) in event_types(&spec) {
        let data = &example(&spec, media).unwrap()["data"];
        let event = Event::decode(&event_type, data);
        // The variant's type is the one the spec names for `data` (a component), or an inline-schema type.
        let schema = data_schema(&media["schema"]).unwrap();
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let component = reference.rsplit('/').next().unwrap();
            let rust = Event::__data_type(&event_type).unwrap();
            assert_eq!(rust.to_ascii_lowercase(), component.to_ascii_lowercase(), "{event_type}");
            seen += 1;
        }
        match (&*event_type, &event) {
            ("user.created", Event::UserCreated(user)) => {
                assert!(user.id.as_str().starts_with("user_"));
                assert_eq!(user.first_name.as_deref(), Some("John"));
                assert!(user.email_addresses.is_empty() && user.password_enabled);
            }
            ("session.created", Event::SessionCreated(session)) => {
                assert_eq!(session.status, SessionStatus::Active);
                assert!(session.user_id.as_str().starts_with("user_"));
            }
            ("organizationInvitation.created", Event::OrganizationInvitationCreated(invitation)) => {
                assert_eq!(invitation.email_address, "jane.doe@acme.com");
            }
            ("user.deleted", Event::UserDeleted(deleted)) => assert!(deleted.deleted),
            _ => {}
        }
    }
    assert!(seen >= 40, "{seen}");
}

/// The `data` property schema of an event's request schema.
fn data_schema(schema: &Value) -> Option<&Value> {
    if let Some(data) = schema.get("properties").and_then(|p| p.get("data")) {
        return Some(data);
    }
    schema.get("allOf")?.as_array()?.iter().find_map(data_schema)
}

/// Builds JSON values from schemas.
struct Synth<'a> {
    spec: &'a Value,
    /// Required properties only, `null` where allowed (else every property, example values preferred).
    minimal: bool,
}

impl Synth<'_> {
    /// A value for a schema.
    fn value(&self, schema: &Value, depth: usize) -> Value {
        assert!(depth < 32, "schema nesting too deep (cycle?)");
        let schema = self.flatten(schema);
        if self.minimal && schema.get("nullable") == Some(&Value::Bool(true)) {
            return Value::Null;
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object).filter(|p| !p.is_empty()) {
            let required: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (name, prop) in props {
                if !self.minimal || required.contains(name.as_str()) {
                    out.insert(name.clone(), self.value(prop, depth + 1));
                }
            }
            return Value::Object(out);
        }
        if let Some(variants) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            return self.value(&variants[0], depth + 1);
        }
        let example = schema.get("example").filter(|_| !self.minimal);
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => match schema.get("enum").and_then(Value::as_array) {
                Some(values) => values[0].clone(),
                None => example.filter(|e| e.is_string()).cloned().unwrap_or_else(|| json!("x")),
            },
            Some("integer") => example.filter(|e| e.is_i64()).cloned().unwrap_or_else(|| json!(1_716_883_200_000_i64)),
            Some("number") => example.filter(|e| e.is_number()).cloned().unwrap_or_else(|| json!(0.5)),
            Some("boolean") => example.filter(|e| e.is_boolean()).cloned().unwrap_or(Value::Bool(true)),
            Some("array") if self.minimal => json!([]),
            Some("array") => json!([self.value(&schema["items"], depth + 1)]),
            Some("object") => json!({}),
            None => json!({"free": "form"}),
            Some(other) => panic!("unsupported type {other}"),
        }
    }

    /// A schema with its `$ref` resolved and its `allOf` parts merged (properties, `required`, `nullable`).
    fn flatten(&self, schema: &Value) -> Value {
        let mut out = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let mut target = self.flatten(resolve(self.spec, reference));
                if schema.get("nullable") == Some(&Value::Bool(true)) {
                    target["nullable"] = Value::Bool(true);
                }
                return target;
            }
            None => schema.as_object().cloned().unwrap_or_default(),
        };
        if let Some(parts) = out.remove("allOf").and_then(|p| p.as_array().cloned()) {
            let mut props = out.remove("properties").and_then(|p| p.as_object().cloned()).unwrap_or_default();
            let mut required: Vec<Value> =
                out.remove("required").and_then(|r| r.as_array().cloned()).unwrap_or_default();
            for part in &parts {
                let part = self.flatten(part);
                if let Some(p) = part.get("properties").and_then(Value::as_object) {
                    for (k, v) in p {
                        props.insert(k.clone(), v.clone());
                    }
                }
                if let Some(r) = part.get("required").and_then(Value::as_array) {
                    required.extend(r.iter().cloned());
                }
                for key in ["type", "oneOf", "anyOf"] {
                    if let (Some(v), false) = (part.get(key), out.contains_key(key)) {
                        out.insert(key.to_owned(), v.clone());
                    }
                }
            }
            if !props.is_empty() {
                out.insert("properties".to_owned(), Value::Object(props));
            }
            out.insert("required".to_owned(), Value::Array(required));
        }
        Value::Object(out)
    }
}

#[test]
fn every_event_type_decodes_from_its_schema() {
    let spec = spec();
    let types = event_types(&spec);
    let mut checked = 0;
    for (event_type, media) in &types {
        let data_schema = data_schema(&media["schema"]).unwrap();
        for minimal in [true, false] {
            let synth = Synth { spec: &spec, minimal };
            let data = synth.value(data_schema, 0);
            assert!(data.is_object(), "{event_type}: {data}");
            let event = Event::decode(event_type, &data);
            let what = if minimal { "minimal synthesised payload" } else { "full synthesised payload" };
            assert_typed_and_lossless(event_type, &data, &event, what);
        }
        checked += 1;
    }
    assert_eq!(checked, types.len());
    assert_eq!(checked, EventType::ALL.len());
}

#[test]
fn unknown_event_types_are_kept_not_refused() {
    let body = br#"{"object":"event","type":"foo.bar","timestamp":1716883200000,"instance_id":"ins_1",
        "data":{"anything":[1,2,{"x":null}]}}"#;
    let event = WebhookEvent::from_json("msg_1", body).unwrap();
    assert_eq!(event.event_type, "foo.bar");
    assert_eq!(event.timestamp_ms, Some(1_716_883_200_000));
    assert_eq!(event.instance_id.as_deref(), Some("ins_1"));
    let Event::Unknown { event_type, data } = &event.event else { panic!("{event:?}") };
    assert_eq!(event_type, "foo.bar");
    assert_eq!(data, &json!({"anything": [1, 2, {"x": null}]}));
    assert_eq!(event.event.kind(), EventType::Unknown("foo.bar".to_owned()));
    assert_eq!(event.event.event_type(), "foo.bar");
    assert!(!event.event.is_typed());
}

#[test]
fn unknown_fields_and_enum_values_are_kept() {
    let spec = spec();
    let media = event_types(&spec).into_iter().find(|(t, _)| t == "session.created").unwrap().1;
    let mut payload = example(&spec, media).unwrap().clone();
    payload["data"]["status"] = json!("brand_new_status");
    payload["data"]["brand_new_field"] = json!({"nested": true});
    payload["data"]["user"]["another_new_field"] = json!(42);
    payload["brand_new_envelope_field"] = json!("kept in raw");
    let event = WebhookEvent::from_value("msg_1", payload.clone()).unwrap();
    let Event::SessionCreated(session) = &event.event else { panic!("{:?}", event.event) };
    assert_eq!(session.status, SessionStatus::Unknown("brand_new_status".to_owned()));
    assert_eq!(session.extra["brand_new_field"], json!({"nested": true}));
    assert_eq!(session.user.extra["another_new_field"], json!(42));
    assert_eq!(event.raw["brand_new_envelope_field"], "kept in raw");
    assert_eq!(without_nulls(&event.event.__data_json().unwrap()), without_nulls(&payload["data"]));
}

#[test]
fn a_known_type_with_a_foreign_shape_is_undecoded_not_lost() {
    let data = json!({"id": "user_1", "object": "user", "email_addresses": "not-a-list"});
    let event = Event::decode("user.created", &data);
    let Event::Undecoded { event_type, data: kept, error } = &event else { panic!("{event:?}") };
    assert_eq!(event_type, "user.created");
    assert_eq!(kept, &data);
    assert!(error.starts_with("data"), "{error}");
    assert!(!error.contains("not-a-list"), "{error}");
    assert_eq!(event.kind(), EventType::UserCreated);
}

#[test]
fn a_signed_event_round_trips_through_verify_event() {
    let spec = spec();
    let media = event_types(&spec).into_iter().find(|(t, _)| t == "user.created").unwrap().1;
    // The spec's example, serialised once: these exact bytes are signed and verified.
    let body = serde_json::to_vec(example(&spec, media).unwrap()).unwrap();
    let now = 1_716_883_200;
    let webhook =
        Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap().clock(Arc::new(TestClock::at_secs(now)));
    let signature = webhook.sign("msg_2ZwJvv1lPgf2Ef4bTjTqgmZ9Gyd", now, &body);
    let mut headers = http::HeaderMap::new();
    headers.insert("svix-id", "msg_2ZwJvv1lPgf2Ef4bTjTqgmZ9Gyd".parse().unwrap());
    headers.insert("svix-timestamp", now.to_string().parse().unwrap());
    headers.insert("svix-signature", signature.parse().unwrap());

    let event = webhook.verify_event(&headers, &body).unwrap();
    assert_eq!(event.id, "msg_2ZwJvv1lPgf2Ef4bTjTqgmZ9Gyd");
    let Event::UserCreated(user) = &event.event else { panic!("{:?}", event.event) };
    let user: &User = user;
    assert!(user.id.as_str().starts_with("user_"));

    // The same through a VerifiedMessage.
    let msg = webhook.verify(&headers, &body).unwrap();
    assert_eq!(msg.event().unwrap(), event);
    // A single changed byte of the body is refused before any decoding.
    let mut altered = body.clone();
    let at = altered.windows(4).position(|w| w == b"John").unwrap();
    altered[at] = b'j';
    assert_eq!(webhook.verify_event(&headers, &altered).unwrap_err().reason(), "no-matching-signature");
}
