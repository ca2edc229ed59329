//! actix-web 4 keeps its headers in an `http` 0.2 map; the authenticator reads an `http` 1.x one.

use actix_web::http::header::HeaderMap as ActixHeaderMap;
use clerk_api::plug::Failure;

/// Copies actix's headers into an `http` 1.x map, name and value bytes as received (so a non-ASCII value stays
/// non-ASCII and is judged by the verifier, which refuses it: `401`, never a panic).
///
/// Both `http` versions accept the same bytes, so a copy cannot fail in practice; if one ever did, a credential
/// header (`Authorization`, `Cookie`) that cannot be copied refuses the request rather than being dropped (which
/// would turn "unreadable credentials" into "signed out"), and any other header is left out.
pub(crate) fn to_http(headers: &ActixHeaderMap) -> Result<http::HeaderMap, Failure> {
    let mut out = http::HeaderMap::with_capacity(headers.len_keys());
    for (name, value) in headers {
        let copied = http::HeaderName::from_bytes(name.as_str().as_bytes())
            .ok()
            .zip(http::HeaderValue::from_bytes(value.as_bytes()).ok());
        match copied {
            Some((name, value)) => {
                out.append(name, value);
            }
            None if is_credential(name.as_str()) => {
                let f = Failure::Unauthorized { token_present: true, reason: "token-invalid" };
                tracing::info!(target: "clerk::auth", reason = f.reason(), header = name.as_str(), "request refused: unreadable credentials");
                return Err(f);
            }
            None => {
                tracing::debug!(target: "clerk::auth", header = name.as_str(), "header left out: not a valid HTTP header");
            }
        }
    }
    Ok(out)
}

fn is_credential(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie")
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn copies_every_value_byte_for_byte() {
        let mut h = ActixHeaderMap::new();
        h.append(HeaderName::from_static("authorization"), HeaderValue::from_bytes(b"Bearer caf\xc3\xa9").unwrap());
        h.append(HeaderName::from_static("cookie"), HeaderValue::from_static("a=1"));
        h.append(HeaderName::from_static("cookie"), HeaderValue::from_static("__session=t"));
        let out = to_http(&h).unwrap();
        assert_eq!(out.get(http::header::AUTHORIZATION).unwrap().as_bytes(), b"Bearer caf\xc3\xa9");
        let cookies: Vec<_> = out.get_all(http::header::COOKIE).iter().map(|v| v.as_bytes().to_vec()).collect();
        assert_eq!(cookies, [b"a=1".to_vec(), b"__session=t".to_vec()]);
    }
}
