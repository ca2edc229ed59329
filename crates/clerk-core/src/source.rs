//! Finding the session token in a request: `Authorization: Bearer …`, else the session cookie.
//!
//! Framework-neutral: works on [`http::HeaderMap`], which axum, actix (through its `http` conversion), hyper and
//! tower all expose. Follows Clerk's rules (see `docs/architecture.md`):
//!
//! 1. The `Authorization` header is split once on the first space. Scheme `Bearer` (any case, as RFC 9110 says of
//!    schemes) → the rest is the token; a value without a space is taken whole; any other scheme yields no token.
//! 2. When the header yields a token, cookies are not read. Otherwise the session cookie: the instance-suffixed
//!    `__session_<suffix>` when the publishable key is known and that cookie is present, else `__session` (the name is
//!    configurable).
//! 3. Never the query string.

use std::fmt;

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

use crate::error::BuildError;
use crate::keys::PublishableKey;

/// Where a token was found. Cookie tokens are exposed to cross-site misuse: configure authorized parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// The `Authorization: Bearer` header.
    Header,
    /// A session cookie.
    Cookie,
}

/// A token found in a request, borrowed from its headers. `Debug` does not print it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FoundToken<'a> {
    token: &'a str,
    origin: TokenOrigin,
}

impl fmt::Debug for FoundToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FoundToken").field("token", &"[redacted]").field("origin", &self.origin).finish()
    }
}

impl<'a> FoundToken<'a> {
    /// The token text.
    #[must_use]
    pub const fn token(&self) -> &'a str {
        self.token
    }

    /// Where it came from.
    #[must_use]
    pub const fn origin(&self) -> TokenOrigin {
        self.origin
    }
}

/// The request carries credentials that cannot be read: distinct from "no token at all".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenSourceError {
    /// The `Authorization` header is not visible ASCII.
    #[error("the Authorization header is not visible ASCII")]
    NonAsciiHeader,
    /// `Authorization: Bearer` with nothing after it.
    #[error("the Authorization header has an empty bearer token")]
    EmptyBearer,
    /// More than one `Authorization` header.
    #[error("more than one Authorization header")]
    MultipleAuthorizationHeaders,
    /// The session cookie's value is not visible ASCII.
    #[error("the session cookie is not visible ASCII")]
    NonAsciiCookie,
}

/// Where to look for the session token; cheap to clone and share.
///
/// ```
/// use clerk_core::{TokenExtractor, TokenOrigin};
/// let mut headers = http::HeaderMap::new();
/// headers.insert("cookie", "theme=dark; __session=eyJ.a.b".parse().unwrap());
/// let found = TokenExtractor::default().extract(&headers).unwrap().unwrap();
/// assert_eq!(found.token(), "eyJ.a.b");
/// assert_eq!(found.origin(), TokenOrigin::Cookie);
/// ```
#[derive(Debug, Clone)]
pub struct TokenExtractor {
    cookie_name: String,
    suffix: Option<String>,
    suffixed_cookie_name: Option<String>,
}

impl Default for TokenExtractor {
    fn default() -> Self {
        Self { cookie_name: DEFAULT_COOKIE.to_owned(), suffix: None, suffixed_cookie_name: None }
    }
}

/// The session cookie's default name.
pub const DEFAULT_COOKIE: &str = "__session";

impl TokenExtractor {
    /// Looks in the header, then the `__session` cookie.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the session from another cookie. Default `__session`.
    ///
    /// # Errors
    /// [`BuildError::InvalidCookieName`] when the name is empty or not an RFC 6265 token.
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Result<Self, BuildError> {
        let name = name.into();
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !valid {
            return Err(BuildError::InvalidCookieName);
        }
        self.cookie_name = name;
        self.suffixed_cookie_name = self.suffix.as_ref().map(|s| format!("{}_{s}", self.cookie_name));
        Ok(self)
    }

    /// Prefers the instance-suffixed cookie `{cookie_name}_{suffix}` when present (Clerk sets both).
    #[must_use]
    pub fn with_publishable_key(mut self, key: &PublishableKey) -> Self {
        let suffix = key.cookie_suffix();
        self.suffixed_cookie_name = Some(format!("{}_{suffix}", self.cookie_name));
        self.suffix = Some(suffix);
        self
    }

