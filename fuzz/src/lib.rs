//! What the fuzz targets share: reading a fuzz input as HTTP header lines, RSA keys generated once per process, an
//! independent JWS signer (aws-lc-rs directly, not the code under test), and one tokio runtime.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_core::{TestClock, Verifier};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The time every target's clock stands at (2026-11-20), so that minted tokens and webhooks stay in their window.
pub const NOW: u64 = 1_795_996_400;

/// The kid of the instance key (in the verifier's JWKS).
pub const KID: &str = "ins_fuzz";
/// The kid of the second key in the JWKS, pinned to RS384.
pub const KID_384: &str = "ins_fuzz_384";

/// Reads `data` as header lines (`name: value`, split on `\n`, an optional `\r` dropped), up to the first empty
/// line; the rest is the body. Lines without a colon, and names or values `http` refuses, are skipped: a
/// `HeaderMap` cannot hold them, so no request could carry them.
pub fn headers(data: &[u8]) -> (HeaderMap, &[u8]) {
    let mut map = HeaderMap::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = after;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let value = &line[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            map.append(name, value);
        }
    }
    (map, rest)
}

/// An RSA-2048 key pair made once per process, with its JWK.
pub struct TestKey {
    pair: KeyPair,
    /// The public key as a JWK (`kid`, `alg` when pinned).
    pub jwk: serde_json::Value,
}

impl TestKey {
    fn generate(kid: &str, alg: Option<&str>) -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let public: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let mut jwk = serde_json::json!({
            "kty": "RSA", "use": "sig", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        if let Some(alg) = alg {
            jwk["alg"] = alg.into();
        }
        Self { pair, jwk }
    }

    /// The RSASSA-PKCS1-v1_5 signature of `input` with `alg` (RS256, RS384 or RS512; anything else signs RS256).
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let padding: &'static dyn signature::RsaEncoding = match alg {
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(padding, &SystemRandom::new(), input, &mut sig).expect("RSA signing");
        sig
    }
}

/// The instance key (`KID`, any RS algorithm), the RS384-pinned key (`KID_384`), and a stranger's key (never in the
/// JWKS), generated once.
pub fn keys() -> &'static [TestKey; 3] {
    static KEYS: OnceLock<[TestKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [TestKey::generate(KID, None), TestKey::generate(KID_384, Some("RS384")), TestKey::generate(KID, None)]
    })
}

/// The JWKS document holding the instance key and the RS384 key.
pub fn jwks() -> String {
    let [a, b, _] = keys();
    serde_json::json!({ "keys": [a.jwk, b.jwk] }).to_string()
}

/// A verifier over [`jwks`] (static: no network), its clock at [`NOW`], checking authorized parties and an audience
/// so those checks run too.
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::builder()
            .jwks_json(jwks())
            .expect("the fuzz JWKS")
            .clock(TestClock::at_secs(NOW))
            .authorized_parties(["https://app.example.com"])
            .audience(["https://api.example.com"])
            .build()
            .expect("the fuzz verifier")
    })
}

/// One current-thread runtime for every execution.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread runtime")
    })
}

/// Claims shaped like a Clerk v2 session token, valid at [`NOW`].
pub fn session_claims() -> serde_json::Value {
    serde_json::json!({
        "azp": "https://app.example.com",
        "exp": NOW + 3600,
        "fva": [2, -1],
        "iat": NOW - 10,
        "iss": "https://clerk.example.com",
        "jti": "8f7c1e5b2a9d4c3e6f10",
        "nbf": NOW - 20,
        "sid": "sess_2bVftP1rQemOu4CPj9999999999",
        "sts": "active",
        "sub": "user_2bVftRtFezPdchfaz9999999999",
        "v": 2,
        "pla": "u:free,o:pro",
        "fea": "o:repositories,o:projects",
        "o": {"id": "org_2bVftRtFezPdchfaz0000000000", "slg": "acme", "rol": "admin",
              "per": "read,create,update,delete,revoke", "fpm": "7,21"},
    })
}
