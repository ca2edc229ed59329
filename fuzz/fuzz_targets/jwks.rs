//! Key material from the network or the environment: arbitrary bytes as a JWKS document
//! (`KeySet::from_jwks_json`) and as a DER key (`VerifyingKey::from_der`), arbitrary text as a PEM key
//! (`KeySet::from_pem`, which also takes `\n` escapes and bare base64). No panic, and a parsed set is consistent:
//! every kid it lists finds its key, sizes within `RSA_BITS`.
//!
//! Input: the document (or key) bytes.
#![no_main]

use clerk_core::{KeySet, RSA_BITS, VerifyingKey};
use libfuzzer_sys::fuzz_target;

fn check(set: &KeySet) {
    assert!(!set.is_empty());
    for kid in set.kids() {
        let key = set.get(Some(kid)).expect("a listed kid finds its key");
        assert_eq!(key.kid(), Some(kid));
        assert!(RSA_BITS.contains(&key.bits()));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = KeySet::from_jwks_json(data) {
        check(&set);
        assert_eq!(set.len(), set.kids().count());
    }
    if let Ok(key) = VerifyingKey::from_der(data) {
        assert!(RSA_BITS.contains(&key.bits()));
    }
    if let Ok(set) = KeySet::from_pem(&String::from_utf8_lossy(data)) {
        assert_eq!(set.len(), 1);
        assert!(set.get(None).is_some());
    }
});
