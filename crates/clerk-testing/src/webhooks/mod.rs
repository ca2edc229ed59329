//! Webhooks: endpoints, the events the emulator's own state changes raise, signed delivery with retries, and a
//! delivery log for tests.
//!
//! How events are found: once an endpoint is registered, the emulator keeps a shadow copy of its users, sessions,
//! organizations and memberships. Every time the store lock is released (after a Backend API request or a Rust
//! helper such as [`Emulator::create_user`]), the store is compared with the shadow, still under the lock, and each
//! difference becomes an event. So every path that changes the state raises its events, in the order the changes
//! happened, and no handler needs to remember to.
//!
//! Signing uses RustCrypto's `hmac` and `sha2`, independently of the SDK's own verifier (`aws-lc-rs`), so the SDK is
//! never tested only against itself.
//!
//! The parts: `error` (what can go wrong), `endpoint` (where events go), `config` (how they are delivered),
//! `signing` (the Svix signature), `origin` (the request a change came from), `changes` (the store guard and the
//! shadow it compares the store with), `hub` (endpoints, their queues, publishing), `sender` (posting and retrying),
//! `delivery` (the record of every attempt that tests read), `raw` (hand-made requests) and `emulator` (the methods
//! of the emulator and its builder).

mod changes;
mod config;
mod delivery;
mod emulator;
mod endpoint;
mod error;
mod hub;
mod origin;
mod raw;
mod sender;
mod signing;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(doc)]
use crate::Emulator;

pub(crate) use changes::StoreGuard;
pub(crate) use config::Options;
pub use config::WebhookDeliveryConfig;
pub use delivery::{WebhookAttempt, WebhookDelivery, WebhookDeliveryState};
pub use endpoint::{WebhookEndpoint, WebhookEndpointConfig};
pub use error::WebhookError;
pub(crate) use hub::Hub;
pub(crate) use origin::{Origin, with_origin};
pub use raw::RawWebhook;
pub use signing::sign_webhook;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use serde_json::json;

    use super::changes::{USER_ACTIVITY_FIELDS, eq_except};
    use super::endpoint::check_url;
    use super::signing::decode_secret;

    #[test]
    fn signature_matches_the_standard_webhooks_vector() {
        let sig = sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        // One byte of the body changed: another signature.
        let other = sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_usex"}"#,
        )
        .unwrap();
        assert_ne!(other, sig);
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        for bad in ["C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_", "whsec_***", "whsec"] {
            assert!(matches!(decode_secret(bad), Err(WebhookError::InvalidSecret)), "{bad}");
        }
        assert_eq!(decode_secret("whsec_AAEC").unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(check_url("http://127.0.0.1:9/hooks").is_ok());
        for bad in ["https://127.0.0.1/x", "ftp://h/x", "/hooks", "http:///x", "not a url"] {
            assert!(matches!(check_url(bad), Err(WebhookError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WebhookDeliveryConfig::new().backoff(Duration::from_millis(10)).max_backoff(Duration::from_millis(35));
        let waits: Vec<_> = (1..=5).map(|n| c.backoff_after(n).as_millis()).collect();
        assert_eq!(waits, [10, 20, 35, 35, 35]);
        assert_eq!(WebhookDeliveryConfig::new().max_attempts(0).max_attempts, 1);
    }

    #[test]
    fn objects_compare_without_activity_fields() {
        let a = json!({"id": "u", "last_active_at": 1, "first_name": "A"});
        assert!(eq_except(&a, &json!({"id": "u", "last_active_at": 2, "first_name": "A"}), USER_ACTIVITY_FIELDS));
        assert!(!eq_except(&a, &json!({"id": "u", "last_active_at": 1, "first_name": "B"}), USER_ACTIVITY_FIELDS));
        assert!(!eq_except(&a, &json!({"id": "u", "first_name": "A", "extra": 1}), USER_ACTIVITY_FIELDS));
    }

    #[tokio::test]
    async fn seeded_hubs_generate_the_same_endpoints() {
        let make = || {
            Hub::new("ins_x".into(), Some(7), Options::default())
                .unwrap()
                .register(WebhookEndpointConfig::new("http://127.0.0.1:9/h"))
                .unwrap()
        };
        let (a, b) = (make(), make());
        assert_eq!(a, b);
        assert!(a.id().starts_with("ep_"));
        let key = decode_secret(a.secret()).unwrap();
        assert_eq!(key.len(), 24);
        let unseeded = Hub::new("ins_x".into(), None, Options::default()).unwrap();
        let c = unseeded.register(WebhookEndpointConfig::new("http://127.0.0.1:9/h")).unwrap();
        assert_ne!(c.secret(), a.secret());
        assert!(!format!("{a:?}").contains(a.secret()));
    }
}
