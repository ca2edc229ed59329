//! actix-web 4 keeps its headers in an `http` 0.2 map; the authenticator and the webhook verifier read `http` 1.x
//! ones. Only the headers they read are copied.

use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaderMap};
use clerk_api::plug::Failure;

/// Copies the headers the authenticator reads (`Authorization` and `Cookie`: session tokens come from the header or
/// the cookie, machine tokens from the header; nothing else is looked at) into an `http` 1.x map, every value, bytes
/// as received, so a non-ASCII value stays non-ASCII and is judged by the verifier, which refuses it: `401`, never a
/// panic. Copying the other headers would cost an allocation each and change nothing.
///
/// Both `http` versions accept the same bytes, so a copy cannot fail in practice; if one ever did, the request is
/// refused (`token-invalid`) rather than the header dropped, which would turn "unreadable credentials" into "signed
/// out".
pub(crate) fn credentials(headers: &ActixHeaderMap) -> Result<http::HeaderMap, Failure> {
    let mut out = http::HeaderMap::new();
    copy(headers, &actix_header::AUTHORIZATION, &http::header::AUTHORIZATION, &mut out)?;
    copy(headers, &actix_header::COOKIE, &http::header::COOKIE, &mut out)?;
    Ok(out)
}

fn copy(
    from: &ActixHeaderMap,
    name: &actix_header::HeaderName,
    to_name: &http::HeaderName,
    to: &mut http::HeaderMap,
) -> Result<(), Failure> {
    for value in from.get_all(name) {
        let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) else {
            let f = Failure::Unauthorized { token_present: true, reason: "token-invalid" };
            tracing::info!(target: "clerk::auth", reason = f.reason(), header = name.as_str(), "request refused: unreadable credentials");
            return Err(f);
        };
        to.append(to_name.clone(), value);
    }
    Ok(())
}

/// The webhook headers the verifier reads: Svix's, and the Standard Webhooks aliases.
const WEBHOOK_HEADERS: [&str; 6] =
    ["svix-id", "svix-timestamp", "svix-signature", "webhook-id", "webhook-timestamp", "webhook-signature"];

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

    #[test]
    fn copies_every_credential_value_byte_for_byte_and_nothing_else() {
        let mut h = ActixHeaderMap::new();
        h.append(HeaderName::from_static("authorization"), HeaderValue::from_bytes(b"Bearer caf\xc3\xa9").unwrap());
        h.append(HeaderName::from_static("cookie"), HeaderValue::from_static("a=1"));
        h.append(HeaderName::from_static("cookie"), HeaderValue::from_static("__session=t"));
        h.append(HeaderName::from_static("host"), HeaderValue::from_static("example.com"));
        h.append(HeaderName::from_static("x-custom"), HeaderValue::from_static("1"));
        let out = credentials(&h).unwrap();
        assert_eq!(out.get(http::header::AUTHORIZATION).unwrap().as_bytes(), b"Bearer caf\xc3\xa9");
        let cookies: Vec<_> = out.get_all(http::header::COOKIE).iter().map(|v| v.as_bytes().to_vec()).collect();
        assert_eq!(cookies, [b"a=1".to_vec(), b"__session=t".to_vec()]);
        assert_eq!(out.len(), 3, "only the credential headers");
        assert!(credentials(&ActixHeaderMap::new()).unwrap().is_empty());
    }

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
