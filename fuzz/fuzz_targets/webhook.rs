//! Webhooks (Svix / Standard Webhooks): arbitrary headers and body through `Webhook::verify` with a fixed secret and
//! a fixed clock. Nothing forged is accepted: whenever verification passes, an HMAC-SHA256 computed here over
//! `"{id}.{timestamp}.{body}"` must be among the `v1` entries of the signature header, and the timestamp within the
//! tolerance. A message signed here (with the input's id and body, the clock's time) must verify. Decoding the body
//! as a `WebhookEvent`, and its data as each event type's model, never panics.
//!
//! Input: header lines (`svix-id: …`), an empty line, the body (see `clerk_fuzz::headers`).
#![no_main]

use std::sync::{Arc, OnceLock};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use clerk_webhooks::{Event, EventType, TestClock, Webhook, WebhookEvent};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// The secret and the time of the Svix test vector (crates/clerk-webhooks/tests/svix.rs), so its message verifies.
const SECRET_B64: &str = "C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NOW: u64 = 1_649_367_553;
const TOLERANCE_SECS: u64 = 300;

/// Standard base64 with or without padding, trailing bits allowed: the most lenient reading of an entry, so that
/// the forgery check does not depend on the decoder under test.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn webhook() -> &'static (Webhook, hmac::Key) {
    static W: OnceLock<(Webhook, hmac::Key)> = OnceLock::new();
    W.get_or_init(|| {
        let webhook =
            Webhook::new(&format!("whsec_{SECRET_B64}")).expect("the secret").clock(Arc::new(TestClock::at_secs(NOW)));
        let key = hmac::Key::new(hmac::HMAC_SHA256, &STANDARD.decode(SECRET_B64).expect("base64"));
        (webhook, key)
    })
}

fn tag(key: &hmac::Key, id: &[u8], timestamp: &[u8], body: &[u8]) -> Vec<u8> {
    let mut ctx = hmac::Context::with_key(key);
    for part in [id, b".", timestamp, b".", body] {
        ctx.update(part);
    }
    ctx.sign().as_ref().to_vec()
}

/// A passing verification must rest on a true signature, of the headers of the convention `verify` documents.
fn check_accepted(headers: &HeaderMap, body: &[u8], id: &str, key: &hmac::Key) {
    let [id_name, ts_name, sig_name] = if !headers.contains_key("svix-id") && headers.contains_key("webhook-id") {
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
    } else {
        ["svix-id", "svix-timestamp", "svix-signature"]
    };
    let value = |name: &str| headers.get(name).unwrap_or_else(|| panic!("verified without {name}")).as_bytes();
    assert_eq!(id.as_bytes(), value(id_name));
    let timestamp = value(ts_name);
    let seconds: u64 = std::str::from_utf8(timestamp).ok().and_then(|t| t.parse().ok()).expect("a timestamp");
    assert!(seconds.abs_diff(NOW) <= TOLERANCE_SECS, "timestamp {seconds} outside the tolerance");
    let expected = tag(key, value(id_name), timestamp, body);
    let signed = value(sig_name)
        .split(|&b| b == b' ')
        .filter_map(|entry| entry.strip_prefix(b"v1,"))
        .any(|sig| LENIENT.decode(sig).is_ok_and(|sig| sig == expected));
    assert!(signed, "a message without a valid v1 signature verified");
}

fuzz_target!(|data: &[u8]| {
    let (webhook, key) = webhook();
    let (headers, body) = clerk_fuzz::headers(data);
    if let Ok(message) = webhook.verify(&headers, body) {
        check_accepted(&headers, body, message.id(), key);
        assert_eq!(message.body(), body);
        let _ = message.event();
    }

    // The same id and body, signed now: they must verify (an id `http` can carry, within the documented bounds).
    let id = headers.get("svix-id").and_then(|v| v.to_str().ok()).unwrap_or("msg_fuzz");
    if (1..=clerk_webhooks::MAX_ID_BYTES).contains(&id.len()) {
        let mut signed = HeaderMap::new();
        signed.insert("svix-id", HeaderValue::from_str(id).expect("header text"));
        signed.insert("svix-timestamp", HeaderValue::from(NOW));
        let sig = format!("v1,{}", STANDARD.encode(tag(key, id.as_bytes(), NOW.to_string().as_bytes(), body)));
        signed.insert("svix-signature", HeaderValue::from_str(&sig).expect("base64"));
        if let Err(e) = webhook.verify(&signed, body) {
            panic!("a correctly signed message was refused: {e}");
        }
    }

    // Decoding: the envelope, and the data as each type's model (the type picked by the body's length).
    let event = WebhookEvent::from_json("msg_fuzz", body);
    if let Ok(event) = &event {
        let _ = (event.event.event_type(), event.event.kind(), event.event.is_typed());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let kind = &EventType::ALL[body.len() % EventType::ALL.len()];
        let data = value.get("data").unwrap_or(&value);
        let _ = Event::decode(kind.as_str(), data);
    }
});
