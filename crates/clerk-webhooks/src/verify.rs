//! Signature verification (Svix / Standard Webhooks).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use clerk_core::{Clock, SystemClock};
use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::error::{PayloadError, WebhookError};
use crate::event::WebhookEvent;

/// The environment variable [`Webhook::from_env`] reads: the endpoint's signing secret, as Clerk's SDKs name it.
pub const SIGNING_SECRET_ENV: &str = "CLERK_WEBHOOK_SIGNING_SECRET";

/// How far a timestamp may be from now, either way, unless [`Webhook::tolerance`] says otherwise: 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// The largest body accepted unless [`Webhook::max_body_bytes`] says otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// How many entries of a signature header are looked at; later ones are ignored.
pub const MAX_SIGNATURES: usize = 32;
/// The longest id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 1024;
/// The longest signature header accepted, in bytes.
pub const MAX_SIGNATURE_HEADER_BYTES: usize = 8 * 1024;
/// The most digits a timestamp may have (15 digits of seconds reach far beyond the year 30000).
const MAX_TIMESTAMP_DIGITS: usize = 15;
/// The secret's prefix.
const SECRET_PREFIX: &str = "whsec_";
/// The longest signature entry decoded (an HMAC-SHA256 is 44 base64 characters).
const MAX_SIGNATURE_CHARS: usize = 128;

/// Standard base64, padding optional on decode, written with padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard base64 with canonical padding, for the secret.
const STANDARD_PADDED: GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The header names of one convention.
#[derive(Debug, Clone, Copy)]
struct Names {
    /// The message id.
    id: &'static str,
    /// The timestamp.
    timestamp: &'static str,
    /// The signatures.
    signature: &'static str,
}

