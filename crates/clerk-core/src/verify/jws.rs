//! Steps 1 and 2 of Clerk's order for a compact JWS: the three segments, the header (algorithm, type, category) and
//! the payload, decoded into caller-owned scratch space (stack buffers) so that a verification allocates as little
//! as it can.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use serde::Deserialize;

use crate::claims::RawClaims;
use crate::error::{Reason, VerifyError};
use crate::jwk::Algorithm;
use crate::machine::{is_access_token_typ, is_json_object};

use super::options::Options;

/// Header `cat` of session tokens.
const CAT_SESSION: &str = "cl_B7d4PD111AAA";
/// Header `cat` meaning "ignore" (stamped on every class by some instances: carries no class information).
const CAT_IGNORE: &str = "cl_I7d4PD111III";
/// Header `cat` of M2M tokens.
const CAT_M2M: &str = "cl_B7d4PD333AAA";

/// A JWS header: the fields the checks read.
#[derive(Debug, PartialEq, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cat: Option<Cow<'a, str>>,
    /// `crit` (RFC 7515 §4.1.11): extension parameters a verifier must understand. This one understands none, so a
    /// token that names any is refused; only whether the member is there (and not `null`) matters.
    crit: Option<Critical>,
}

/// A `crit` member, whatever it holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Critical;

impl<'de> Deserialize<'de> for Critical {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Self)
    }
}

/// The header in its plain shape, read without serde_json (the same result, see `fastclaims`); `None`: ask
/// serde_json.
pub(crate) fn plain_header(json: &[u8]) -> Option<Header<'_>> {
    // `crit` is read as a string member: any other value (the array RFC 7515 asks for) takes serde_json's path.
    let [alg, kid, typ, cat, crit] =
        crate::fastclaims::read_strings(crate::source::utf8(json)?, ["alg", "kid", "typ", "cat", "crit"])?;
    Some(Header {
        alg: alg.map(Cow::Borrowed),
        kid: kid.map(Cow::Borrowed),
        typ: typ.map(Cow::Borrowed),
        cat: cat.map(Cow::Borrowed),
        crit: crit.map(|_| Critical),
    })
}

pub(super) const fn invalid(detail: &'static str) -> VerifyError {
    VerifyError::with_detail(Reason::TokenInvalid, detail)
}

/// Which kind of token [`decode`] expects: the header checks differ.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// A session token: `typ` absent or `JWT`, `cat` absent, session or ignore; anything else is refused in the
    /// header, before any payload work.
    Session,
    /// An M2M or OAuth JWT: `typ` absent, `JWT` or `at+jwt`; `typ` and `cat` are checked once the payload says which.
    Machine,
}

/// The header's `typ`, as far as the checks care.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Typ {
    Absent,
    Jwt,
    /// `at+jwt` or `application/at+jwt` (RFC 9068).
    AccessToken,
}

/// The header's `cat` (token category), as far as the checks care.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Cat {
    Absent,
    Session,
    Ignore,
    M2m,
    Other,
}

/// Claims a token's payload is decoded into.
pub(super) trait Claims<'p>: Deserialize<'p> {
    /// The claims read without serde_json when the payload has the plain shape (exactly what serde_json would read);
    /// `None`: ask serde_json.
    fn read_plain(_payload: &'p str) -> Option<Self> {
        None
    }
}

impl<'p> Claims<'p> for RawClaims<'p> {
    fn read_plain(payload: &'p str) -> Option<Self> {
        crate::fastclaims::read(payload)
    }
}

/// What a verification decodes into, owned by the caller (on its stack, in a synchronous frame) so that the decoded
/// parts borrow from it instead of allocating: the header and the signature land in uninitialised stack buffers (no
/// zeroing), the payload in a `String` that later moves into the auth object.
pub(super) struct Scratch {
    header: [MaybeUninit<u8>; SMALL_HEADER],
    /// Headers longer than [`SMALL_HEADER`] decoded bytes (up to [`MAX_HEADER`]).
    large_header: Vec<u8>,
    signature: [MaybeUninit<u8>; MAX_SIG],
    /// The decoded payload (a session token's auth object keeps it).
    pub(super) payload: String,
}

impl Scratch {
    pub(super) const fn new() -> Self {
        Self {
            header: [MaybeUninit::uninit(); SMALL_HEADER],
            large_header: Vec::new(),
            signature: [MaybeUninit::uninit(); MAX_SIG],
            payload: String::new(),
        }
    }
}

