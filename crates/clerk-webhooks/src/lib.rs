//! # clerk-webhooks
//!
//! Verify [Clerk](https://clerk.com) webhooks and decode them into typed events, in any Rust program, with no web
//! framework. Clerk delivers webhooks through Svix: each request carries `svix-id`, `svix-timestamp` and
//! `svix-signature` headers, and the signature is an HMAC-SHA256 of `"{id}.{timestamp}.{raw body}"` under the
//! endpoint's signing secret (`whsec_…`, from the Clerk Dashboard). The [Standard Webhooks] header names
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`) are accepted too.
//!
//! ```
//! use std::sync::Arc;
//! use clerk_webhooks::{Event, TestClock, Webhook, WebhookError};
//!
//! # fn main() -> Result<(), WebhookError> {
//! // In production: Webhook::new(&std::env::var("CLERK_WEBHOOK_SIGNING_SECRET")?)?, with the system clock.
//! let clock = TestClock::at_secs(1_700_000_000);
//! let webhook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?.clock(Arc::new(clock));
//!
//! // What Clerk would send (the body is verified byte for byte: never re-serialise it).
//! let body = br#"{"object":"event","type":"user.deleted","timestamp":1700000000000,
//!     "instance_id":"ins_123","data":{"object":"user","id":"user_29w83sxmDNGwOuEthce5gg56FcC","deleted":true}}"#;
//! let headers = webhook.sign_headers("msg_2ZwJvv1lPgf2Ef4bTjTqgmZ9Gyd", 1_700_000_000, body)?;
//!
//! let event = webhook.verify_event(&headers, body)?;
//! assert_eq!(event.id, "msg_2ZwJvv1lPgf2Ef4bTjTqgmZ9Gyd"); // the same on every retry: deduplicate on it
//! match &event.event {
//!     Event::UserDeleted(deleted) => assert_eq!(deleted.id.as_deref(), Some("user_29w83sxmDNGwOuEthce5gg56FcC")),
//!     Event::UserCreated(user) => println!("welcome {}", user.id),
//!     other => println!("ignoring {}", other.event_type()),
//! }
//!
//! // A forged or altered request is refused, with a stable reason code for logs.
//! let err = webhook.verify(&headers, br#"{"type":"user.deleted","data":{}}"#).unwrap_err();
//! assert_eq!(err.reason(), "no-matching-signature");
//! # Ok(()) }
//! ```
//!
//! ## What it does
//!
//! - **Verification** ([`Webhook`]): the secret is decoded once into an aws-lc-rs HMAC key; the timestamp must be
//!   integer seconds within a tolerance of now (5 minutes either way by default, [`Webhook::tolerance`], injectable
//!   [`Clock`]); every `v1` entry of the signature header is compared in constant time and any match passes. Bodies
//!   over [`Webhook::max_body_bytes`] (1 MiB by default) and oversized headers are refused before any hashing.
//! - **Errors** ([`WebhookError`]) carry a stable [`WebhookError::reason`] code and never quote the secret, a
//!   signature or the body.
//! - **Typed events** ([`WebhookEvent`], [`Event`]): one variant per event type of Clerk's webhooks spec
//!   (`webhooks-2025-04-15`), its data decoded into a model generated from the spec by `cargo xtask codegen`.
//!   Decoding never loses an event: unknown types are [`Event::Unknown`], data that does not fit its model is
//!   [`Event::Undecoded`], models keep unknown fields in `extra` and unknown enum values in `Unknown(..)`, and
//!   [`WebhookEvent::raw`] holds the payload as received. Or decode the verified body into your own type with
//!   [`VerifiedMessage::parse`].
//!
//! Deduplicate on [`WebhookEvent::id`] / [`VerifiedMessage::id`] (the `svix-id`): Svix retries failed deliveries with
//! the same id, and does not guarantee order.
//!
//! A handler that matches only the typed variants it cares about skips [`Event::Undecoded`] silently: match it (or
//! check [`Event::is_typed`]) to log or refuse events whose data this version of the SDK could not decode.
//!
//! ## Features
//!
//! | feature | what it adds | default |
//! |---|---|---|
//! | (none) | no optional parts; `clerk-core` is used without its HTTP transport ([`Clock`], id newtypes) | — |
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod event;
mod macros;
mod verify;

mod generated;

pub use clerk_core::{Clock, OrganizationId, SessionId, SystemClock, TestClock, UserId};
pub use error::{PayloadError, WebhookError};
pub use event::WebhookEvent;
pub use generated::models::EventAttributes;
pub use generated::{Event, EventType, models};
pub use verify::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_TOLERANCE, MAX_ID_BYTES, MAX_SIGNATURE_HEADER_BYTES, MAX_SIGNATURES,
    SIGNING_SECRET_ENV, VerifiedMessage, Webhook,
};
