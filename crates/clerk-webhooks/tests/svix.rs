//! Signature verification against the Svix test vector (clerk-behaviour.md §6) and hostile variations of it.

// Helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use clerk_webhooks::{MAX_ID_BYTES, MAX_SIGNATURE_HEADER_BYTES, MAX_SIGNATURES, TestClock, Webhook, WebhookError};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SECRET_B64: &str = "C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const TIMESTAMP: u64 = 1_649_367_553;
const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
const SIGNATURE_B64: &str = "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

/// A verifier whose clock stands at `now` (seconds).
fn webhook_at(now: u64) -> Webhook {
    Webhook::new(SECRET).unwrap().clock(Arc::new(TestClock::at_secs(now)))
}

/// The vector's headers, under a naming convention (`svix` or `webhook`), with values replaced where given.
fn headers(prefix: &str, id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in [("id", id), ("timestamp", timestamp), ("signature", signature)] {
        let name = HeaderName::try_from(format!("{prefix}-{name}")).unwrap();
        h.insert(name, HeaderValue::from_str(value).unwrap());
    }
    h
}

fn svix(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    headers("svix", id, timestamp, signature)
}

fn vector() -> HeaderMap {
    svix(ID, &TIMESTAMP.to_string(), SIGNATURE)
}

#[test]
fn the_svix_vector_verifies() {
    let webhook = webhook_at(TIMESTAMP);
    assert_eq!(webhook.sign(ID, TIMESTAMP, BODY), SIGNATURE);
    let msg = webhook.verify(&vector(), BODY).unwrap();
    assert_eq!((msg.id(), msg.timestamp(), msg.body()), (ID, TIMESTAMP, BODY));
    let msg = webhook.verify_bytes(&vector(), bytes::Bytes::from_static(BODY)).unwrap();
    assert_eq!(msg.into_body(), BODY);
    let msg = webhook.verify_parts(ID, &TIMESTAMP.to_string(), SIGNATURE, BODY).unwrap();
    assert_eq!(msg.id(), ID);

    #[derive(serde::Deserialize)]
    struct Payload {
        email: String,
        username: String,
    }
    let payload: Payload = msg.parse().unwrap();
    assert_eq!((payload.email.as_str(), payload.username.as_str()), ("test@example.com", "test_user"));
    // The bare base64 secret is the same key.
    let bare = Webhook::new(SECRET_B64).unwrap().clock(Arc::new(TestClock::at_secs(TIMESTAMP)));
    bare.verify(&vector(), BODY).unwrap();
}

#[test]
fn tampering_with_anything_signed_fails() {
    let webhook = webhook_at(TIMESTAMP);
    let ts = TIMESTAMP.to_string();
    let tampered_body = br#"{"email":"test@example.com","username":"test_user2"}"#;
    assert_eq!(webhook.verify(&vector(), tampered_body).unwrap_err(), WebhookError::NoMatchingSignature);
    assert_eq!(webhook.verify(&vector(), b"").unwrap_err(), WebhookError::NoMatchingSignature);
    // Re-serialised JSON (a space added) is a different body.
    let reserialised = br#"{"email": "test@example.com","username":"test_user"}"#;
    assert_eq!(webhook.verify(&vector(), reserialised).unwrap_err(), WebhookError::NoMatchingSignature);
    let other_id = svix("msg_27UH4WbU6Z5A5EzD8u03UvzRbpK", &ts, SIGNATURE);
    assert_eq!(webhook.verify(&other_id, BODY).unwrap_err(), WebhookError::NoMatchingSignature);
    let other_ts = svix(ID, &(TIMESTAMP + 1).to_string(), SIGNATURE);
    assert_eq!(webhook.verify(&other_ts, BODY).unwrap_err(), WebhookError::NoMatchingSignature);
    // One bit of the signature flipped (t → u).
    let flipped = svix(ID, &ts, "v1,uZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    assert_eq!(webhook.verify(&flipped, BODY).unwrap_err(), WebhookError::NoMatchingSignature);
    // Truncated, not base64, empty after the version.
    for bad in [
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3",
        "v1,!!!",
        "v1,",
        "v1",
        "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ] {
        let h = svix(ID, &ts, bad);
        assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::NoMatchingSignature, "{bad}");
    }
    // Another secret.
    let other =
        Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap().clock(Arc::new(TestClock::at_secs(TIMESTAMP)));
    assert_eq!(other.verify(&vector(), BODY).unwrap_err(), WebhookError::NoMatchingSignature);
}

