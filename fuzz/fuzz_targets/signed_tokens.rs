//! Structure-aware: valid signed tokens (a session token with each key, an M2M JWT, an OAuth access token), mutated
//! through a small structured input: header members and claims set or removed, the payload replaced by raw text,
//! the token re-signed (by a key of the JWKS, by a stranger's key, with any algorithm) or not, then byte edits on the
//! compact form (segments truncated, swapped, duplicated, bytes inserted or removed). Each result goes through
//! `Verifier::verify` and `Verifier::verify_machine_jwt`.
//!
//! Checked: nothing unsigned is accepted. Whenever a token verifies, its signing input and signature must be a pair
//! this process signed with a key of the JWKS whose kid the header names, with an algorithm that key allows (the
//! original tokens, or a mutation re-signed here). And the original tokens, unmutated, verify. Every 2^16 executions
//! and more it prints how many tokens were re-signed and how many verified.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use clerk_fuzz::{KID, KID_384, NOW, TestKey, keys};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// base64url, padded or not, trailing bits allowed: the most lenient reading of a signature segment, so that the
/// check does not depend on the decoder under test.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// One of the original tokens: its header and claims, and its signing input and signature.
struct Base {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    input: String,
    signature: Vec<u8>,
    machine: bool,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn bases() -> &'static [Base; 4] {
    static BASES: OnceLock<[Base; 4]> = OnceLock::new();
    BASES.get_or_init(|| {
        let [key, key384, _] = keys();
        let m2m = json!({"sub": "mch_2vYVtestTESTtestTESTtestTESTtest", "exp": NOW + 3600, "iat": NOW - 10,
            "nbf": NOW - 20, "jti": "mt_2vYVtest", "aud": ["https://api.example.com"], "scopes": "mch_1 mch_2"});
        let oauth = json!({"sub": "user_2bVftRtFezPdchfaz9999999999", "client_id": "oauth_app_1", "exp": NOW + 3600,
            "iat": NOW - 10, "nbf": NOW - 20, "jti": "oat_2vYVtest", "scope": "read write"});
        let make = |key: &TestKey, header: Value, claims: Value, machine| {
            let (header, claims) = (obj(header), obj(claims));
            let (input, signature) = sign(key, &header, &serde_json::to_vec(&claims).expect("json"));
            Base { header, claims, input, signature, machine }
        };
        [
            make(key, json!({"alg": "RS256", "kid": KID, "typ": "JWT"}), clerk_fuzz::session_claims(), false),
            make(
                key384,
                json!({"alg": "RS384", "kid": KID_384, "typ": "JWT", "cat": "cl_B7d4PD111AAA"}),
                clerk_fuzz::session_claims(),
                false,
            ),
            make(key, json!({"alg": "RS256", "kid": KID, "typ": "JWT", "cat": "cl_B7d4PD333AAA"}), m2m, true),
            make(key, json!({"alg": "RS256", "kid": KID, "typ": "at+jwt"}), oauth, true),
        ]
    })
}

/// Signs `header` and `payload` with `key`, with the header's algorithm (RS256 when it names none of RS256/384/512).
fn sign(key: &TestKey, header: &Map<String, Value>, payload: &[u8]) -> (String, Vec<u8>) {
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("RS256");
    let input = signing_input(header, payload);
    let signature = key.sign(alg, input.as_bytes());
    (input, signature)
}

/// `base64url(header JSON).base64url(payload)`.
fn signing_input(header: &Map<String, Value>, payload: &[u8]) -> String {
    let header = serde_json::to_vec(header).expect("json");
    format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload))
}

/// Signing inputs and signatures made in this process by a key of the JWKS: the only pairs that may verify.
static SIGNED: Mutex<Vec<(String, Vec<u8>)>> = Mutex::new(Vec::new());

#[derive(Arbitrary, Debug)]
enum Text {
    Alg(u8),
    Kid(bool),
    Typ(u8),
    Cat(u8),
    Party(bool),
    Subject(u8),
    Free(String),
}

