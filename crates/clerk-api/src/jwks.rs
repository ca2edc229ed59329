//! The client as a key source for `clerk-core`: one configured client verifies tokens too.

use clerk_core::{BoxFuture, JwksSource, KeyError, KeySet};

use crate::Client;
use crate::error::Error;
use crate::request::Req;

impl JwksSource for Client {
    fn fetch(&self) -> BoxFuture<'_, Result<KeySet, KeyError>> {
        Box::pin(async move {
            let req = Req::new(http::Method::GET, "GetJWKS").lit("/jwks");
            match self.execute(&req).await {
                Ok(resp) => KeySet::from_jwks_json(resp.body()),
                Err(Error::Api(e))
                    if e.status() == 401 || e.status() == 403 || e.code() == Some("clerk_key_invalid") =>
                {
                    Err(KeyError::SecretKeyInvalid { status: e.status() })
                }
                Err(Error::Api(e)) => Err(KeyError::Status { status: e.status() }),
                Err(Error::Transport(t)) => Err(KeyError::Transport(t)),
                Err(other) => Err(KeyError::MalformedJwks(Box::new(other))),
            }
        })
    }
}

impl Client {
    /// A `clerk-core` verifier builder whose keys come from this client (`GET /v1/jwks` with its secret key,
    /// transport and retries).
    pub fn verifier(&self) -> clerk_core::VerifierBuilder {
        clerk_core::Verifier::builder().key_source(std::sync::Arc::new(self.clone()))
    }
}