#[test]
fn timestamps_outside_the_tolerance_fail_either_way() {
    // Default tolerance: 300 s, the edge included.
    webhook_at(TIMESTAMP + 300).verify(&vector(), BODY).unwrap();
    assert_eq!(webhook_at(TIMESTAMP + 301).verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooOld);
    webhook_at(TIMESTAMP - 300).verify(&vector(), BODY).unwrap();
    assert_eq!(webhook_at(TIMESTAMP - 301).verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooNew);
    assert_eq!(webhook_at(TIMESTAMP + 86_400).verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooOld);

    // Milliseconds count: one millisecond past the edge fails.
    let clock = TestClock::at_secs(TIMESTAMP + 300);
    let webhook = Webhook::new(SECRET).unwrap().clock(Arc::new(clock.clone()));
    webhook.verify(&vector(), BODY).unwrap();
    clock.advance(Duration::from_millis(1));
    assert_eq!(webhook.verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooOld);

    // Configurable.
    let short = |now| webhook_at(now).tolerance(Duration::from_secs(10));
    short(TIMESTAMP + 10).verify(&vector(), BODY).unwrap();
    assert_eq!(short(TIMESTAMP + 11).verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooOld);
    short(TIMESTAMP - 10).verify(&vector(), BODY).unwrap();
    assert_eq!(short(TIMESTAMP - 11).verify(&vector(), BODY).unwrap_err(), WebhookError::TimestampTooNew);
    let long = webhook_at(TIMESTAMP + 3600).tolerance(Duration::from_secs(3600));
    long.verify(&vector(), BODY).unwrap();
    assert_eq!(long.timestamp_tolerance(), Duration::from_secs(3600));
    let exact = webhook_at(TIMESTAMP).tolerance(Duration::ZERO);
    exact.verify(&vector(), BODY).unwrap();
    assert_eq!(
        webhook_at(TIMESTAMP + 1).tolerance(Duration::ZERO).verify(&vector(), BODY).unwrap_err(),
        WebhookError::TimestampTooOld
    );

    // A stale timestamp is refused before the signature is looked at (as the Svix libraries do).
    let forged = svix(ID, &(TIMESTAMP - 1000).to_string(), "v1,AAAA");
    assert_eq!(webhook_at(TIMESTAMP).verify(&forged, BODY).unwrap_err(), WebhookError::TimestampTooOld);
}

#[test]
fn any_matching_v1_entry_passes_and_other_versions_are_ignored() {
    let webhook = webhook_at(TIMESTAMP);
    let ts = TIMESTAMP.to_string();
    let list = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,{SIGNATURE_B64} {SIGNATURE} v1,!!! v1a,x");
    webhook.verify(&svix(ID, &ts, &list), BODY).unwrap();
    // Extra spaces around and between entries.
    webhook.verify(&svix(ID, &ts, &format!("  v1,AAAA   {SIGNATURE}  ")), BODY).unwrap();
    // Without padding.
    webhook.verify(&svix(ID, &ts, SIGNATURE.trim_end_matches('=')), BODY).unwrap();
    // The right signature under another version is not a v1 signature.
    let v2_only = format!("v2,{SIGNATURE_B64} v1a,{SIGNATURE_B64} V1,{SIGNATURE_B64}");
    assert_eq!(webhook.verify(&svix(ID, &ts, &v2_only), BODY).unwrap_err(), WebhookError::NoMatchingSignature);
    // Only the first MAX_SIGNATURES entries are looked at.
    let mut many = vec!["v1,AAAA"; MAX_SIGNATURES - 1];
    many.push(SIGNATURE);
    webhook.verify(&svix(ID, &ts, &many.join(" ")), BODY).unwrap();
    many.insert(0, "v1,AAAA");
    assert_eq!(webhook.verify(&svix(ID, &ts, &many.join(" ")), BODY).unwrap_err(), WebhookError::NoMatchingSignature);
}