    /// The cookie name read when no suffixed cookie is found.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// Finds the session token.
    ///
    /// `Ok(None)` means no credentials at all; `Err` means credentials that cannot be read (a client error, not a
    /// signed-out user).
    ///
    /// # Errors
    /// See [`TokenSourceError`].
    pub fn extract<'h, H: CredentialHeaders + ?Sized>(
        &self,
        headers: &'h H,
    ) -> Result<Option<FoundToken<'h>>, TokenSourceError> {
        if let Some(token) = bearer_token(headers)? {
            return Ok(Some(FoundToken { token, origin: TokenOrigin::Header }));
        }
        Ok(self.cookie_token(headers)?.map(|token| FoundToken { token, origin: TokenOrigin::Cookie }))
    }

    /// The session cookie's token (the instance-suffixed cookie first): what [`extract`](Self::extract) reads when
    /// the `Authorization` header holds no token.
    pub(crate) fn cookie_token<'h, H: CredentialHeaders + ?Sized>(
        &self,
        headers: &'h H,
    ) -> Result<Option<&'h str>, TokenSourceError> {
        if let Some(suffixed) = &self.suffixed_cookie_name
            && let Some(token) = cookie_value(headers, suffixed)?
        {
            return Ok(Some(token));
        }
        cookie_value(headers, &self.cookie_name)
    }
}

/// Where tokens are read from: the values of the `Authorization` and `Cookie` headers, as bytes.
///
/// Implemented for [`http::HeaderMap`]. A framework that keeps its headers in another map (actix-web 4 uses `http`
/// 0.2) implements it over a borrowed map, so nothing is copied per request.
pub trait CredentialHeaders {
    /// Every `Authorization` header value, in the order received.
    fn authorization(&self) -> impl Iterator<Item = &[u8]>;
    /// Every `Cookie` header value, in the order received.
    fn cookie(&self) -> impl Iterator<Item = &[u8]>;
}

impl CredentialHeaders for HeaderMap {
    fn authorization(&self) -> impl Iterator<Item = &[u8]> {
        self.get_all(AUTHORIZATION).iter().map(http::HeaderValue::as_bytes)
    }

    fn cookie(&self) -> impl Iterator<Item = &[u8]> {
        self.get_all(COOKIE).iter().map(http::HeaderValue::as_bytes)
    }
}

/// The token of the `Authorization` header, by Clerk's rules; `Ok(None)` for no header or another scheme.
///
/// # Errors
/// See [`TokenSourceError`].
pub fn bearer_token<H: CredentialHeaders + ?Sized>(headers: &H) -> Result<Option<&str>, TokenSourceError> {
    raw_bearer(headers)?.map(|b| b.text()).transpose()
}

/// The bearer token of the `Authorization` header as found, before its text is checked: the request path reads the
/// header once, looks the bytes up among tokens already verified (a verified token is visible ASCII, so equal bytes
/// are a token [`bearer_token`] accepts), and checks the text only when the token is new.
#[derive(Clone, Copy)]
pub(crate) struct RawBearer<'h> {
    /// The whole header value.
    value: &'h [u8],
    token: &'h [u8],
}

impl<'h> RawBearer<'h> {
    /// The token's bytes, unchecked: only for a lookup among verified tokens.
    pub(crate) const fn bytes(self) -> &'h [u8] {
        self.token
    }

    /// The token as text, checked as [`bearer_token`] checks it (the whole value, as `http::HeaderValue::to_str`
    /// does, so the scheme and the spaces too).
    pub(crate) fn text(self) -> Result<&'h str, TokenSourceError> {
        if !is_header_text(self.value) {
            return Err(TokenSourceError::NonAsciiHeader);
        }
        // Visible ASCII is valid UTF-8.
        utf8(self.token).ok_or(TokenSourceError::NonAsciiHeader)
    }
}

