//! Test support shared by the integration tests and the benches: RSA keys and tokens minted with josekit (an
//! implementation independent of the verifier under test) and a real loopback HTTP JWKS server that counts requests.
#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap());
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

/// What the JWKS server answers.
#[derive(Clone)]
pub enum Mode {
    /// 200 with this body.
    Jwks(String),
    /// This status, with a body.
    Status(u16, String),
    /// 200 with a non-JWKS body.
    Garbage,
    /// Close the connection without answering.
    Drop,
    /// Wait this long, then answer with the JWKS.
    Slow(Duration, String),
}

/// A real HTTP/1.1 JWKS server on 127.0.0.1 that counts requests. Stops when dropped.
pub struct JwksServer {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
    pub last_auth: Arc<Mutex<Option<String>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl JwksServer {
    pub async fn start(mode: Mode) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(mode));
        let last_auth = Arc::new(Mutex::new(None));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (h, m, la) = (hits.clone(), mode.clone(), last_auth.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut rx => return,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let (h, m, la) = (h.clone(), m.clone(), la.clone());
                        tokio::spawn(async move {
                            let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                                let (h, m, la) = (h.clone(), m.clone(), la.clone());
                                async move {
                                    h.fetch_add(1, Ordering::SeqCst);
                                    *la.lock().unwrap() = req
                                        .headers()
                                        .get("authorization")
                                        .map(|v| v.to_str().unwrap_or("").to_owned());
                                    let mode = m.lock().unwrap().clone();
                                    let resp = match mode {
                                        Mode::Jwks(body) => ok(body),
                                        Mode::Slow(d, body) => {
                                            tokio::time::sleep(d).await;
                                            ok(body)
                                        }
                                        Mode::Status(code, body) => {
                                            let mut r = ok(body);
                                            *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
                                            r
                                        }
                                        Mode::Garbage => ok("<html>not json</html>".to_owned()),
                                        Mode::Drop => return Err(std::io::Error::other("dropped")),
                                    };
                                    Ok::<_, std::io::Error>(resp)
                                }
                            });
                            let io = hyper_util::rt::TokioIo::new(stream);
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
                        });
                    }
                }
            }
        });
        Self { addr, hits, mode, last_auth, shutdown: Some(tx) }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The base URL (for `api_url`: the server answers any path).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn ok(body: String) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let mut r = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    r
}