#[test]
fn standard_webhooks_header_names_are_accepted() {
    let webhook = webhook_at(TIMESTAMP);
    let h = headers("webhook", ID, &TIMESTAMP.to_string(), SIGNATURE);
    assert_eq!(webhook.verify(&h, BODY).unwrap().id(), ID);
    let h = headers("webhook", ID, &TIMESTAMP.to_string(), "v1,AAAA");
    assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::NoMatchingSignature);

    // The sets are not mixed: with `svix-id` present, the `svix-*` set is read.
    let mut mixed = headers("webhook", ID, &TIMESTAMP.to_string(), SIGNATURE);
    mixed.insert("svix-id", HeaderValue::from_static(ID));
    assert_eq!(webhook.verify(&mixed, BODY).unwrap_err(), WebhookError::MissingHeader("svix-timestamp"));
    // Missing headers are named after the set in use.
    let mut h = headers("webhook", ID, &TIMESTAMP.to_string(), SIGNATURE);
    h.remove("webhook-signature");
    assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::MissingHeader("webhook-signature"));
}

#[test]
fn missing_and_empty_headers_are_named() {
    let webhook = webhook_at(TIMESTAMP);
    assert_eq!(webhook.verify(&HeaderMap::new(), BODY).unwrap_err(), WebhookError::MissingHeader("svix-id"));
    for name in ["svix-id", "svix-timestamp", "svix-signature"] {
        let mut h = vector();
        h.remove(name);
        let err = webhook.verify(&h, BODY).unwrap_err();
        assert_eq!(err, WebhookError::MissingHeader(name));
        assert_eq!(err.to_string(), format!("missing webhook header `{name}`"));
        assert_eq!(err.reason(), "missing-header");
        let mut h = vector();
        h.insert(name, HeaderValue::from_static(""));
        assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::MissingHeader(name));
    }
    let h = svix(ID, &TIMESTAMP.to_string(), "   ");
    assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::MissingHeader("svix-signature"));
    assert_eq!(webhook.verify_parts("", "1", SIGNATURE, BODY).unwrap_err(), WebhookError::MissingHeader("svix-id"));
}

#[test]
fn malformed_timestamps_are_refused() {
    let webhook = webhook_at(TIMESTAMP);
    for bad in [
        "+1649367553",
        "-1649367553",
        "1649367553.0",
        " 1649367553",
        "1649367553 ",
        "1649367553\t",
        "1.649367553e9",
        "0x6250",
        "16493675५3",
        "99999999999999999999",
        "1649367553000000000",
        "abc",
    ] {
        assert_eq!(
            webhook.verify_parts(ID, bad, SIGNATURE, BODY).unwrap_err(),
            WebhookError::InvalidTimestamp,
            "{bad:?}"
        );
        if let Ok(value) = HeaderValue::from_str(bad) {
            let mut h = vector();
            h.insert("svix-timestamp", value);
            assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::InvalidTimestamp, "{bad:?}");
        }
    }
    // Not visible ASCII in the header.
    let mut h = vector();
    h.insert("svix-timestamp", HeaderValue::from_bytes(b"16493675\xff3").unwrap());
    assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::InvalidTimestamp);
    // Empty is missing.
    assert_eq!(
        webhook.verify_parts(ID, "", SIGNATURE, BODY).unwrap_err(),
        WebhookError::MissingHeader("svix-timestamp")
    );
    // Milliseconds instead of seconds: well-formed but far in the future.
    assert_eq!(webhook.verify_parts(ID, "1649367553000", SIGNATURE, BODY).unwrap_err(), WebhookError::TimestampTooNew);
    // Leading zeros are digits: the signature covers the string as sent.
    let padded = "01649367553";
    let sig = hmac_of(&format!("{ID}.{padded}."), BODY);
    webhook.verify_parts(ID, padded, &sig, BODY).unwrap();
}

/// The signature of a message whose signed prefix is `prefix`, computed independently of the crate.
fn hmac_of(prefix: &str, body: &[u8]) -> String {
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD.decode(SECRET_B64).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut data = prefix.as_bytes().to_vec();
    data.extend_from_slice(body);
    let tag = aws_lc_rs::hmac::sign(&key, &data);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag.as_ref()))
}

