//! actix-web 4 keeps its headers in an `http` 0.2 map; the authenticator and the webhook verifier read `http` 1.x
//! ones. The authenticator reads credentials through [`CredentialHeaders`], implemented here over actix's own map
//! (nothing copied); the webhook verifier gets the few headers it reads copied.

use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaderMap};
use clerk_core::CredentialHeaders;

/// actix's header map as the authenticator reads it: the `Authorization` and `Cookie` values, every one, bytes as
/// received (a non-ASCII value is judged by the token extractor, which refuses it: `401`, never a panic).
pub(crate) struct Credentials<'a>(pub(crate) &'a ActixHeaderMap);

impl CredentialHeaders for Credentials<'_> {
    fn authorization(&self) -> impl Iterator<Item = &[u8]> {
        self.0.get_all(actix_header::AUTHORIZATION).map(actix_header::HeaderValue::as_bytes)
    }

    fn cookie(&self) -> impl Iterator<Item = &[u8]> {
        self.0.get_all(actix_header::COOKIE).map(actix_header::HeaderValue::as_bytes)
    }
}

#[cfg(feature = "webhooks")]
/// The webhook headers the verifier reads: Svix's, and the Standard Webhooks aliases.
const WEBHOOK_HEADERS: [&str; 6] =
    ["svix-id", "svix-timestamp", "svix-signature", "webhook-id", "webhook-timestamp", "webhook-signature"];

#[cfg(feature = "webhooks")]
/// Copies the webhook headers (the first value of each, the one the verifier reads) into an `http` 1.x map, bytes
/// as received: a non-ASCII value is refused by the verifier (`invalid-header`), never a panic. A value that could
/// not be copied (impossible in practice) is left out, and the verifier refuses the request for a missing header.
pub(crate) fn webhook(headers: &ActixHeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(3);
    for name in WEBHOOK_HEADERS {
        let Some(value) = headers.get(name) else { continue };
        match http::HeaderValue::from_bytes(value.as_bytes()) {
            Ok(value) => {
                out.insert(http::HeaderName::from_static(name), value);
            }
            Err(_) => {
                tracing::debug!(target: "clerk::webhooks", header = name, "header left out: not a valid HTTP header")
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    /// The same headers in actix's map and in an `http` 1.x map.
    fn both(pairs: &[(&'static str, &[u8])]) -> (ActixHeaderMap, http::HeaderMap) {
        let (mut a, mut h) = (ActixHeaderMap::new(), http::HeaderMap::new());
        for &(name, value) in pairs {
            a.append(HeaderName::from_static(name), HeaderValue::from_bytes(value).unwrap());
            h.append(http::HeaderName::from_static(name), http::HeaderValue::from_bytes(value).unwrap());
        }
        (a, h)
    }

    #[test]
    fn actix_headers_read_as_http_headers_do() {
        let cases: &[&[(&str, &[u8])]] = &[
            &[],
            &[("authorization", b"Bearer a.b.c")],
            &[("authorization", b"  bEaReR \t a.b.c  ")],
            &[("authorization", b"a.b.c")],
            &[("authorization", b"Bearer")],
            &[("authorization", b"Basic dXNlcg==")],
            &[("authorization", b"Bearer caf\xc3\xa9")],
            &[("authorization", b"Basic caf\xc3\xa9")],
            &[("authorization", b"Bearer a"), ("authorization", b"Bearer b")],
            &[("cookie", b"a=1"), ("cookie", b"__session=t"), ("host", b"example.com")],
            &[("cookie", b"__session=\"t\"; __session_abc=u")],
            &[("cookie", b"__session=caf\xc3\xa9")],
            &[("authorization", b"Basic x"), ("cookie", b"__session=t")],
            &[("authorization", b"Bearer h"), ("cookie", b"__session=t")],
        ];
        let extractor = clerk_core::TokenExtractor::new();
        let custom = clerk_core::TokenExtractor::new().with_cookie_name("__session_abc").unwrap();
        for pairs in cases {
            let (a, h) = both(pairs);
            let creds = Credentials(&a);
            for e in [&extractor, &custom] {
                let from_actix = e.extract(&creds).map(|t| t.map(|t| (t.token(), t.origin())));
                let from_http = e.extract(&h).map(|t| t.map(|t| (t.token(), t.origin())));
                assert_eq!(from_actix, from_http, "{pairs:?}");
            }
        }
    }

    #[cfg(feature = "webhooks")]
    #[test]
    fn copies_the_first_webhook_header_of_each_name() {
        let mut h = ActixHeaderMap::new();
        h.append(HeaderName::from_static("svix-id"), HeaderValue::from_static("msg_1"));
        h.append(HeaderName::from_static("svix-id"), HeaderValue::from_static("msg_2"));
        h.append(HeaderName::from_static("webhook-signature"), HeaderValue::from_bytes(b"v1,caf\xc3\xa9").unwrap());
        h.append(HeaderName::from_static("authorization"), HeaderValue::from_static("Bearer x"));
        let out = webhook(&h);
        assert_eq!(out.get("svix-id").unwrap(), "msg_1");
        assert_eq!(out.get("webhook-signature").unwrap().as_bytes(), b"v1,caf\xc3\xa9");
        assert_eq!(out.len(), 2);
    }
}
