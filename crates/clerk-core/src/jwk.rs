//! Verification keys: JWKS and PEM parsed once into ready-to-use aws-lc-rs verifiers.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::Deserialize;

use crate::error::KeyError;

/// A JWS signature algorithm this SDK verifies. Clerk signs session tokens with RS256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
}

impl Algorithm {
    /// All algorithms, in index order.
    pub const ALL: [Self; 3] = [Self::RS256, Self::RS384, Self::RS512];

    /// The JOSE name (`RS256`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
        }
    }

    /// Parses a JOSE name; `None` for anything not supported (including `none` and every `HS*`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::RS256),
            "RS384" => Some(Self::RS384),
            "RS512" => Some(Self::RS512),
            _ => None,
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::RS256 => 0,
            Self::RS384 => 1,
            Self::RS512 => 2,
        }
    }

    const fn params(self) -> &'static aws_lc_rs::signature::RsaParameters {
        match self {
            Self::RS256 => &RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

/// An RSA public key parsed once, with a ready verifier for each algorithm it may be used with.
pub struct VerifyingKey {
    kid: Option<Box<str>>,
    algorithm: Option<Algorithm>,
    bits: usize,
    fingerprint: [u8; 32],
    verifiers: [Option<ParsedPublicKey>; 3],
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// The minimum and maximum RSA modulus sizes accepted, in bits.
pub const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

impl VerifyingKey {
    /// Builds a key from the RSA modulus and exponent (big-endian bytes, as in a JWK's `n` and `e`).
    ///
    /// `algorithm` pins the key to one algorithm (a JWK's `alg`); `None` allows RS256, RS384 and RS512.
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] when the modulus is outside 2048–8192 bits or the components are not an RSA key.
    pub fn from_rsa_components(
        kid: Option<&str>,
        algorithm: Option<Algorithm>,
        n: &[u8],
        e: &[u8],
    ) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = match n.first() {
            Some(&first) => n.len() * 8 - first.leading_zeros() as usize,
            None => 0,
        };
        if !RSA_BITS.contains(&bits) {
            return Err(KeyError::InvalidKey("modulus must be 2048 to 8192 bits"));
        }
        if e.is_empty() || e.len() > 8 || e[e.len() - 1] & 1 == 0 || e == [1] {
            return Err(KeyError::InvalidKey("public exponent is not a valid RSA exponent"));
        }
        let components = RsaPublicKeyComponents { n, e };
        let mut verifiers: [Option<ParsedPublicKey>; 3] = [None, None, None];
        for alg in Algorithm::ALL {
            if algorithm.is_none_or(|a| a == alg) {
                let parsed = components
                    .to_parsed_public_key(alg.params())
                    .map_err(|_| KeyError::InvalidKey("components do not form an RSA public key"))?;
                verifiers[alg.index()] = Some(parsed);
            }
        }
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(&(n.len() as u64).to_be_bytes());
        ctx.update(n);
        ctx.update(e);
        ctx.update(&[algorithm.map_or(0, |a| a.index() as u8 + 1)]);
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(ctx.finish().as_ref());
        Ok(Self { kid: kid.map(Into::into), algorithm, bits, fingerprint, verifiers })
    }

    /// Parses a PEM public key: `-----BEGIN PUBLIC KEY-----` (SPKI) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1), of
    /// any size from 2048 to 8192 bits. Literal `\n` sequences (as environment variables often carry them) and missing
    /// line breaks are tolerated; a bare base64 body without armour is read as DER.
    ///
    /// # Errors
    /// [`KeyError::InvalidPem`] or [`KeyError::InvalidKey`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = pem_to_der(pem)?;
        Self::from_der(&der)
    }

    /// Parses a DER public key, SPKI (RFC 5280) or PKCS#1 (RFC 8017).
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`].
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key =
            aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| KeyError::InvalidKey("not an RSA public key"))?;
        let components: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> = (&key).into();
        Self::from_rsa_components(None, None, &components.n, &components.e)
    }

    /// The key id (`kid`), when the key came from a JWKS.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the key is pinned to, if any.
    #[must_use]
    pub const fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }

    /// The modulus size in bits.
    #[must_use]
    pub const fn bits(&self) -> usize {
        self.bits
    }

    /// SHA-256 over the key's modulus, exponent and pinned algorithm: equal keys have equal fingerprints.
    #[must_use]
    pub fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }

    /// Whether the key may verify `alg`.
    #[must_use]
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.verifiers[alg.index()].is_some()
    }

    /// Verifies `signature` over `message` with `alg`. `false` when the key does not allow `alg` or the signature is
    /// wrong.
    #[must_use]
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match &self.verifiers[alg.index()] {
            Some(key) => key.verify_sig(message, signature).is_ok(),
            None => false,
        }
    }
}

fn strip_leading_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, KeyError> {
    let normalised = pem.replace("\\n", "\n").replace("\\r", "");
    let text = normalised.trim();
    let body = if let Some(start) = text.find("-----BEGIN ") {
        let after = &text[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----").ok_or(KeyError::InvalidPem("unterminated BEGIN line"))?;
        let label = &after[..label_end];
        if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
            return Err(KeyError::InvalidPem("expected a PUBLIC KEY or RSA PUBLIC KEY block"));
        }
        let rest = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = rest.find(&end_marker).ok_or(KeyError::InvalidPem("missing END line"))?;
        &rest[..end]
    } else {
        text
    };
    let cleaned: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.is_empty() {
        return Err(KeyError::InvalidPem("empty key"));
    }
    STANDARD.decode(cleaned.as_bytes()).map_err(|_| KeyError::InvalidPem("body is not base64"))
}

/// base64url, padding optional (JWK members are unpadded, a few producers pad).
const B64URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// A set of verification keys, looked up by `kid`.
///
/// Built from a JWKS document or a single PEM key. A set built from PEM has one key that verifies any `kid`
/// (networkless mode, as the official SDKs' `jwtKey`).
#[derive(Default)]
pub struct KeySet {
    by_kid: HashMap<Box<str>, Arc<VerifyingKey>, foldhash::fast::FixedState>,
    any_kid: Option<Arc<VerifyingKey>>,
    skipped: usize,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .field("single_key", &self.any_kid.is_some())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`). Keys that are not RSA signing keys (other `kty`, `use` other than
    /// `sig`, an `alg` other than RS256/384/512, no `kid`, out-of-range size) are skipped and counted.
    ///
    /// # Errors
    /// [`KeyError::MalformedJwks`] when the document is not a JWKS, [`KeyError::NoUsableKey`] when no key is usable.
    pub fn from_jwks_json(json: &[u8]) -> Result<Self, KeyError> {
        let doc: JwksDocument = serde_json::from_slice(json).map_err(|e| KeyError::MalformedJwks(Box::new(e)))?;
        let mut set = Self::default();
        for value in doc.keys {
            match parse_jwk(value) {
                Some(key) => {
                    let Some(kid) = key.kid.clone() else {
                        set.skipped += 1;
                        continue;
                    };
                    if set.by_kid.contains_key(&kid) {
                        tracing::warn!(target: "clerk::keys", "JWKS holds two keys with one kid; keeping the first");
                        set.skipped += 1;
                        continue;
                    }
                    set.by_kid.insert(kid, Arc::new(key));
                }
                None => set.skipped += 1,
            }
        }
        if set.by_kid.is_empty() {
            return Err(KeyError::NoUsableKey);
        }
        Ok(set)
    }

    /// A set holding one PEM key that verifies tokens whatever their `kid`.
    ///
    /// # Errors
    /// As [`VerifyingKey::from_pem`].
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(Self::from_single_key(VerifyingKey::from_pem(pem)?))
    }

    /// A set holding one key that verifies tokens whatever their `kid`.
    #[must_use]
    pub fn from_single_key(key: VerifyingKey) -> Self {
        Self { by_kid: HashMap::default(), any_kid: Some(Arc::new(key)), skipped: 0 }
    }

    /// A set from keys that carry a `kid`; keys without one are skipped.
    #[must_use]
    pub fn from_keys(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        let mut set = Self::default();
        for key in keys {
            match key.kid.clone() {
                Some(kid) if !set.by_kid.contains_key(&kid) => {
                    set.by_kid.insert(kid, Arc::new(key));
                }
                _ => set.skipped += 1,
            }
        }
        set
    }

    /// The key for `kid`. A single-key (PEM) set answers every `kid`, including none.
    #[inline]
    #[must_use]
    pub fn get(&self, kid: Option<&str>) -> Option<&Arc<VerifyingKey>> {
        if let Some(key) = &self.any_kid {
            return Some(key);
        }
        kid.and_then(|k| self.by_kid.get(k))
    }

    /// The key ids in the set.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.by_kid.keys().map(AsRef::as_ref)
    }

    /// The number of usable keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.any_kid.is_some())
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys of the source document were skipped as unusable.
    #[must_use]
    pub const fn skipped(&self) -> usize {
        self.skipped
    }
}