/// Svix's names (what Clerk sends).
const SVIX: Names = Names { id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature" };
/// The Standard Webhooks names.
const STANDARD: Names = Names { id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature" };

/// Verifies Clerk webhooks: one per signing secret (the endpoint's `whsec_…` from the Clerk Dashboard), cheap to
/// clone and to share.
///
/// ```
/// use std::time::Duration;
/// use clerk_webhooks::Webhook;
///
/// let webhook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?
///     .tolerance(Duration::from_secs(60))
///     .max_body_bytes(256 * 1024);
/// assert_eq!(webhook.body_limit(), 256 * 1024);
/// # Ok::<(), clerk_webhooks::WebhookError>(())
/// ```
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Webhook {
    key: hmac::Key,
    tolerance: Duration,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("key", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Webhook {
    /// A verifier for a signing secret: `whsec_` followed by standard base64, padded (the bare base64 is accepted
    /// too, as the Svix libraries do). The key is the decoded bytes.
    ///
    /// Defaults: a tolerance of [`DEFAULT_TOLERANCE`] (5 minutes), a body limit of [`DEFAULT_MAX_BODY_BYTES`]
    /// (1 MiB), the system clock.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidSecret`] when the secret is empty, is not base64 after the prefix, or decodes to no
    /// bytes.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        if encoded.is_empty() {
            return Err(WebhookError::InvalidSecret);
        }
        // Padding is required here (unlike in signatures): a truncated secret is caught now, not by every
        // verification failing later.
        let key = STANDARD_PADDED.decode(encoded).map_err(|_| WebhookError::InvalidSecret)?;
        if key.is_empty() {
            return Err(WebhookError::InvalidSecret);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            tolerance: DEFAULT_TOLERANCE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Arc::new(SystemClock),
        })
    }

    /// The verifier for the signing secret in `CLERK_WEBHOOK_SIGNING_SECRET` ([`SIGNING_SECRET_ENV`]), the variable
    /// Clerk's SDKs read, trimmed; with the defaults of [`new`](Self::new). `Ok(None)` when the variable is unset or
    /// blank, so an app can leave its webhook route out.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidSecret`] when the variable is set but is not a signing secret (see [`new`](Self::new)).
    pub fn from_env() -> Result<Option<Self>, WebhookError> {
        Self::from_env_value(std::env::var(SIGNING_SECRET_ENV).ok().as_deref())
    }

    fn from_env_value(value: Option<&str>) -> Result<Option<Self>, WebhookError> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(secret) => Self::new(secret).map(Some),
        }
    }

    /// How far the timestamp may be from now, in the past or in the future (default [`DEFAULT_TOLERANCE`], 5
    /// minutes). A timestamp exactly at the edge passes. Compared in milliseconds.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The clock timestamps are compared with (default: the system clock). Tests use [`clerk_core::TestClock`].
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY_BYTES`], 1 MiB): framework extractors stop
    /// reading there and answer `413`; verification refuses a larger body with [`WebhookError::BodyTooLarge`].
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The largest body accepted, in bytes (see [`Webhook::max_body_bytes`]).
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.max_body_bytes
    }

    /// The timestamp tolerance (see [`Webhook::tolerance`]).
    #[must_use]
    pub fn timestamp_tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Verifies a request's headers and raw body (the exact bytes received: re-serialised JSON does not verify).
    ///
    /// Headers: the Svix set (`svix-id`, `svix-timestamp`, `svix-signature`, what Clerk sends), unless `svix-id` is
    /// absent and `webhook-id` present: then the Standard Webhooks set (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`). The sets are never mixed. Of a repeated header, the first value counts.
    ///
    /// Checks, in order: body size; the three headers present; the timestamp's syntax; the timestamp within the
    /// tolerance of now; a `v1` signature matching HMAC-SHA256(key, `"{id}.{timestamp}.{body}"`), compared in
    /// constant time. Entries of other versions are ignored; any `v1` match passes.
    ///
    /// # Errors
    ///
    /// Every [`WebhookError`] but [`WebhookError::InvalidSecret`] and [`WebhookError::InvalidPayload`].
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<VerifiedMessage, WebhookError> {
        let (id, timestamp) = self.verify_headers(headers, body)?;
        Ok(VerifiedMessage { id, timestamp, body: Bytes::copy_from_slice(body) })
    }

    /// [`Webhook::verify`] for a body already in [`Bytes`] (what framework extractors hold): no copy.
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`].
    pub fn verify_bytes(&self, headers: &HeaderMap, body: Bytes) -> Result<VerifiedMessage, WebhookError> {
        let (id, timestamp) = self.verify_headers(headers, &body)?;
        Ok(VerifiedMessage { id, timestamp, body })
    }

    /// Verifies, then decodes the body into a [`WebhookEvent`]: [`Webhook::verify`] and [`VerifiedMessage::event`]
    /// in one call, without copying the body.
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`], and [`WebhookError::InvalidPayload`] when the verified body is not an event.
    pub fn verify_event(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        let (id, _) = self.verify_headers(headers, body)?;
        WebhookEvent::from_json(id, body)
    }

    /// Verifies the three values directly, when they do not come in an [`http::HeaderMap`]: the message id, the
    /// timestamp (seconds, as sent) and the signature header (space-separated `v1,<base64>` entries). Errors name
    /// the `svix-*` headers.
    ///
    /// # Errors
    ///
    /// As [`Webhook::verify`].
    pub fn verify_parts(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
    ) -> Result<VerifiedMessage, WebhookError> {
        let timestamp = self.check(SVIX, id, timestamp, signatures, body)?;
        Ok(VerifiedMessage { id: id.to_owned(), timestamp, body: Bytes::copy_from_slice(body) })
    }

    /// The signature header value for a message: `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`. For
    /// tests and emulators that play Clerk's part; verification never needs it.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp_secs: u64, body: &[u8]) -> String {
        let tag = self.tag(id, &timestamp_secs.to_string(), body);
        format!("v1,{}", BASE64.encode(tag.as_ref()))
    }

    /// The three `svix-*` headers of a signed message, as Clerk sends them (see [`Webhook::sign`]).
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidHeader`] when the id cannot be a header value (or is longer than [`MAX_ID_BYTES`]);
    /// [`WebhookError::MissingHeader`] when it is empty.
    pub fn sign_headers(&self, id: &str, timestamp_secs: u64, body: &[u8]) -> Result<HeaderMap, WebhookError> {
        check_id(SVIX, id)?;
        let id_value = HeaderValue::from_str(id).map_err(|_| WebhookError::InvalidHeader(SVIX.id))?;
        let signature = HeaderValue::from_str(&self.sign(id, timestamp_secs, body))
            .map_err(|_| WebhookError::InvalidHeader(SVIX.signature))?;
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(SVIX.id, id_value);
        headers.insert(SVIX.timestamp, HeaderValue::from(timestamp_secs));
        headers.insert(SVIX.signature, signature);
        Ok(headers)
    }

    /// Reads the headers of one convention and checks them; answers the id and the timestamp.
    fn verify_headers(&self, headers: &HeaderMap, body: &[u8]) -> Result<(String, u64), WebhookError> {
        let names = if !headers.contains_key(SVIX.id) && headers.contains_key(STANDARD.id) { STANDARD } else { SVIX };
        // Checked first so an oversized body is refused before anything else is looked at.
        self.check_size(body)?;
        let id = header(headers, names.id)?;
        let timestamp = match headers.get(names.timestamp) {
            None => return Err(WebhookError::MissingHeader(names.timestamp)),
            Some(v) => v.to_str().map_err(|_| WebhookError::InvalidTimestamp)?,
        };
        let signatures = header(headers, names.signature)?;
        let timestamp = self.check(names, id, timestamp, signatures, body)?;
        Ok((id.to_owned(), timestamp))
    }

    /// Refuses a body over the limit.
    fn check_size(&self, body: &[u8]) -> Result<(), WebhookError> {
        if body.len() > self.max_body_bytes {
            return Err(WebhookError::BodyTooLarge { limit: self.max_body_bytes });
        }
        Ok(())
    }

    /// Every check, in order; answers the timestamp.
    fn check(
        &self,
        names: Names,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
    ) -> Result<u64, WebhookError> {
        self.check_size(body)?;
        check_id(names, id)?;
        if timestamp.is_empty() {
            return Err(WebhookError::MissingHeader(names.timestamp));
        }
        let seconds = parse_timestamp(timestamp)?;
        if signatures.trim_matches(' ').is_empty() {
            return Err(WebhookError::MissingHeader(names.signature));
        }
        if signatures.len() > MAX_SIGNATURE_HEADER_BYTES {
            return Err(WebhookError::InvalidHeader(names.signature));
        }
        self.check_time(seconds)?;
        let expected = self.tag(id, timestamp, body);
        let matched = signatures
            .split(' ')
            .filter(|entry| !entry.is_empty())
            .take(MAX_SIGNATURES)
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, signature)| *version == "v1" && signature.len() <= MAX_SIGNATURE_CHARS)
            .filter_map(|(_, signature)| BASE64.decode(signature).ok())
            // Every candidate is compared (no early exit on the first match).
            .fold(false, |found, candidate| {
                constant_time::verify_slices_are_equal(expected.as_ref(), &candidate).is_ok() | found
            });
        if matched { Ok(seconds) } else { Err(WebhookError::NoMatchingSignature) }
    }

    /// Checks the timestamp against the clock and the tolerance.
    fn check_time(&self, seconds: u64) -> Result<(), WebhookError> {
        let now = self.clock.now_millis();
        let sent = seconds.saturating_mul(1000);
        let tolerance = u64::try_from(self.tolerance.as_millis()).unwrap_or(u64::MAX);
        if now.saturating_sub(sent) > tolerance {
            return Err(WebhookError::TimestampTooOld);
        }
        if sent.saturating_sub(now) > tolerance {
            return Err(WebhookError::TimestampTooNew);
        }
        Ok(())
    }

    /// HMAC-SHA256(key, `"{id}.{timestamp}.{body}"`), fed in parts (the body is not copied).
    fn tag(&self, id: &str, timestamp: &str, body: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.as_bytes());
        ctx.update(b".");
        ctx.update(body);
        ctx.sign()
    }
}

/// A header's value: present, non-empty and visible ASCII.
fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, WebhookError> {
    let value = headers.get(name).ok_or(WebhookError::MissingHeader(name))?;
    let value = value.to_str().map_err(|_| WebhookError::InvalidHeader(name))?;
    if value.is_empty() {
        return Err(WebhookError::MissingHeader(name));
    }
    Ok(value)
}

/// The id: non-empty and bounded.
fn check_id(names: Names, id: &str) -> Result<(), WebhookError> {
    if id.is_empty() {
        return Err(WebhookError::MissingHeader(names.id));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(WebhookError::InvalidHeader(names.id));
    }
    Ok(())
}

/// Strict integer seconds: 1 to 15 ASCII digits, nothing else.
fn parse_timestamp(value: &str) -> Result<u64, WebhookError> {
    if value.is_empty() || value.len() > MAX_TIMESTAMP_DIGITS || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookError::InvalidTimestamp);
    }
    value.parse().map_err(|_| WebhookError::InvalidTimestamp)
}

/// A message whose signature checked out: its id, timestamp and raw body.
///
/// The id (`svix-id`) is the same on every retry of a message: use it to process each message once.
#[derive(Clone)]
pub struct VerifiedMessage {
    id: String,
    timestamp: u64,
    body: Bytes,
}

impl fmt::Debug for VerifiedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedMessage")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl VerifiedMessage {
    /// The message id (`svix-id`): stable across retries, the key to deduplicate on.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The signed timestamp, in seconds since the Unix epoch.
    #[must_use]
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The raw body, as verified.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The raw body, as verified.
    #[must_use]
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// Decodes the body as JSON into any type.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when it is not JSON of that shape (the error quotes nothing from the body).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        serde_json::from_slice(&self.body).map_err(|e| WebhookError::InvalidPayload(PayloadError::from_json(&e)))
    }

    /// Decodes the body into a [`WebhookEvent`].
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidPayload`] when the body is not a JSON object with a string `type`. An unknown type,
    /// or data that does not fit its type's model, is not an error (see [`crate::Event`]).
    pub fn event(&self) -> Result<WebhookEvent, WebhookError> {
        WebhookEvent::from_json(self.id.clone(), &self.body)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn from_env_value_skips_blank_and_checks_the_rest() {
        assert!(Webhook::from_env_value(None).unwrap().is_none());
        assert!(Webhook::from_env_value(Some("  ")).unwrap().is_none());
        let w = Webhook::from_env_value(Some(" whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n")).unwrap();
        assert!(w.is_some_and(|w| w.body_limit() == DEFAULT_MAX_BODY_BYTES));
        assert_eq!(Webhook::from_env_value(Some("whsec_")).unwrap_err(), WebhookError::InvalidSecret);
        assert_eq!(Webhook::from_env_value(Some("not base64!")).unwrap_err(), WebhookError::InvalidSecret);
    }

    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Webhook>();
        check::<VerifiedMessage>();
        check::<WebhookError>();
        check::<WebhookEvent>();
        check::<crate::Event>();
    }

    #[test]
    fn timestamps_are_strict() {
        assert_eq!(parse_timestamp("1649367553"), Ok(1_649_367_553));
        assert_eq!(parse_timestamp("0"), Ok(0));
        for bad in ["", "+1", "-1", " 1", "1 ", "1.0", "1e3", "0x10", "１", "9999999999999999"] {
            assert_eq!(parse_timestamp(bad), Err(WebhookError::InvalidTimestamp), "{bad:?}");
        }
    }

    #[test]
    fn secrets_with_and_without_prefix_give_the_same_key() {
        let a = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let b = Webhook::new("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(a.sign("id", 1, b"x"), b.sign("id", 1, b"x"));
    }

    #[test]
    fn signing_feeds_the_parts_like_one_string() {
        let w = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let whole = hmac::sign(&key, b"msg_1.123.{\"a\":1}");
        assert_eq!(w.sign("msg_1", 123, b"{\"a\":1}"), format!("v1,{}", BASE64.encode(whole.as_ref())));
    }
}