impl Text {
    fn value(&self) -> String {
        let pick = |list: &[&str], i: u8| list[usize::from(i) % list.len()].to_owned();
        match self {
            Self::Alg(i) => pick(&["RS256", "RS384", "RS512", "none", "HS256", "PS256", "ES256", "rs256", ""], *i),
            Self::Kid(b) => if *b { KID } else { KID_384 }.to_owned(),
            Self::Typ(i) => pick(&["JWT", "at+jwt", "application/at+jwt", "jwt", "JOSE"], *i),
            Self::Cat(i) => pick(&["cl_B7d4PD111AAA", "cl_I7d4PD111III", "cl_B7d4PD333AAA", "cl_other"], *i),
            Self::Party(b) => if *b { "https://app.example.com" } else { "https://api.example.com" }.to_owned(),
            Self::Subject(i) => pick(&["user_1", "mch_1", "sess_1", "org_1", "ak_1", "mt_1", "oat_1", "pending"], *i),
            Self::Free(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// Seconds from the clock's now (times near the edges of exp/nbf/iat).
    Now(i32),
    Float(f64),
    Text(Text),
    Array(Vec<Json>),
    Object(Vec<(Text, Json)>),
}

impl Json {
    fn value(&self, depth: u8) -> Value {
        if depth > 4 {
            return Value::Null;
        }
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(i) => json!(i),
            Self::Now(d) => json!(NOW as i64 + i64::from(*d)),
            Self::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Self::Text(t) => Value::String(t.value()),
            Self::Array(items) => Value::Array(items.iter().map(|j| j.value(depth + 1)).collect()),
            Self::Object(members) => {
                Value::Object(members.iter().map(|(k, v)| (k.value(), v.value(depth + 1))).collect())
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Free(String),
}

impl Name {
    fn of(&self, known: &[&str]) -> String {
        match self {
            Self::Known(i) => known[usize::from(*i) % known.len()].to_owned(),
            Self::Free(s) => s.clone(),
        }
    }
}

const HEADER_NAMES: &[&str] = &["alg", "kid", "typ", "cat", "crit", "jku", "jwk", "x5u", "x5c", "b64", "cty"];
const CLAIM_NAMES: &[&str] = &[
    "sub",
    "exp",
    "nbf",
    "iat",
    "azp",
    "iss",
    "aud",
    "sid",
    "jti",
    "sts",
    "act",
    "fva",
    "v",
    "org_id",
    "org_slug",
    "org_role",
    "org_permissions",
    "o",
    "fea",
    "pla",
    "scope",
    "scopes",
    "client_id",
];

#[derive(Arbitrary, Debug)]
enum Signer {
    /// The original token's signature, whatever was changed.
    Original,
    /// The instance key (any algorithm), in the JWKS.
    Instance,
    /// The RS384-pinned key, in the JWKS.
    Pinned384,
    /// A key not in the JWKS, under the instance key's kid (unless the header says otherwise).
    Stranger,
    /// These bytes as the signature.
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    /// Keeps the first `n` bytes of segment `i` (of the dot-separated segments).
    Truncate(u8, u16),
    /// Inserts a byte at a position.
    Insert(u16, u8),
    /// Removes the byte at a position.
    Remove(u16),
    /// Replaces the byte at a position.
    Replace(u16, u8),
    /// Swaps two segments.
    Swap(u8, u8),
    /// Repeats segment `i` after itself.
    Duplicate(u8),
    /// Appends `=` padding to segment `i`.
    Pad(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    base: u8,
    header: Vec<(Name, Option<Json>)>,
    claims: Vec<(Name, Option<Json>)>,
    /// The payload as these bytes instead of the claims' JSON.
    raw_payload: Option<Vec<u8>>,
    signer: Signer,
    edits: Vec<Edit>,
}

fn segments(token: &[u8]) -> Vec<Vec<u8>> {
    token.split(|&b| b == b'.').map(<[u8]>::to_vec).collect()
}

fn apply(token: &mut Vec<u8>, edit: &Edit) {
    let at = |p: u16, len: usize| if len == 0 { 0 } else { usize::from(p) % len };
    match *edit {
        Edit::Truncate(i, n) => {
            let mut segs = segments(token);
            let i = usize::from(i) % segs.len();
            segs[i].truncate(usize::from(n));
            *token = segs.join(&b'.');
        }
        Edit::Insert(p, b) => token.insert(at(p, token.len() + 1), b),
        Edit::Remove(p) if !token.is_empty() => {
            token.remove(at(p, token.len()));
        }
        Edit::Replace(p, b) if !token.is_empty() => {
            let p = at(p, token.len());
            token[p] = b;
        }
        Edit::Swap(i, j) => {
            let mut segs = segments(token);
            let n = segs.len();
            segs.swap(usize::from(i) % n, usize::from(j) % n);
            *token = segs.join(&b'.');
        }
        Edit::Duplicate(i) => {
            let mut segs = segments(token);
            let i = usize::from(i) % segs.len();
            let copy = segs[i].clone();
            segs.insert(i, copy);
            *token = segs.join(&b'.');
        }
        Edit::Pad(i, n) => {
            let mut segs = segments(token);
            let i = usize::from(i) % segs.len();
            segs[i].extend(std::iter::repeat_n(b'=', usize::from(n % 4)));
            *token = segs.join(&b'.');
        }
        Edit::Remove(_) | Edit::Replace(..) => {}
    }
}

static RUNS: AtomicU64 = AtomicU64::new(0);
static RESIGNED: AtomicU64 = AtomicU64::new(0);
static VERIFIED: AtomicU64 = AtomicU64::new(0);

/// Counts executions, re-signed tokens and verified ones, and prints them every 2^16 executions and more: a check
/// that the accepting path runs, not only refusals.
fn count(verified: bool, resigned: bool) {
    let runs = RUNS.fetch_add(1, Relaxed) + 1;
    RESIGNED.fetch_add(u64::from(resigned), Relaxed);
    VERIFIED.fetch_add(u64::from(verified), Relaxed);
    if runs.is_power_of_two() && runs >= 1 << 16 {
        let (resigned, verified) = (RESIGNED.load(Relaxed), VERIFIED.load(Relaxed));
        eprintln!("signed_tokens: {runs} tokens, {resigned} re-signed by a key of the JWKS, {verified} verified");
    }
}

/// Whether `token` is a pair this process signed with a key of the JWKS.
fn signed_here(token: &str) -> bool {
    let Some((input, sig)) = token.rsplit_once('.') else { return false };
    let Ok(sig) = LENIENT.decode(sig) else { return false };
    SIGNED.lock().expect("not poisoned").iter().any(|(i, s)| i == input && *s == sig)
}

fn verify(token: &str) -> (bool, bool) {
    let verifier = clerk_fuzz::verifier();
    clerk_fuzz::runtime()
        .block_on(async { (verifier.verify(token).await.is_ok(), verifier.verify_machine_jwt(token).await.is_ok()) })
}

fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let mut signed = SIGNED.lock().expect("not poisoned");
        for base in bases() {
            signed.push((base.input.clone(), base.signature.clone()));
        }
        drop(signed);
        for base in bases() {
            let token = format!("{}.{}", base.input, URL_SAFE_NO_PAD.encode(&base.signature));
            let (session, machine) = verify(&token);
            assert_eq!((session, machine), (!base.machine, base.machine), "an original token must verify: {token}");
        }
    });
}

/// `members` with each edit applied in turn: a member set (`Some`) or removed (`None`).
fn edited(members: &Map<String, Value>, edits: &[(Name, Option<Json>)], names: &[&str]) -> Map<String, Value> {
    let mut members = members.clone();
    for (name, value) in edits {
        let name = name.of(names);
        match value {
            Some(v) => members.insert(name, v.value(0)),
            None => members.remove(&name),
        };
    }
    members
}

fuzz_target!(|input: Input| {
    init();
    let [key, key384, stranger] = keys();
    let base = &bases()[usize::from(input.base) % 4];
    let header = edited(&base.header, &input.header, HEADER_NAMES);
    let claims = edited(&base.claims, &input.claims, CLAIM_NAMES);
    let payload = match &input.raw_payload {
        Some(raw) => raw.clone(),
        None => serde_json::to_vec(&claims).expect("json"),
    };
    let (signing_input, signature) = match &input.signer {
        Signer::Original => (signing_input(&header, &payload), base.signature.clone()),
        Signer::Instance | Signer::Pinned384 => {
            let (key, kid, algs): (_, _, &[&str]) = match input.signer {
                Signer::Instance => (key, KID, &["RS256", "RS384", "RS512"]),
                _ => (key384, KID_384, &["RS384"]),
            };
            let (i, s) = sign(key, &header, &payload);
            // A pair may verify only when the header names this key and an algorithm the key allows.
            let alg = header.get("alg").and_then(Value::as_str);
            if header.get("kid").and_then(Value::as_str) == Some(kid) && alg.is_some_and(|a| algs.contains(&a)) {
                SIGNED.lock().expect("not poisoned").push((i.clone(), s.clone()));
            }
            (i, s)
        }
        Signer::Stranger => sign(stranger, &header, &payload),
        Signer::Bytes(b) => (signing_input(&header, &payload), b.clone()),
    };
    let mut token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature)).into_bytes();
    for edit in &input.edits {
        apply(&mut token, edit);
    }
    let token = String::from_utf8_lossy(&token);
    let (session, machine) = verify(&token);
    let unchanged = input.header.is_empty()
        && input.claims.is_empty()
        && input.raw_payload.is_none()
        && input.edits.is_empty()
        && matches!(input.signer, Signer::Original);
    if unchanged {
        assert!(session != base.machine && machine == base.machine, "an original token must verify: {token}");
    }
    if session || machine {
        assert!(signed_here(&token), "a token verified that no key of the JWKS signed: {token} ({input:?})");
    }
    count(session || machine, matches!(input.signer, Signer::Instance | Signer::Pinned384));
    // Keep only the pairs of this execution's re-signing and the originals.
    SIGNED.lock().expect("not poisoned").truncate(4);
});