#[test]
fn sign_matches_an_independent_hmac() {
    let webhook = webhook_at(TIMESTAMP);
    assert_eq!(webhook.sign(ID, TIMESTAMP, BODY), hmac_of(&format!("{ID}.{TIMESTAMP}."), BODY));
    let h = webhook.sign_headers("msg_2", TIMESTAMP, b"{}").unwrap();
    assert_eq!(h["svix-id"], "msg_2");
    assert_eq!(h["svix-timestamp"], TIMESTAMP.to_string().as_str());
    webhook.verify(&h, b"{}").unwrap();
    assert_eq!(webhook.sign_headers("msg\n2", TIMESTAMP, b"{}").unwrap_err(), WebhookError::InvalidHeader("svix-id"));
    assert_eq!(webhook.sign_headers("", TIMESTAMP, b"{}").unwrap_err(), WebhookError::MissingHeader("svix-id"));
}

#[test]
fn oversized_input_is_refused_cheaply() {
    let ts = TIMESTAMP.to_string();
    let webhook = webhook_at(TIMESTAMP).max_body_bytes(BODY.len());
    assert_eq!(webhook.body_limit(), BODY.len());
    webhook.verify(&vector(), BODY).unwrap();
    let webhook = webhook_at(TIMESTAMP).max_body_bytes(BODY.len() - 1);
    let err = webhook.verify(&vector(), BODY).unwrap_err();
    assert_eq!(err, WebhookError::BodyTooLarge { limit: BODY.len() - 1 });
    assert_eq!(err.reason(), "body-too-large");
    // Refused even without headers: the size is checked first.
    assert_eq!(webhook.verify(&HeaderMap::new(), BODY).unwrap_err().reason(), "body-too-large");
    assert_eq!(webhook.verify_parts(ID, &ts, SIGNATURE, BODY).unwrap_err().reason(), "body-too-large");
    // Default: 1 MiB.
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(
        webhook_at(TIMESTAMP).verify(&vector(), &big).unwrap_err(),
        WebhookError::BodyTooLarge { limit: 1024 * 1024 }
    );

    let webhook = webhook_at(TIMESTAMP);
    let long_id = "m".repeat(MAX_ID_BYTES + 1);
    assert_eq!(
        webhook.verify(&svix(&long_id, &ts, SIGNATURE), BODY).unwrap_err(),
        WebhookError::InvalidHeader("svix-id")
    );
    let long_sig = format!("{} {SIGNATURE}", "v1,AAAA ".repeat(MAX_SIGNATURE_HEADER_BYTES / 8));
    assert_eq!(
        webhook.verify(&svix(ID, &ts, &long_sig), BODY).unwrap_err(),
        WebhookError::InvalidHeader("svix-signature")
    );
    let mut h = vector();
    h.insert("svix-signature", HeaderValue::from_bytes(b"v1,\xff").unwrap());
    assert_eq!(webhook.verify(&h, BODY).unwrap_err(), WebhookError::InvalidHeader("svix-signature"));
    // A huge v1 entry is not decoded.
    let huge = format!("v1,{}", "A".repeat(4000));
    assert_eq!(webhook.verify(&svix(ID, &ts, &huge), BODY).unwrap_err(), WebhookError::NoMatchingSignature);
}

#[test]
fn empty_and_malformed_secrets_are_refused() {
    for bad in [
        "",
        "whsec_",
        "whsec_!!!",
        "whsec_ C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD",
        "whsec_====",
        "=",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7o",
        "sk_test_abc",
    ] {
        let err = Webhook::new(bad).unwrap_err();
        assert_eq!(err, WebhookError::InvalidSecret, "{bad:?}");
        assert_eq!(err.reason(), "invalid-secret");
    }
    // Padding is required: a truncated secret is caught at construction.
    Webhook::new("whsec_dGVzdA==").unwrap();
    assert_eq!(Webhook::new("whsec_dGVzdA").unwrap_err(), WebhookError::InvalidSecret);
}

