//! The startup check: load the key set once, now, and say precisely which setting to fix when it cannot be loaded,
//! instead of finding out from the first signed-in request.

use std::sync::Arc;

use crate::error::KeyError;

use super::Verifier;

/// Where a verifier's keys come from, as the settings a user would fix.
#[derive(Debug, Clone, Copy)]
pub(super) enum KeySettings {
    /// A local key, already checked when the verifier was built.
    Local(&'static str),
    /// The Backend API's `GET /v1/jwks`, with the secret key.
    BackendApi { api_url_variable: Option<&'static str> },
    /// A URL (or another source) without credentials.
    Remote(&'static str),
}

/// Why the startup check failed: what went wrong and which setting to fix. Its `Display` is written to be printed
/// from `main` as it is; it never contains a key or a token.
#[derive(Debug, thiserror::Error)]
#[error("Clerk keys could not be loaded: {what}; {fix}")]
pub struct CheckError {
    what: String,
    fix: String,
    #[source]
    source: Arc<KeyError>,
}

impl CheckError {
    /// The key error behind it.
    #[must_use]
    pub fn key_error(&self) -> &KeyError {
        &self.source
    }

    fn new(settings: KeySettings, source: Arc<KeyError>) -> Self {
        let api_url = match settings {
            KeySettings::BackendApi { api_url_variable: Some(var) } => var,
            _ => "api_url",
        };
        let endpoint = match settings {
            KeySettings::BackendApi { .. } => format!("the Backend API (check {api_url})"),
            KeySettings::Remote(setting) | KeySettings::Local(setting) => format!("the key source (check {setting})"),
        };
        let (what, fix) = match &*source {
            KeyError::SecretKeyInvalid { status } => (
                format!("the Clerk Backend API refused the secret key (status {status})"),
                "set CLERK_SECRET_KEY to the secret key of this Clerk instance (Clerk Dashboard, API keys)".to_owned(),
            ),
            KeyError::Status { status } => {
                (format!("the key endpoint answered status {status}"), format!("is {endpoint} right?"))
            }
            KeyError::Transport(_) => {
                ("the key endpoint could not be reached".to_owned(), format!("{endpoint}, and the network"))
            }
            KeyError::MalformedJwks(_) | KeyError::NoUsableKey => (
                "the key endpoint did not answer a usable key set".to_owned(),
                format!("is {endpoint} a Clerk instance?"),
            ),
            other => (other.to_string(), format!("check {endpoint}")),
        };
        Self { what, fix, source }
    }
}

impl Verifier {
    /// Loads the key set now and reports a precise error when it cannot: call it at start-up, so that a wrong secret
    /// key or URL stops the process with a message naming the setting to fix, instead of answering every signed-in
    /// request with an error. A verifier with a local key (PEM or JWKS) has nothing to load.
    ///
    /// ```no_run
    /// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
    /// let verifier = clerk_core::Verifier::from_env()?.build()?;
    /// verifier.check().await?; // e.g. "Clerk keys could not be loaded: the Clerk Backend API refused the secret key …"
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`CheckError`]: what went wrong and which setting to fix.
    pub async fn check(&self) -> Result<(), CheckError> {
        if let KeySettings::Local(_) = self.inner.key_settings {
            return Ok(());
        }
        self.inner.keys.force_refresh().await.map_err(|e| CheckError::new(self.inner.key_settings, e))
    }
}