/// The parts of a compact JWS that survived steps 1 and 2.
pub(super) struct Decoded<'t, 'p, C> {
    /// The header's `kid`, borrowed from the decoded header (owned only when it held JSON escapes).
    pub(super) header_kid: Option<Cow<'p, str>>,
    pub(super) alg: Algorithm,
    pub(super) typ: Typ,
    pub(super) cat: Cat,
    pub(super) signing_input: &'t [u8],
    /// The payload text (kept by the caller, so that the claims can borrow their strings from it).
    pub(super) payload: &'p str,
    /// The claims, parsed once; `None` when the payload is a JSON object whose claims have the wrong types
    /// (reported as `token-verification-failed` only after the signature check, as Clerk orders it).
    pub(super) claims: Option<C>,
    pub(super) signature: &'p [u8],
}

impl<C> Decoded<'_, '_, C> {
    /// Step 4: the key's algorithm and the signature, over the exact token text.
    #[inline]
    pub(super) fn check_signature(&self, key: &crate::jwk::VerifyingKey) -> Result<(), VerifyError> {
        if !key.allows(self.alg) {
            return Err(VerifyError::with_detail(Reason::TokenInvalidAlgorithm, "key does not allow the token's alg"));
        }
        if !key.verify(self.alg, self.signing_input, self.signature) {
            return Err(VerifyError::new(Reason::TokenInvalidSignature));
        }
        Ok(())
    }
}

/// RSA-8192 signatures are 1024 bytes.
const MAX_SIG: usize = 1024;
const MAX_HEADER: usize = 1024;
/// Headers up to this many decoded bytes are decoded on the stack.
const SMALL_HEADER: usize = 192;
/// Payloads up to this many decoded bytes are decoded on the stack.
const SMALL_PAYLOAD: usize = 2048;

/// Strict unpadded base64url (non-canonical trailing bits refused, as the `base64` crate does), SIMD-accelerated:
/// the payload and signature are most of a token's bytes. On the heap: for headers and payloads too large for the
/// scratch's stack buffers.
fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(input).ok()
}

/// [`b64url_decode`] into the (uninitialised) `out`; the decoded bytes. `None` when `out` is too small.
fn b64url_decode_into<'o>(input: &[u8], out: &'o mut [MaybeUninit<u8>]) -> Option<&'o [u8]> {
    let n = base64_simd::URL_SAFE_NO_PAD.decoded_length(input).ok()?;
    let out = out.get_mut(..n)?;
    base64_simd::URL_SAFE_NO_PAD.decode(input, base64_simd::Out::from_uninit_slice(out)).ok().map(|s| &*s)
}

