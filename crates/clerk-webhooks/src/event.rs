//! The event envelope: `{data, object: "event", type, timestamp, instance_id, event_attributes}`.

use serde::Deserialize as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{PayloadError, WebhookError, missing_field};
use crate::generated::Event;
use crate::generated::models::EventAttributes;

/// A verified webhook event: the envelope's fields and the typed [`Event`].
///
/// Decoding is lenient by design (a webhook that fails to decode is lost, or retried in vain): an unknown event type
/// is [`Event::Unknown`], data that does not fit its type's model is [`Event::Undecoded`], envelope fields of an
/// unexpected shape are `None`, and [`WebhookEvent::raw`] always holds the whole payload as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The message id (`svix-id`): the same on every retry of a message, so the key to process each event once.
    pub id: String,
    /// The event's `type` (`user.created`), as sent.
    pub event_type: String,
    /// When the event happened (`timestamp`), in milliseconds since the Unix epoch.
    pub timestamp_ms: Option<i64>,
    /// The Clerk instance it comes from (`instance_id`).
    pub instance_id: Option<String>,
    /// The request that caused the event (`event_attributes`), when Clerk sends it.
    pub attributes: Option<EventAttributes>,
    /// The event's data, typed by its type.
    pub event: Event,
    /// The whole payload, as received.
    pub raw: Value,
}

impl WebhookEvent {
    /// Decodes an event from a JSON body **without verifying anything**: for bodies already verified (for example
    /// by [`crate::VerifiedMessage::body`]), stored events and tests. `id` is the message id (`svix-id`).
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when the body is not a JSON object with a string `type`.
    pub fn from_json(id: impl Into<String>, body: &[u8]) -> Result<Self, WebhookError> {
        let raw: Value =
            serde_json::from_slice(body).map_err(|e| WebhookError::InvalidPayload(PayloadError::from_json(&e)))?;
        Self::from_value(id, raw)
    }

    /// [`WebhookEvent::from_json`] for a payload already parsed.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when the payload is not an object with a string `type`.
    pub fn from_value(id: impl Into<String>, raw: Value) -> Result<Self, WebhookError> {
        let object = raw.as_object().ok_or_else(|| invalid("is not a JSON object"))?;
        let event_type = match object.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => return Err(invalid("has a `type` that is not a string")),
            None => return Err(invalid("has no `type`")),
        };
        let timestamp_ms = object.get("timestamp").and_then(Value::as_i64);
        let instance_id = object.get("instance_id").and_then(Value::as_str).map(str::to_owned);
        // Attributes of an unexpected shape are `None` (they stay in `raw`).
        let attributes = object.get("event_attributes").and_then(|a| EventAttributes::deserialize(a).ok());
        let event = Event::decode(&event_type, object.get("data").unwrap_or(&Value::Null));
        Ok(Self { id: id.into(), event_type, timestamp_ms, instance_id, attributes, event, raw })
    }
}

/// An [`WebhookError::InvalidPayload`].
fn invalid(detail: &str) -> WebhookError {
    WebhookError::InvalidPayload(PayloadError::new(detail))
}

/// Decodes `data` into a known type's model: the typed variant, or [`Event::Undecoded`] (data kept) with the path
/// where decoding stopped and what was wrong, quoting no value.
pub(crate) fn typed<T: DeserializeOwned>(event_type: &str, data: &Value, wrap: fn(Box<T>) -> Event) -> Event {
    match serde_path_to_error::deserialize::<_, T>(data) {
        Ok(value) => wrap(Box::new(value)),
        Err(e) => {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let what = match missing_field(&message) {
                Some(field) => format!("missing field `{field}`"),
                None if message.starts_with("invalid type: null") => "unexpected null".to_owned(),
                None => "unexpected type or value".to_owned(),
            };
            let error = if path == "." { format!("data: {what}") } else { format!("data.{path}: {what}") };
            Event::Undecoded { event_type: event_type.to_owned(), data: data.clone(), error }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_that_are_not_events_are_refused() {
        for (body, detail) in [
            (&b"[]"[..], "is not a JSON object"),
            (b"{}", "has no `type`"),
            (b"{\"type\": 1}", "has a `type` that is not a string"),
        ] {
            match WebhookEvent::from_json("msg_1", body) {
                Err(WebhookError::InvalidPayload(p)) => assert_eq!(p.detail(), detail),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(WebhookEvent::from_json("msg_1", b"{").unwrap_err().reason(), "invalid-payload");
    }

    #[test]
    fn known_types_with_data_of_the_wrong_shape_are_kept_undecoded() {
        let body = br#"{"type": "user.deleted", "data": {"object": "user", "deleted": "yes-secret"}}"#;
        let event = WebhookEvent::from_json("msg_1", body).unwrap();
        let Event::Undecoded { event_type, data, error } = &event.event else { panic!("{event:?}") };
        assert_eq!(event_type, "user.deleted");
        assert_eq!(data["deleted"], "yes-secret");
        assert_eq!(error, "data.deleted: unexpected type or value");
        assert!(!event.event.is_typed());
        assert_eq!(event.event.event_type(), "user.deleted");

        let event = WebhookEvent::from_json("msg_1", br#"{"type": "user.deleted", "data": {"id": "u"}}"#).unwrap();
        let Event::Undecoded { error, .. } = &event.event else { panic!("{event:?}") };
        assert_eq!(error, "data: missing field `object`");

        let event = WebhookEvent::from_json("msg_1", br#"{"type": "user.deleted"}"#).unwrap();
        let Event::Undecoded { error, data, .. } = &event.event else { panic!("{event:?}") };
        assert_eq!((error.as_str(), data), ("data: unexpected null", &Value::Null));
    }

    #[test]
    fn odd_envelope_fields_are_none_not_errors() {
        let body = br#"{"type": "foo.bar", "timestamp": "soon", "instance_id": 7, "event_attributes": []}"#;
        let event = WebhookEvent::from_json("msg_1", body).unwrap();
        assert_eq!((event.timestamp_ms, event.instance_id, event.attributes), (None, None, None));
    }
}
