//! Opaque machine tokens (API keys `ak_…`, M2M tokens `mt_…`, OAuth access tokens `oat_…`) verified by the Backend
//! API.
//!
//! A valid answer is never cached: a revoked key or token must be refused on the very next request. JWT forms are
//! verified locally by [`Verifier::verify_machine_jwt`](clerk_core::Verifier::verify_machine_jwt).

use clerk_core::{MachineAuth, TokenType};
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::request::{Req, RequestOptions};

/// Why an opaque machine token was not verified. [`code`](Self::code) gives the code Clerk's JavaScript SDK uses
/// (`MachineTokenVerificationErrorCode`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MachineVerifyError {
    /// The token has no opaque machine prefix (`ak_`, `mt_`, `oat_`); nothing was sent. JWT forms are verified
    /// locally ([`Verifier::verify_machine_jwt`](clerk_core::Verifier::verify_machine_jwt)).
    #[error("not an opaque machine token (expected an ak_, mt_ or oat_ prefix)")]
    NotOpaque,
    /// Clerk says the token is not valid: unknown, revoked or expired (`404`, or a `200` saying so), or malformed
    /// (`400`, `422`).
    #[error("the Backend API refused the token ({token_type})")]
    Invalid {
        /// The kind of token refused.
        token_type: TokenType,
    },
    /// The Backend API refused the secret key (`401`, `403`): a configuration problem, not the token's.
    #[error("the Clerk Backend API refused the secret key")]
    SecretKeyInvalid(#[source] Error),
    /// The Backend API could not judge the token: unreachable, timed out, `429` or `5xx`.
    #[error("the Clerk Backend API could not verify the token")]
    Unavailable(#[source] Error),
    /// A `2xx` answer that is not a verification object this SDK understands.
    #[error("the Clerk Backend API answered with an unexpected verification object")]
    UnexpectedResponse,
}

impl MachineVerifyError {
    /// The JS SDK's code: `token-invalid` ([`NotOpaque`](Self::NotOpaque), [`Invalid`](Self::Invalid)),
    /// `secret-key-invalid`, or `unexpected-error` (unavailable, unexpected answer).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotOpaque | Self::Invalid { .. } => "token-invalid",
            Self::SecretKeyInvalid(_) => "secret-key-invalid",
            Self::Unavailable(_) | Self::UnexpectedResponse => "unexpected-error",
        }
    }

    /// Whether the token itself was judged invalid (answer `401`), rather than Clerk being unreachable or refusing
    /// the secret key (answer `503`: an outage must not look like a bad credential).
    #[must_use]
    pub const fn is_invalid(&self) -> bool {
        matches!(self, Self::NotOpaque | Self::Invalid { .. })
    }
}

impl Client {
    /// Verifies an opaque machine token with the Backend API, by its prefix: `ak_` → `POST /v1/api_keys/verify`,
    /// `mt_` → `POST /v1/m2m_tokens/verify`, `oat_` → `POST /v1/oauth_applications/access_tokens/verify`; returns the
    /// auth object ([`TokenFormat::Opaque`](clerk_core::TokenFormat::Opaque)).
    ///
    /// Every call asks Clerk: nothing is cached, so revocation takes effect on the next call. The request is retried
    /// like an idempotent one (verification changes nothing but `last_used_at`). A `200` that says `revoked`,
    /// `expired` or `active: false` is refused.
    ///
    /// ```no_run
    /// # async fn demo(client: clerk_api::Client, token: &str) {
    /// match client.verify_machine_token(token).await {
    ///     Ok(auth) => println!("{} {} scopes {:?}", auth.token_type(), auth.subject(), auth.scopes()),
    ///     Err(e) if e.is_invalid() => println!("refused: {}", e.code()),
    ///     Err(e) => println!("Clerk unavailable: {e}"),
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`MachineVerifyError`]: branch on [`is_invalid`](MachineVerifyError::is_invalid).
    pub async fn verify_machine_token(&self, token: &str) -> Result<MachineAuth, MachineVerifyError> {
        let Some(kind) = TokenType::from_prefix(token) else { return Err(MachineVerifyError::NotOpaque) };
        let (operation, path, body) = match kind {
            TokenType::ApiKey => ("verifyApiKey", "/api_keys/verify", json!({ "secret": token })),
            TokenType::M2mToken => ("verifyM2MToken", "/m2m_tokens/verify", json!({ "token": token })),
            _ => {
                ("verifyOAuthAccessToken", "/oauth_applications/access_tokens/verify", json!({ "access_token": token }))
            }
        };
        let req = Req::new(http::Method::POST, operation)
            .lit(path)
            .json(&body)
            .map_err(MachineVerifyError::Unavailable)?
            .with_options(RequestOptions::new().retry_non_idempotent());
        let resp = self.execute(&req).await.map_err(|e| classify(kind, e))?;
        let object: Map<String, Value> =
            crate::client::decode(resp.status().as_u16(), resp.body()).map_err(MachineVerifyError::Unavailable)?;
        let says = |field: &str, value: bool| object.get(field) == Some(&Value::Bool(value));
        if says("revoked", true) || says("expired", true) || says("active", false) {
            return Err(MachineVerifyError::Invalid { token_type: kind });
        }
        MachineAuth::from_backend_api_object(kind, object).ok_or(MachineVerifyError::UnexpectedResponse)
    }
}

fn classify(kind: TokenType, e: Error) -> MachineVerifyError {
    match e.as_api().map(crate::ApiError::status) {
        Some(400 | 404 | 422) => MachineVerifyError::Invalid { token_type: kind },
        Some(401 | 403) => MachineVerifyError::SecretKeyInvalid(e),
        _ => MachineVerifyError::Unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_js_sdk() {
        assert_eq!(MachineVerifyError::NotOpaque.code(), "token-invalid");
        let e = MachineVerifyError::Invalid { token_type: TokenType::ApiKey };
        assert!(e.is_invalid());
        assert_eq!(e.to_string(), "the Backend API refused the token (api_key)");
        assert_eq!(MachineVerifyError::UnexpectedResponse.code(), "unexpected-error");
    }
}
