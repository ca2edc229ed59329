//! Instance signing keys: RSA-2048, generated (OpenSSL via josekit) or derived from a seed (reproducible).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::KeyPair as _;
use josekit::jws::JwsSigner as _;
use serde_json::{Value, json};

use crate::EmulatorError;

/// One RSA signing key of an emulated instance. `Debug` never prints the private key.
pub struct InstanceKey {
    kid: String,
    signers: [josekit::jws::alg::rsassa::RsassaJwsSigner; 3],
    public_jwk: Value,
    public_pem: String,
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl InstanceKey {
    /// A fresh random RSA-2048 key.
    ///
    /// # Errors
    /// When OpenSSL fails to generate a key.
    pub fn generate(kid: impl Into<String>) -> Result<Self, EmulatorError> {
        let pair = josekit::jws::RS256.generate_key_pair(2048).map_err(EmulatorError::key)?;
        Self::from_pkcs8_pem(kid, &pair.to_pem_private_key())
    }

    /// An RSA-2048 key derived deterministically from `seed`: the same seed gives the same key, so tests that
    /// record tokens or key ids are reproducible.
    ///
    /// # Errors
    /// When the derived key cannot be encoded.
    pub fn from_seed(kid: impl Into<String>, seed: u64) -> Result<Self, EmulatorError> {
        use rand::SeedableRng as _;
        use rsa::pkcs8::EncodePrivateKey as _;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(EmulatorError::key)?;
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).map_err(EmulatorError::key)?;
        Self::from_pkcs8_pem(kid, pem.as_bytes())
    }

    /// A key from a PKCS#8 (or traditional) PEM private key.
    ///
    /// # Errors
    /// When the PEM is not an RSA private key.
    pub fn from_pkcs8_pem(kid: impl Into<String>, pem: &[u8]) -> Result<Self, EmulatorError> {
        let kid = kid.into();
        let pair = josekit::jwk::alg::rsa::RsaKeyPair::from_pem(pem).map_err(EmulatorError::key)?;
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id(&kid);
        jwk.set_algorithm("RS256");
        jwk.set_key_use("sig");
        let map: &serde_json::Map<String, Value> = jwk.as_ref();
        Ok(Self {
            signers: [
                josekit::jws::RS256.signer_from_pem(pem).map_err(EmulatorError::key)?,
                josekit::jws::RS384.signer_from_pem(pem).map_err(EmulatorError::key)?,
                josekit::jws::RS512.signer_from_pem(pem).map_err(EmulatorError::key)?,
            ],
            public_jwk: Value::Object(map.clone()),
            public_pem: String::from_utf8_lossy(&pair.to_pem_public_key()).into_owned(),
            kid,
        })
    }

    /// The key id (`kid`): the instance id, as Clerk does.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`kty`, `n`, `e`, `kid`, `alg`, `use`).
    #[must_use]
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// The public key as PEM (SPKI), what Clerk shows as the "JWT public key" (`CLERK_JWT_KEY`).
    #[must_use]
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs `header` and `payload` as a compact JWS. Nothing is validated: tests need malformed tokens too. The
    /// signature uses the header's `alg` if it is RS384 or RS512, else RS256.
    #[must_use]
    pub fn sign(&self, header: &Value, payload: &Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(payload.to_string());
        let input = format!("{h}.{p}");
        let signer = match header.get("alg").and_then(Value::as_str) {
            Some("RS384") => &self.signers[1],
            Some("RS512") => &self.signers[2],
            _ => &self.signers[0],
        };
        // Signing with a valid key over bytes cannot fail; an empty signature would only make the token invalid.
        let sig = signer.sign(input.as_bytes()).unwrap_or_default();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// Signs a session-token header (`alg` RS256, `kid`, `typ` JWT) over `claims`.
    #[must_use]
    pub fn sign_claims(&self, claims: &Value) -> String {
        self.sign(&json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"}), claims)
    }
}
