//! Arbitrary text as a token: `Verifier::verify` (session tokens) and `Verifier::verify_machine_jwt` on a verifier
//! with a static JWKS of keys made for this process (nobody, the fuzzer included, holds them). No panic, and nothing
//! verifies: an arbitrary token must be refused.
//!
//! Input: the token (bytes that are not UTF-8 are replaced, as a header's text could not hold them).
#![no_main]

use clerk_core::TokenType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let verifier = clerk_fuzz::verifier();
    let _ = TokenType::of(&token);
    clerk_fuzz::runtime().block_on(async {
        let session = verifier.verify(&token).await;
        assert!(session.is_err(), "an arbitrary token verified as a session: {token:?}");
        let machine = verifier.verify_machine_jwt(&token).await;
        assert!(machine.is_err(), "an arbitrary token verified as a machine JWT: {token:?}");
    });
});