#[test]
fn errors_and_debug_never_show_the_secret_or_a_signature() {
    let webhook = webhook_at(TIMESTAMP);
    let debug = format!("{webhook:?}");
    assert!(debug.contains("[redacted]") && !debug.contains(SECRET_B64), "{debug}");
    let ts = TIMESTAMP.to_string();
    let mut errors = vec![
        Webhook::new(SECRET.trim_end_matches('D')).unwrap_err(),
        webhook.verify(&vector(), b"{\"email\":\"other\"}").unwrap_err(),
        webhook.verify(&svix(ID, &ts, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkx="), BODY).unwrap_err(),
        webhook.verify(&svix(ID, &ts, &"v1,tZ1I4 ".repeat(2000)), BODY).unwrap_err(),
    ];
    errors.push(webhook.verify(&svix(ID, "+1", SIGNATURE), BODY).unwrap_err());
    errors.push(webhook_at(TIMESTAMP + 999).verify(&vector(), BODY).unwrap_err());
    errors.push(webhook_at(TIMESTAMP).max_body_bytes(1).verify(&vector(), BODY).unwrap_err());
    let msg = webhook.verify(&vector(), BODY).unwrap();
    errors.push(msg.parse::<Vec<u32>>().unwrap_err());
    assert!(!format!("{msg:?}").contains("test@example.com"));
    for e in errors {
        let text = format!("{e} {e:?}");
        for needle in [SECRET_B64, SIGNATURE_B64, "tZ1I4", "test@example.com", "test_user"] {
            assert!(!text.contains(needle), "{text} contains {needle}");
        }
    }
}

#[test]
fn verify_event_decodes_after_verifying() {
    let webhook = webhook_at(TIMESTAMP);
    // The vector's body is JSON but not an event.
    let err = webhook.verify_event(&vector(), BODY).unwrap_err();
    assert_eq!(err.reason(), "invalid-payload");
    assert_eq!(err.to_string(), "invalid webhook payload: the body has no `type`");
    // Verification comes first.
    assert_eq!(webhook.verify_event(&vector(), b"{\"type\":\"x\"}").unwrap_err(), WebhookError::NoMatchingSignature);
}

/// Any of the six header names, or another.
fn header_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
    ])
}

/// Header values: random bytes a header may hold, or near misses of real values.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop::num::u8::ANY, 0..64),
        "[ -~]{0,64}".prop_map(String::into_bytes),
        "(v[0-9],[A-Za-z0-9+/=]{0,50} ?){0,40}".prop_map(String::into_bytes),
        "[0-9]{0,25}".prop_map(String::into_bytes),
        Just(SIGNATURE.as_bytes().to_vec()),
        Just(TIMESTAMP.to_string().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        entries in prop::collection::vec((header_name(), header_value()), 0..8),
        body in prop::collection::vec(prop::num::u8::ANY, 0..256),
        now in prop::num::u64::ANY,
    ) {
        let webhook = Webhook::new(SECRET).unwrap().clock(Arc::new(TestClock::at_secs(now / 1000)));
        let mut h = HeaderMap::new();
        for (name, value) in entries {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                h.append(name, value);
            }
        }
        match webhook.verify(&h, &body) {
            Ok(msg) => prop_assert_eq!(msg.body(), &body[..]),
            Err(e) => prop_assert!(!e.reason().is_empty()),
        }
        let _ = webhook.verify_event(&h, &body);
    }

    #[test]
    fn arbitrary_parts_never_panic(id in ".{0,40}", ts in ".{0,20}", sigs in ".{0,200}", body in ".{0,100}") {
        let webhook = webhook_at(TIMESTAMP);
        let _ = webhook.verify_parts(&id, &ts, &sigs, body.as_bytes());
        let _ = webhook.sign(&id, TIMESTAMP, body.as_bytes());
    }

    #[test]
    fn whatever_is_signed_verifies(
        id in "[A-Za-z0-9_]{1,40}",
        body in prop::collection::vec(prop::num::u8::ANY, 0..512),
        skew in -300i64..=300,
    ) {
        let now = TIMESTAMP.checked_add_signed(skew).unwrap();
        let webhook = webhook_at(now);
        let h = webhook.sign_headers(&id, TIMESTAMP, &body).unwrap();
        let msg = webhook.verify(&h, &body).unwrap();
        prop_assert_eq!(msg.id(), id.as_str());
    }
}
