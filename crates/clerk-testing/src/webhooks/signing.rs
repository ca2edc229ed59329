//! Signing the Svix way: `v1,` + base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")), with a `whsec_` secret.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::WebhookError;

pub(super) const SECRET_PREFIX: &str = "whsec_";

/// The `svix-signature` value for a delivery: `v1,` + base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")),
/// where the key is the base64-decoded part of `secret` after `whsec_`.
///
/// # Errors
/// [`WebhookError::InvalidSecret`] when `secret` is not `whsec_` + non-empty standard base64.
pub fn sign_webhook(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    Ok(signature(&decode_secret(secret)?, msg_id, timestamp, body))
}

pub(super) fn decode_secret(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).ok_or(WebhookError::InvalidSecret)?;
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(WebhookError::InvalidSecret),
    }
}

pub(super) fn signature(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}
