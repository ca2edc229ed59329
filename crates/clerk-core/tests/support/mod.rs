//! Test support shared by the integration tests, the demo and the benches: RSA keys and tokens minted with josekit
//! (an implementation independent of the verifier under test), and helpers to serve those keys from a
//! `clerk_testing::Emulator` (a real loopback HTTP server that logs and counts requests).
#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clerk_testing::{Emulator, Fault, InstanceKey};
use josekit::jwk::KeyPair as _;
use josekit::jws::JwsSigner as _;
use serde_json::{Value, json};

/// An RSA key pair for minting tokens, with its public forms.
pub struct TestKey {
    pub kid: String,
    signer256: josekit::jws::alg::rsassa::RsassaJwsSigner,
    signer384: josekit::jws::alg::rsassa::RsassaJwsSigner,
    signer512: josekit::jws::alg::rsassa::RsassaJwsSigner,
    pub public_jwk: Value,
    pub public_pem: String,
    pub private_pem: Vec<u8>,
    pub bits: u32,
}

impl TestKey {
    pub fn generate(kid: &str, bits: u32) -> Self {
        let pair = josekit::jws::RS256.generate_key_pair(bits).unwrap();
        Self::from_private_pem(kid, &pair.to_pem_private_key(), bits)
    }

    pub fn from_private_pem(kid: &str, pem: &[u8], bits: u32) -> Self {
        let pair = josekit::jwk::alg::rsa::RsaKeyPair::from_pem(pem).unwrap();
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id(kid);
        jwk.set_algorithm("RS256");
        jwk.set_key_use("sig");
        let public_jwk: Value = serde_json::to_value(AsRef::<serde_json::Map<String, Value>>::as_ref(&jwk)).unwrap();
        Self {
            kid: kid.to_owned(),
            signer256: josekit::jws::RS256.signer_from_pem(pem).unwrap(),
            signer384: josekit::jws::RS384.signer_from_pem(pem).unwrap(),
            signer512: josekit::jws::RS512.signer_from_pem(pem).unwrap(),
            public_jwk,
            public_pem: String::from_utf8(pair.to_pem_public_key()).unwrap(),
            private_pem: pem.to_vec(),
            bits,
        }
    }

    /// Signs arbitrary header and payload JSON (no validation: tests need malformed claims too).
    pub fn sign_raw(&self, header: &Value, payload: &Value) -> String {
        self.sign_bytes(header, &serde_json::to_vec(payload).unwrap())
    }

    /// Signs `payload` exactly as given (pretty-printed JSON, escapes, …).
    pub fn sign_bytes(&self, header: &Value, payload: &[u8]) -> String {
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
        let p = URL_SAFE_NO_PAD.encode(payload);
        let input = format!("{h}.{p}");
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("RS256");
        let signer = match alg {
            "RS384" => &self.signer384,
            "RS512" => &self.signer512,
            _ => &self.signer256,
        };
        let sig = signer.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// A session token with the standard header (`alg` RS256, `kid`, `typ` JWT) over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"}), claims)
    }

    /// A JWKS document holding this key.
    pub fn jwks(&self) -> String {
        jwks(&[self])
    }
}

/// A JWKS document holding `keys`.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() }).to_string()
}

/// Two cached RSA-2048 keys (generation is slow); the first is "the instance", the second a stranger.
pub fn key_a() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| TestKey::generate("ins_test_a", 2048))
}

pub fn key_b() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    K.get_or_init(|| TestKey::generate("ins_test_b", 2048))
}

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Claims shaped like a real Clerk v2 session token (the token comes out around 900 bytes with RSA-2048).
pub fn session_claims(now: i64) -> Value {
    json!({
        "azp": "https://app.example.com",
        "exp": now + 60,
        "fva": [2, -1],
        "iat": now,
        "iss": "https://clerk.example.com",
        "jti": "8f7c1e5b2a9d4c3e6f10",
        "nbf": now - 10,
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

/// The Backend API JWKS path (`GET {api_url}/v1/jwks`, secret key required).
pub const BACKEND_JWKS: &str = "/v1/jwks";
/// The Frontend API JWKS path (no credentials).
pub const FRONTEND_JWKS: &str = "/.well-known/jwks.json";

impl TestKey {
    /// The same key pair as an emulator instance key (same `kid`), so an emulator serves and signs with exactly it.
    pub fn instance_key(&self) -> InstanceKey {
        InstanceKey::from_pkcs8_pem(&self.kid, &self.private_pem).unwrap()
    }
}

/// An emulator whose instance key is `key`: both JWKS endpoints serve `key.jwks()` until told otherwise.
pub async fn emulator(key: &TestKey) -> Emulator {
    Emulator::builder().key(key.instance_key()).start().await.unwrap()
}

/// From now on the emulator answers every Backend API JWKS request with `fault` (replacing any earlier fault).
pub fn set_jwks_fault(emulator: &Emulator, fault: Fault) {
    emulator.faults().clear();
    emulator.faults().inject(BACKEND_JWKS, fault);
}

/// From now on the emulator answers every Backend API JWKS request with `200` and this body (any key set).
pub fn serve_jwks(emulator: &Emulator, body: String) {
    set_jwks_fault(emulator, Fault::Respond { status: 200, body });
}

/// The statuses the emulator answered on `path`, in order (0 for a dropped connection).
pub fn statuses(emulator: &Emulator, path: &str) -> Vec<u16> {
    emulator.requests().iter().filter(|r| r.path == path).map(|r| r.status).collect()
}
