//! External test vectors: RFC 7515 Appendix A.2 (RS256), Wycheproof RSASSA-PKCS1-v1_5 (SHA-256/384/512, 2048 to
//! 8192 bits), and the v2 organization-permission vector of clerk-behaviour.md §4 through a full token.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clerk_core::{Algorithm, Check, RSA_BITS, Reason, TestClock, Verifier, VerifyingKey};
use serde_json::json;
use support::*;

// ---------------------------------------------------------------------------------------------------------------
// RFC 7515 Appendix A.2: "Example JWS Using RSASSA-PKCS1-v1_5 SHA-256"
// ---------------------------------------------------------------------------------------------------------------

/// The RSA public key of RFC 7515 A.2 (JWK `n`, base64url).
const RFC7515_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4\
QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2\
CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/// JWK `e`.
const RFC7515_E: &str = "AQAB";

/// The complete JWS Compact Serialization of RFC 7515 A.2.2.
const RFC7515_JWS: &str = "eyJhbGciOiJSUzI1NiJ9\
.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQj\
bKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc\
6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// `exp` of the RFC's claims (2011-03-22T18:43:00Z).
const RFC7515_EXP: u64 = 1_300_819_380;

fn rfc_parts() -> (&'static str, Vec<u8>) {
    let (input, sig) = RFC7515_JWS.rsplit_once('.').unwrap();
    (input, URL_SAFE_NO_PAD.decode(sig).unwrap())
}

fn rfc_key() -> VerifyingKey {
    let n = URL_SAFE_NO_PAD.decode(RFC7515_N).unwrap();
    let e = URL_SAFE_NO_PAD.decode(RFC7515_E).unwrap();
    VerifyingKey::from_rsa_components(None, None, &n, &e).unwrap()
}

fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    [vec![0x80 | bytes.len() as u8], bytes].concat()
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    [vec![tag], der_len(body.len()), body.to_vec()].concat()
}

fn der_uint(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let body = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { [vec![0], trimmed].concat() } else { trimmed };
    der(0x02, &body)
}

/// SubjectPublicKeyInfo (RFC 5280) PEM for an RSA public key, built by hand from `n` and `e`.
fn spki_pem(n: &[u8], e: &[u8]) -> String {
    let rsa_public_key = der(0x30, &[der_uint(n), der_uint(e)].concat());
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    let alg_id =
        der(0x30, &[der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]), vec![0x05, 0x00]].concat());
    let spki = der(0x30, &[alg_id, der(0x03, &[&[0u8][..], &rsa_public_key].concat())].concat());
    let b64 = STANDARD.encode(spki);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

#[test]
fn rfc7515_a2_vector_is_the_published_one() {
    let (input, sig) = rfc_parts();
    let (h, p) = input.split_once('.').unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(h).unwrap(), br#"{"alg":"RS256"}"#);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(p).unwrap(),
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );
    assert_eq!(sig.len(), 256);
    assert_eq!(rfc_key().bits(), 2048);
}

#[test]
fn rfc7515_a2_signature_verifies_with_the_published_key() {
    let key = rfc_key();
    let (input, sig) = rfc_parts();
    assert!(key.verify(Algorithm::RS256, input.as_bytes(), &sig));
    // Same bytes, other hashes: no.
    assert!(!key.verify(Algorithm::RS384, input.as_bytes(), &sig));
    assert!(!key.verify(Algorithm::RS512, input.as_bytes(), &sig));
    // The hand-built SPKI PEM and the JWK components give the same key.
    let n = URL_SAFE_NO_PAD.decode(RFC7515_N).unwrap();
    let e = URL_SAFE_NO_PAD.decode(RFC7515_E).unwrap();
    let from_pem = VerifyingKey::from_pem(&spki_pem(&n, &e)).unwrap();
    assert_eq!(from_pem.fingerprint(), key.fingerprint());
    assert!(from_pem.verify(Algorithm::RS256, input.as_bytes(), &sig));
    // Pinned to RS256 (as a JWK with `alg: RS256`): still verifies; pinned to RS512: refuses.
    let pinned = VerifyingKey::from_rsa_components(Some("rfc"), Some(Algorithm::RS256), &n, &e).unwrap();
    assert!(pinned.verify(Algorithm::RS256, input.as_bytes(), &sig));
    let pinned512 = VerifyingKey::from_rsa_components(Some("rfc"), Some(Algorithm::RS512), &n, &e).unwrap();
    assert!(!pinned512.allows(Algorithm::RS256));
    assert!(!pinned512.verify(Algorithm::RS256, input.as_bytes(), &sig));
}