fn parse_jwk(value: serde_json::Value) -> Option<VerifyingKey> {
    let jwk: RawJwk = serde_json::from_value(value).ok()?;
    if jwk.kty != "RSA" {
        return None;
    }
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let algorithm = match jwk.alg.as_deref() {
        None => None,
        Some(name) => Some(Algorithm::from_name(name)?),
    };
    let n = B64URL_LENIENT.decode(jwk.n?).ok()?;
    let e = B64URL_LENIENT.decode(jwk.e?).ok()?;
    match VerifyingKey::from_rsa_components(jwk.kid.as_deref(), algorithm, &n, &e) {
        Ok(key) => Some(key),
        Err(err) => {
            tracing::warn!(target: "clerk::keys", error = %err, "skipping unusable JWK");
            None
        }
    }
}

/// Strict unpadded base64url, for the machine-token classifier (the session hot path uses SIMD decoding in
/// `verify.rs`).
pub(crate) const B64URL: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.as_str()), Some(alg));
        }
        for bad in ["none", "HS256", "rs256", "ES256", "PS256", ""] {
            assert_eq!(Algorithm::from_name(bad), None);
        }
    }

    #[test]
    fn pem_errors_are_typed() {
        assert!(matches!(VerifyingKey::from_pem(""), Err(KeyError::InvalidPem(_))));
        assert!(matches!(
            VerifyingKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
            Err(KeyError::InvalidPem(_))
        ));
        assert!(matches!(
            VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----"),
            Err(KeyError::InvalidPem(_))
        ));
        assert!(matches!(
            VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            Err(KeyError::InvalidKey(_))
        ));
    }

    #[test]
    fn jwks_errors_are_typed() {
        assert!(matches!(KeySet::from_jwks_json(b"[]"), Err(KeyError::MalformedJwks(_))));
        assert!(matches!(KeySet::from_jwks_json(b"{\"keys\":{}}"), Err(KeyError::MalformedJwks(_))));
        assert!(matches!(KeySet::from_jwks_json(b"{\"keys\":[]}"), Err(KeyError::NoUsableKey)));
        assert!(matches!(
            KeySet::from_jwks_json(
                br#"{"keys":[{"kty":"EC","kid":"a"},{"kty":"RSA","kid":"b","n":"AQAB","e":"AQAB"}]}"#
            ),
            Err(KeyError::NoUsableKey)
        ));
    }

    #[test]
    fn small_and_bad_components_rejected() {
        let n1024 = vec![0xC5u8; 128];
        assert!(VerifyingKey::from_rsa_components(Some("k"), None, &n1024, &[1, 0, 1]).is_err());
        let n2048 = vec![0xC5u8; 256];
        assert!(VerifyingKey::from_rsa_components(Some("k"), None, &n2048, &[2]).is_err());
        assert!(VerifyingKey::from_rsa_components(Some("k"), None, &n2048, &[]).is_err());
        assert!(VerifyingKey::from_rsa_components(Some("k"), None, &n2048, &[1]).is_err());
    }
}
