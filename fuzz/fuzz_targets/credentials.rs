//! The credentials a request carries: `Authorization` and `Cookie` header values (any bytes `http` accepts) through
//! `TokenExtractor::extract`, `bearer_token` and `cookie_value`, with the default cookie name and with a publishable
//! key (the instance-suffixed cookie first). No panic, and `extract` agrees with its parts: a header token is what
//! `bearer_token` finds (trimmed, non-empty header text, inside the one `Authorization` value), else a cookie token is
//! what `cookie_value` finds (visible ASCII), else both found nothing or one of them refused.
//!
//! Input: header lines `name: value` separated by `\n` (see `clerk_fuzz::headers`).
#![no_main]

use std::sync::OnceLock;

use clerk_core::{PublishableKey, TokenExtractor, TokenOrigin, TokenType, bearer_token, cookie_value};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;

fn extractors() -> &'static [(TokenExtractor, Option<String>); 2] {
    static E: OnceLock<[(TokenExtractor, Option<String>); 2]> = OnceLock::new();
    E.get_or_init(|| {
        let pk = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").expect("a publishable key");
        let suffixed = format!("__session_{}", pk.cookie_suffix());
        [(TokenExtractor::new(), None), (TokenExtractor::new().with_publishable_key(&pk), Some(suffixed))]
    })
}

fn check(headers: &HeaderMap, extractor: &TokenExtractor, suffixed: Option<&str>) {
    let bearer = bearer_token(headers);
    let cookie = || match suffixed.map(|name| cookie_value(headers, name)) {
        Some(Ok(Some(token))) => Ok(Some(token)),
        Some(Err(e)) => Err(e),
        _ => cookie_value(headers, extractor.cookie_name()),
    };
    match extractor.extract(headers) {
        Ok(Some(found)) => {
            let token = found.token();
            assert!(!token.is_empty());
            let _ = TokenType::of(token);
            match found.origin() {
                TokenOrigin::Header => {
                    assert_eq!(bearer, Ok(Some(token)));
                    let value = headers.get(http::header::AUTHORIZATION).expect("the header it came from");
                    assert!(value.to_str().expect("header text").contains(token));
                    assert!(token.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)), "{token:?}");
                    assert!(!token.starts_with([' ', '\t']) && !token.ends_with([' ', '\t']), "{token:?}");
                }
                TokenOrigin::Cookie => {
                    assert_eq!(bearer, Ok(None));
                    assert_eq!(cookie(), Ok(Some(token)));
                    assert!(token.bytes().all(|b| b.is_ascii_graphic()), "{token:?}");
                }
            }
        }
        Ok(None) => {
            assert_eq!(bearer, Ok(None));
            assert_eq!(cookie(), Ok(None));
        }
        Err(e) => assert!(bearer == Err(e) || (bearer == Ok(None) && cookie() == Err(e)), "{e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let (headers, _) = clerk_fuzz::headers(data);
    for (extractor, suffixed) in extractors() {
        check(&headers, extractor, suffixed.as_deref());
    }
});