#[test]
fn rfc7515_a2_any_single_byte_change_fails_the_signature() {
    let key = rfc_key();
    let (input, sig) = rfc_parts();
    let input = input.as_bytes();
    let mut checked = 0;
    for i in 0..input.len() {
        let mut m = input.to_vec();
        m[i] ^= 0x01;
        assert!(!key.verify(Algorithm::RS256, &m, &sig), "signing input byte {i}");
        checked += 1;
    }
    for i in 0..sig.len() {
        let mut s = sig.clone();
        s[i] ^= 0x01;
        assert!(!key.verify(Algorithm::RS256, input, &s), "signature byte {i}");
        checked += 1;
    }
    // Length changes too.
    assert!(!key.verify(Algorithm::RS256, &input[..input.len() - 1], &sig));
    assert!(!key.verify(Algorithm::RS256, &[input, b"x"].concat(), &sig));
    assert!(!key.verify(Algorithm::RS256, input, &sig[..255]));
    assert!(!key.verify(Algorithm::RS256, input, &[&sig[..], &[0]].concat()));
    assert!(!key.verify(Algorithm::RS256, input, &[&[0], &sig[..]].concat()));
    assert_eq!(checked, input.len() + 256);
}

#[tokio::test]
async fn rfc7515_a2_full_verification_fails_on_claims_not_signature() {
    let n = URL_SAFE_NO_PAD.decode(RFC7515_N).unwrap();
    let e = URL_SAFE_NO_PAD.decode(RFC7515_E).unwrap();
    let pem = spki_pem(&n, &e);
    let before_exp = TestClock::at_secs(RFC7515_EXP - 60);
    // Networkless `jwtKey` mode: one key for any (here: absent) kid.
    let v = Verifier::builder().jwt_key(&pem).unwrap().clock(before_exp).build().unwrap();
    let err = v.verify(RFC7515_JWS).await.unwrap_err();
    // The RFC's claims have no `sub`: the signature passed and the claim check failed.
    assert_eq!(err.reason(), Reason::TokenVerificationFailed, "{err}");
    assert!(!err.to_string().contains(RFC7515_JWS));
    // Control: the same token with one signature bit flipped fails at the signature step instead.
    let (input, sig) = rfc_parts();
    let mut bad = sig.clone();
    bad[100] ^= 0x01;
    let tampered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bad));
    assert_eq!(v.verify(&tampered).await.unwrap_err().reason(), Reason::TokenInvalidSignature);
    // After exp: `sub` is still checked first (Clerk's order), so the reason is the same.
    let after = Verifier::builder().jwt_key(&pem).unwrap().clock(TestClock::at_secs(RFC7515_EXP + 60)).build().unwrap();
    assert_eq!(after.verify(RFC7515_JWS).await.unwrap_err().reason(), Reason::TokenVerificationFailed);
    // Restricting to RS512 refuses the header before the signature.
    let only512 = Verifier::builder()
        .jwt_key(&pem)
        .unwrap()
        .clock(TestClock::at_secs(RFC7515_EXP - 60))
        .algorithms([Algorithm::RS512])
        .build()
        .unwrap();
    assert_eq!(only512.verify(RFC7515_JWS).await.unwrap_err().reason(), Reason::TokenInvalidAlgorithm);
    // A JWKS holding the key: the RFC header has no `kid`, so no key of the set is selected.
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "rfc7515-a2", "use": "sig", "alg": "RS256", "n": RFC7515_N,
                                "e": RFC7515_E}]})
    .to_string();
    let by_kid =
        Verifier::builder().jwks_json(jwks).unwrap().clock(TestClock::at_secs(RFC7515_EXP - 60)).build().unwrap();
    assert_eq!(by_kid.verify(RFC7515_JWS).await.unwrap_err().reason(), Reason::JwkKidMismatch);
}