/// The `Authorization` header's bearer token, read once ([`RawBearer`]); `Ok(None)` for no header or another scheme.
/// A value that holds no token is refused here when it is not header text, as [`bearer_token`] refuses it.
pub(crate) fn raw_bearer<H: CredentialHeaders + ?Sized>(
    headers: &H,
) -> Result<Option<RawBearer<'_>>, TokenSourceError> {
    let Some(value) = authorization(headers)? else { return Ok(None) };
    match bearer(value) {
        Ok(Some(token)) => Ok(Some(RawBearer { value, token })),
        _ if !is_header_text(value) => Err(TokenSourceError::NonAsciiHeader),
        other => other.map(|_| None),
    }
}

/// The only `Authorization` value; `Ok(None)` without one.
fn authorization<H: CredentialHeaders + ?Sized>(headers: &H) -> Result<Option<&[u8]>, TokenSourceError> {
    let mut values = headers.authorization();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(TokenSourceError::MultipleAuthorizationHeaders);
    }
    Ok(Some(value))
}

/// The token of an `Authorization` value: after `Bearer ` (any case), or the whole value without a scheme;
/// `Ok(None)` when empty or another scheme. Spaces and tabs around are not part of it.
fn bearer(value: &[u8]) -> Result<Option<&[u8]>, TokenSourceError> {
    let value = trim_ows(value);
    if value.is_empty() {
        return Ok(None);
    }
    match value.iter().position(|&b| b == b' ') {
        None if value.eq_ignore_ascii_case(b"bearer") => Err(TokenSourceError::EmptyBearer),
        None => Ok(Some(value)),
        Some(space) if value[..space].eq_ignore_ascii_case(b"bearer") => {
            let token = trim_ows(&value[space + 1..]);
            if token.is_empty() { Err(TokenSourceError::EmptyBearer) } else { Ok(Some(token)) }
        }
        Some(_) => Ok(None),
    }
}

/// What `http::HeaderValue::to_str` accepts: visible ASCII, spaces and tabs. As one minimum and one maximum over
/// the bytes, without an early exit, so that it runs many bytes at a time (a bearer token is ~1 KB); only a value
/// with a byte below a space (a tab, or a control character) is looked at again, byte by byte.
fn is_header_text(value: &[u8]) -> bool {
    let (lo, hi) = value.iter().fold((u8::MAX, 0u8), |(lo, hi), &b| (lo.min(b), hi.max(b)));
    value.is_empty() || (hi < 0x7f && (lo >= 0x20 || value.iter().all(|&b| b >= 0x20 || b == b'\t')))
}