/// Steps 1 and 2 of Clerk's order: the compact form and the header, then the payload.
///
/// The header is checked (alg, typ, cat) before the payload is decoded: a token whose header is refused costs no
/// payload work, which keeps hostile input cheap. A token with both a refused header and a broken payload is
/// therefore reported as `token-invalid-algorithm` (or the header's reason) rather than `token-invalid`; see
/// `docs/decisions/0004-reason-codes.md`.
pub(super) fn decode<'t, 'p, C: Claims<'p>>(
    token: &'t str,
    o: &Options,
    expect: Expect,
    scratch: &'p mut Scratch,
) -> Result<Decoded<'t, 'p, C>, VerifyError> {
    let Scratch { header: small, large_header: large, signature: sig_buf, payload: slot } = scratch;
    let bytes = token.as_bytes();
    let mut dots = memchr::memchr_iter(b'.', bytes);
    let (Some(d1), Some(d2), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(invalid("not three segments"));
    };
    let (h64, p64, s64) = (&bytes[..d1], &bytes[d1 + 1..d2], &bytes[d2 + 1..]);
    if h64.is_empty() || p64.is_empty() || s64.is_empty() {
        return Err(invalid("empty segment"));
    }
    if h64.len() > MAX_HEADER * 4 / 3 + 4 {
        return Err(invalid("header too large"));
    }
    if s64.len() > (MAX_SIG * 4).div_ceil(3) {
        return Err(invalid("signature too large"));
    }
    let header = parse_header(h64, small, large)?;
    if header.crit.is_some() {
        return Err(invalid("the header names critical extensions, which this verifier does not understand"));
    }
    // Step 2: header.
    let alg = header
        .alg
        .as_deref()
        .and_then(Algorithm::from_name)
        .filter(|a| o.algorithms[*a as usize])
        .ok_or(VerifyError::new(Reason::TokenInvalidAlgorithm))?;
    let typ = match header.typ.as_deref() {
        None => Typ::Absent,
        Some("JWT") => Typ::Jwt,
        Some(t) if is_access_token_typ(t) => Typ::AccessToken,
        Some(_) if expect == Expect::Session => return Err(invalid("`typ` must be JWT")),
        Some(_) => return Err(invalid("`typ` must be JWT or at+jwt")),
    };
    let cat = match header.cat.as_deref() {
        None => Cat::Absent,
        Some(CAT_SESSION) => Cat::Session,
        Some(CAT_IGNORE) => Cat::Ignore,
        Some(CAT_M2M) => Cat::M2m,
        Some(_) => Cat::Other,
    };
    if expect == Expect::Session {
        if typ == Typ::AccessToken {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "OAuth access token"));
        }
        if !matches!(cat, Cat::Absent | Cat::Session | Cat::Ignore) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not a session token"));
        }
    }

    // Step 1, rest: the signature and the payload. The signature's length was bounded above, so it fits the buffer
    // (a failure here is bad base64url; a prefix of the signature is never verified).
    let signature = b64url_decode_into(s64, sig_buf).ok_or_else(|| invalid("signature is not base64url"))?;
    let payload_len =
        base64_simd::URL_SAFE_NO_PAD.decoded_length(p64).map_err(|_| invalid("payload is not base64url"))?;
    // Decoded on the stack (Clerk's payloads are a few hundred bytes; larger ones on the heap), checked, then copied
    // into an exactly sized `String` that a session token's auth object keeps.
    let mut small_payload = [MaybeUninit::<u8>::uninit(); SMALL_PAYLOAD];
    let large_payload: Vec<u8>;
    let pjson: &[u8] = if payload_len <= SMALL_PAYLOAD {
        b64url_decode_into(p64, &mut small_payload).ok_or_else(|| invalid("payload is not base64url"))?
    } else {
        large_payload = b64url_decode(p64).ok_or_else(|| invalid("payload is not base64url"))?;
        &large_payload
    };
    if !is_json_object(pjson) {
        return Err(invalid("payload is not a JSON object"));
    }
    // JSON is UTF-8: checked once here, so the parser need not check each string, and claim strings can borrow
    // from the text.
    *slot = crate::source::utf8(pjson).ok_or_else(|| invalid("payload is not a JSON object"))?.to_owned();
    let payload: &'p str = slot;
    // One parse into the typed claims. Only when it fails, tell malformed JSON (token-invalid, now) from claims of
    // the wrong type (token-verification-failed, after the signature).
    let claims = match C::read_plain(payload).map_or_else(|| serde_json::from_str::<C>(payload), Ok) {
        Ok(c) => Some(c),
        Err(_) if serde_json::from_str::<serde::de::IgnoredAny>(payload).is_ok() => None,
        Err(_) => return Err(invalid("payload is not a JSON object")),
    };
    let header_kid = header.kid;
    Ok(Decoded { header_kid, alg, typ, cat, signing_input: &bytes[..d2], payload, claims, signature })
}

/// Step 1 for the header segment: base64url, a JSON object, a JWS header. Clerk's headers are about 100 bytes: the
/// scratch's stack buffer; larger ones (up to the bound) go to the heap.
fn parse_header<'p>(
    h64: &[u8],
    small: &'p mut [MaybeUninit<u8>; SMALL_HEADER],
    large: &'p mut Vec<u8>,
) -> Result<Header<'p>, VerifyError> {
    let hjson: &'p [u8] = if h64.len() <= SMALL_HEADER * 4 / 3 {
        b64url_decode_into(h64, small).ok_or_else(|| invalid("header is not base64url"))?
    } else {
        *large = b64url_decode(h64).ok_or_else(|| invalid("header is not base64url"))?;
        let large: &'p Vec<u8> = large;
        large.as_slice()
    };
    if !is_json_object(hjson) {
        return Err(invalid("header is not a JSON object"));
    }
    match plain_header(hjson) {
        Some(h) => Ok(h),
        None => serde_json::from_slice(hjson).map_err(|_| invalid("header is not a JWS header")),
    }
}