// ---------------------------------------------------------------------------------------------------------------
// Wycheproof RSASSA-PKCS1-v1_5
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Counts {
    sets: usize,
    groups: usize,
    groups_skipped_by_size_policy: usize,
    valid_accepted: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    cross_alg_rejected: usize,
}

#[test]
fn wycheproof_rsa_pkcs1_v1_5() {
    use wycheproof::TestResult;
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};

    let sets = [
        (TestName::Rsa2048Sha256, Algorithm::RS256),
        (TestName::Rsa3072Sha256, Algorithm::RS256),
        (TestName::Rsa4096Sha256, Algorithm::RS256),
        (TestName::Rsa8192Sha256, Algorithm::RS256),
        (TestName::Rsa2048Sha384, Algorithm::RS384),
        (TestName::Rsa3072Sha384, Algorithm::RS384),
        (TestName::Rsa4096Sha384, Algorithm::RS384),
        (TestName::Rsa8192Sha384, Algorithm::RS384),
        (TestName::Rsa2048Sha512, Algorithm::RS512),
        (TestName::Rsa3072Sha512, Algorithm::RS512),
        (TestName::Rsa4096Sha512, Algorithm::RS512),
        (TestName::Rsa8192Sha512, Algorithm::RS512),
    ];
    let mut total = Counts::default();
    let mut mismatches = Vec::new();
    for (name, alg) in sets {
        let set = TestSet::load(name).unwrap();
        let mut c = Counts { sets: 1, ..Counts::default() };
        for group in &set.test_groups {
            c.groups += 1;
            let parsed = VerifyingKey::from_der(&group.der);
            if !RSA_BITS.contains(&group.key_size) {
                // Outside our size policy: the key must be refused, and the group is skipped.
                assert!(parsed.is_err(), "{name:?}: a {}-bit key was accepted", group.key_size);
                c.groups_skipped_by_size_policy += 1;
                continue;
            }
            let key = parsed.unwrap_or_else(|e| panic!("{name:?}: {}-bit key refused: {e}", group.key_size));
            assert_eq!(key.bits(), group.key_size);
            // SPKI DER, PKCS#1 DER and raw components all give the same key.
            let pkcs1 = VerifyingKey::from_der(&group.asn_key).unwrap();
            let raw = VerifyingKey::from_rsa_components(None, None, &group.key.n, &group.key.e).unwrap();
            assert_eq!(key.fingerprint(), pkcs1.fingerprint());
            assert_eq!(key.fingerprint(), raw.fingerprint());
            let pem = VerifyingKey::from_pem(&group.pem).unwrap();
            assert_eq!(key.fingerprint(), pem.fingerprint());
            for test in &group.tests {
                let got = key.verify(alg, &test.msg, &test.sig);
                match test.result {
                    TestResult::Valid if got => c.valid_accepted += 1,
                    TestResult::Invalid if !got => c.invalid_rejected += 1,
                    TestResult::Acceptable if got => c.acceptable_accepted += 1,
                    TestResult::Acceptable => c.acceptable_rejected += 1,
                    expected => mismatches.push(format!(
                        "{name:?} tcId {} ({}; flags {:?}): expected {expected:?}, got {got}",
                        test.tc_id, test.comment, test.flags
                    )),
                }
                if got {
                    // A signature valid under one hash never verifies under another.
                    for other in Algorithm::ALL.into_iter().filter(|a| *a != alg) {
                        assert!(!key.verify(other, &test.msg, &test.sig), "{name:?} tcId {}", test.tc_id);
                        c.cross_alg_rejected += 1;
                    }
                }
            }
        }
        eprintln!(
            "wycheproof {name:?}: {} groups ({} skipped by size policy), valid accepted {}, invalid rejected {}, \
             acceptable accepted/rejected {}/{}",
            c.groups,
            c.groups_skipped_by_size_policy,
            c.valid_accepted,
            c.invalid_rejected,
            c.acceptable_accepted,
            c.acceptable_rejected
        );
        total.sets += c.sets;
        total.groups += c.groups;
        total.groups_skipped_by_size_policy += c.groups_skipped_by_size_policy;
        total.valid_accepted += c.valid_accepted;
        total.invalid_rejected += c.invalid_rejected;
        total.acceptable_accepted += c.acceptable_accepted;
        total.acceptable_rejected += c.acceptable_rejected;
        total.cross_alg_rejected += c.cross_alg_rejected;
    }
    eprintln!("wycheproof total: {total:?}");
    assert!(mismatches.is_empty(), "{} Wycheproof mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    assert_eq!(total.sets, 12);
    assert!(total.valid_accepted > 0 && total.invalid_rejected > 0);
}