/// `bytes` as text (SIMD validation; a token is ~1 KB of ASCII, where the standard library's check costs about an
/// instruction per byte).
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// The value of the named cookie across all `Cookie` headers; the first non-empty occurrence wins.
///
/// # Errors
/// [`TokenSourceError::NonAsciiCookie`] when the cookie's value is not visible ASCII.
pub fn cookie_value<'h, H: CredentialHeaders + ?Sized>(
    headers: &'h H,
    name: &str,
) -> Result<Option<&'h str>, TokenSourceError> {
    for header in headers.cookie() {
        for pair in header.split(|&b| b == b';') {
            let pair = trim_ows(pair);
            let Some(eq) = pair.iter().position(|&b| b == b'=') else { continue };
            if trim_ows(&pair[..eq]) != name.as_bytes() {
                continue;
            }
            let mut value = trim_ows(&pair[eq + 1..]);
            if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
                value = &value[1..value.len() - 1];
            }
            if value.is_empty() {
                continue;
            }
            if !value.iter().all(u8::is_ascii_graphic) {
                return Err(TokenSourceError::NonAsciiCookie);
            }
            // Visible ASCII is valid UTF-8.
            return utf8(value).map(Some).ok_or(TokenSourceError::NonAsciiCookie);
        }
    }
    Ok(None)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    fn ex(h: &HeaderMap) -> Result<Option<(&str, TokenOrigin)>, TokenSourceError> {
        TokenExtractor::default().extract(h).map(|o| o.map(|t| (t.token(), t.origin())))
    }

    /// `bearer_token` as it was written over `HeaderValue::to_str` (the reference for the byte-level one).
    fn bearer_token_via_to_str(headers: &HeaderMap) -> Result<Option<&str>, TokenSourceError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(TokenSourceError::MultipleAuthorizationHeaders);
        }
        let value = value.to_str().map_err(|_| TokenSourceError::NonAsciiHeader)?;
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.is_empty() {
            return Ok(None);
        }
        match value.split_once(' ') {
            None if value.eq_ignore_ascii_case("bearer") => Err(TokenSourceError::EmptyBearer),
            None => Ok(Some(value)),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                let token = rest.trim_start_matches([' ', '\t']);
                if token.is_empty() { Err(TokenSourceError::EmptyBearer) } else { Ok(Some(token)) }
            }
            Some(_) => Ok(None),
        }
    }

    /// The bytes the request path looks up among verified tokens ([`RawBearer::bytes`]), or `None`.
    fn bearer_token_bytes(h: &HeaderMap) -> Option<&[u8]> {
        raw_bearer(h).ok().flatten().map(RawBearer::bytes)
    }

    /// `bearer_token` answers as the `to_str` version did; `bearer_token_bytes` answers exactly the tokens it
    /// answers, and otherwise nothing, except bytes `bearer_token` refuses as not visible ASCII (which no verified
    /// token equals).
    fn bearer_readings_agree(values: &[&[u8]]) {
        let mut h = HeaderMap::new();
        for v in values {
            let Ok(v) = HeaderValue::from_bytes(v) else { return };
            h.append(AUTHORIZATION, v);
        }
        let token = bearer_token(&h);
        assert_eq!(token, bearer_token_via_to_str(&h), "{values:?}");
        match token {
            Ok(Some(t)) => assert_eq!(bearer_token_bytes(&h), Some(t.as_bytes())),
            Err(TokenSourceError::NonAsciiHeader) => {
                assert!(bearer_token_bytes(&h).is_none_or(|b| !b.iter().all(|c| c.is_ascii_graphic())));
            }
            _ => assert_eq!(bearer_token_bytes(&h), None, "{values:?}"),
        }
    }

    #[test]
    fn byte_level_bearer_reading_matches_to_str() {
        let cases: &[&[&[u8]]] = &[
            &[],
            &[b"Bearer abc"],
            &[b"bearer abc"],
            &[b"BEARER \t abc \t"],
            &[b"  Bearer abc"],
            &[b"abc"],
            &[b"Bearer"],
            &[b"bearer   "],
            &[b""],
            &[b"  \t "],
            &[b"Basic abc"],
            &[b"Bearer a b"],
            &[b"Bearer\tabc"],
            &[b"Bearer caf\xc3\xa9"],
            &[b"Basic caf\xc3\xa9"],
            &[b"Bearer \x80"],
            &[b"Bearer a", b"Bearer b"],
            &[b"Bearer a", b""],
        ];
        for values in cases {
            bearer_readings_agree(values);
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_level_bearer_reading_matches_to_str_on_any_value(
            value in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b' '), proptest::strategy::Just(b'\t'), proptest::strategy::Just(b'a'),
                proptest::strategy::Just(b'.'), proptest::strategy::Just(0x80u8), proptest::strategy::Just(0x7fu8),
                proptest::strategy::Just(0x1fu8), proptest::num::u8::ANY,
            ], 0..24),
            scheme in proptest::prop_oneof![
                proptest::strategy::Just(&b""[..]), proptest::strategy::Just(&b"Bearer "[..]),
                proptest::strategy::Just(&b"bEaReR"[..]), proptest::strategy::Just(&b"Basic "[..]),
            ],
        ) {
            let whole: Vec<u8> = scheme.iter().chain(&value).copied().collect();
            bearer_readings_agree(&[&whole]);
        }
    }

    #[test]
    fn bearer_header() {
        assert_eq!(ex(&headers(&[("authorization", b"Bearer abc")])), Ok(Some(("abc", TokenOrigin::Header))));
        assert_eq!(ex(&headers(&[("authorization", b"bearer abc")])), Ok(Some(("abc", TokenOrigin::Header))));
        assert_eq!(ex(&headers(&[("authorization", b"BEARER   abc ")])), Ok(Some(("abc", TokenOrigin::Header))));
        // No space: the whole value is the token (Clerk's rule).
        assert_eq!(ex(&headers(&[("authorization", b"abc.def.ghi")])), Ok(Some(("abc.def.ghi", TokenOrigin::Header))));
    }

    #[test]
    fn other_scheme_falls_back_to_cookie() {
        let h = headers(&[("authorization", b"Basic dXNlcjpwdw=="), ("cookie", b"__session=tok")]);
        assert_eq!(ex(&h), Ok(Some(("tok", TokenOrigin::Cookie))));
        let h = headers(&[("authorization", b"Basic dXNlcjpwdw==")]);
        assert_eq!(ex(&h), Ok(None));
    }

    #[test]
    fn header_wins_over_cookie() {
        let h = headers(&[("cookie", b"__session=fromcookie"), ("authorization", b"Bearer fromheader")]);
        assert_eq!(ex(&h), Ok(Some(("fromheader", TokenOrigin::Header))));
    }

    #[test]
    fn malformed_is_not_missing() {
        assert_eq!(ex(&headers(&[("authorization", b"Bearer")])), Err(TokenSourceError::EmptyBearer));
        assert_eq!(ex(&headers(&[("authorization", b"Bearer   ")])), Err(TokenSourceError::EmptyBearer));
        assert_eq!(ex(&headers(&[("authorization", b"Bearer \xe9t\xe9")])), Err(TokenSourceError::NonAsciiHeader));
        assert_eq!(
            ex(&headers(&[("authorization", b"Bearer a"), ("authorization", b"Bearer b")])),
            Err(TokenSourceError::MultipleAuthorizationHeaders)
        );
        assert_eq!(ex(&headers(&[("cookie", b"__session=\xe9\xe9")])), Err(TokenSourceError::NonAsciiCookie));
        assert_eq!(ex(&headers(&[])), Ok(None));
        assert_eq!(ex(&headers(&[("authorization", b"")])), Ok(None));
    }

    #[test]
    fn cookie_parsing() {
        let h = headers(&[("cookie", b"a=1; __session_x=no;__session=\"quoted\"; b=2")]);
        assert_eq!(ex(&h), Ok(Some(("quoted", TokenOrigin::Cookie))));
        // Empty value is no token; across several Cookie headers.
        let h = headers(&[("cookie", b"__session="), ("cookie", b"x=1; __session=second")]);
        assert_eq!(ex(&h), Ok(Some(("second", TokenOrigin::Cookie))));
        // Garbage in another cookie does not matter.
        let h = headers(&[("cookie", b"junk=\xff\xfe; __session=ok")]);
        assert_eq!(ex(&h), Ok(Some(("ok", TokenOrigin::Cookie))));
        // Name must match exactly, not by prefix.
        let h = headers(&[("cookie", b"__session2=nope; x__session=nope")]);
        assert_eq!(ex(&h), Ok(None));
    }

    #[test]
    fn custom_and_suffixed_cookie_names() {
        let pk = PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap();
        let suffixed = format!("__session_{}", pk.cookie_suffix());
        let e = TokenExtractor::new().with_publishable_key(&pk);
        let raw = format!("__session=plain; {suffixed}=suffixed");
        let h = headers(&[("cookie", raw.as_bytes())]);
        assert_eq!(e.extract(&h).unwrap().unwrap().token(), "suffixed");
        let h = headers(&[("cookie", b"__session=plain")]);
        assert_eq!(e.extract(&h).unwrap().unwrap().token(), "plain");

        let e = TokenExtractor::new().with_cookie_name("my_sess").unwrap();
        let h = headers(&[("cookie", b"__session=plain; my_sess=mine")]);
        assert_eq!(e.extract(&h).unwrap().unwrap().token(), "mine");
        assert!(TokenExtractor::new().with_cookie_name("bad name").is_err());
        assert!(TokenExtractor::new().with_cookie_name("").is_err());
    }

    #[test]
    fn debug_redacts() {
        let h = headers(&[("authorization", b"Bearer secret-token")]);
        let found = TokenExtractor::default().extract(&h).unwrap().unwrap();
        assert!(!format!("{found:?}").contains("secret-token"));
    }
}