#[test]
fn keys_outside_the_size_policy_are_refused() {
    // Wycheproof has no sub-2048 PKCS#1 v1.5 set in this crate version; check the policy edges directly.
    for bits in [1024usize, 2047, 8193, 16384] {
        let bytes = bits.div_ceil(8);
        let mut n = vec![0xffu8; bytes];
        let top = bits % 8;
        if top != 0 {
            n[0] = (1u8 << top) - 1;
        }
        n[bytes - 1] |= 1;
        assert!(VerifyingKey::from_rsa_components(None, None, &n, &[1, 0, 1]).is_err(), "{bits}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// clerk-behaviour.md §4: the v2 organization-permission vector, through a full token
// ---------------------------------------------------------------------------------------------------------------

const NOW: u64 = 1_700_000_000;

fn v2_claims(fea: &str, per: &str, fpm: &str) -> serde_json::Value {
    json!({
        "sub": "user_2bVftRtFezPdchfaz9999999999",
        "sid": "sess_2bVftP1rQemOu4CPj9999999999",
        "exp": NOW + 60,
        "iat": NOW,
        "nbf": NOW - 10,
        "v": 2,
        "fea": fea,
        "pla": "o:pro",
        "o": {"id": "org_2bVftRtFezPdchfaz0000000000", "slg": "acme", "rol": "admin", "per": per, "fpm": fpm},
    })
}

#[tokio::test]
async fn v2_permission_vector_through_a_full_token() {
    let k = key_a();
    let v = Verifier::builder().jwks_json(k.jwks()).unwrap().clock(TestClock::at_secs(NOW)).build().unwrap();
    let expected = [
        "org:repositories:read",
        "org:repositories:create",
        "org:repositories:update",
        "org:projects:read",
        "org:projects:update",
        "org:projects:revoke",
    ];

    let token = k.sign(&v2_claims("o:repositories,o:projects", "read,create,update,delete,revoke", "7,21"));
    let auth = v.verify(&token).await.unwrap();
    assert_eq!(auth.claims_version(), 2);
    assert_eq!(auth.org_permissions(), expected);
    assert_eq!(auth.org_role(), Some("org:admin"));
    for p in expected {
        assert!(auth.has(Check::Permission(p)), "{p}");
    }
    for p in ["org:repositories:delete", "org:repositories:revoke", "org:projects:create", "org:projects:delete"] {
        assert!(!auth.has(Check::Permission(p)), "{p}");
    }

    // User-scoped features take no fpm slot: the same permissions come out.
    let token =
        k.sign(&v2_claims("u:profile,o:repositories,u:api,o:projects", "read,create,update,delete,revoke", "7,21"));
    let auth = v.verify(&token).await.unwrap();
    assert_eq!(auth.org_permissions(), expected);

    // The same token shape through the PEM (networkless) path.
    let pem = Verifier::builder().jwt_key(&k.public_pem).unwrap().clock(TestClock::at_secs(NOW)).build().unwrap();
    let token = k.sign(&v2_claims("o:repositories,o:projects", "read,create,update,delete,revoke", "7,21"));
    assert_eq!(pem.verify(&token).await.unwrap().org_permissions(), expected);
}
