//! Building requests: path segments, query strings, bodies and per-request options; and turning them into
//! `http::Request`s (for sending, or for snapshots without sending).

use std::fmt;

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::error::Error;

/// Characters left as they are in a path segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// Characters left as they are in a query key or value.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Per-request overrides: another secret key (one process serving several Clerk instances), extra headers, and
/// opting a POST or PATCH into retries.
#[derive(Default, Clone)]
#[must_use]
pub struct RequestOptions {
    pub(crate) secret_key: Option<SecretString>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) retry_non_idempotent: bool,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "[redacted]"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry_non_idempotent", &self.retry_non_idempotent)
            .finish()
    }
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this secret key for this request instead of the client's.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] unless it looks like a Clerk secret key.
    pub fn secret_key(mut self, key: &str) -> Result<Self, Error> {
        let key = clerk_core::parse_secret_key(key).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.secret_key = Some(key);
        Ok(self)
    }

    /// Adds a header to this request.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an invalid name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::InvalidRequest(format!("invalid header name `{name}`")))?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidRequest(format!("invalid value for header `{name}`")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Lets this POST or PATCH be retried like an idempotent request (only when you know it is safe).
    pub const fn retry_non_idempotent(mut self) -> Self {
        self.retry_non_idempotent = true;
        self
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(Bytes),
    Multipart { boundary: String, bytes: Bytes },
}

/// A file part of a multipart body.
#[derive(Clone)]
pub struct FilePart {
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) bytes: Bytes,
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl FilePart {
    /// A file with its name and content type (e.g. `logo.png`, `image/png`).
    pub fn new(file_name: impl Into<String>, content_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self { file_name: file_name.into(), content_type: content_type.into(), bytes: bytes.into() }
    }
}

/// A request ready to send: method, encoded path and query, body, options.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) options: RequestOptions,
    pub(crate) operation: &'static str,
}

impl Req {
    pub(crate) fn new(method: http::Method, operation: &'static str) -> Self {
        Self {
            method,
            path: String::new(),
            query: Vec::new(),
            body: Body::None,
            options: RequestOptions::default(),
            operation,
        }
    }

    /// Appends a literal path piece (from the spec, already safe).
    pub(crate) fn lit(mut self, s: &str) -> Self {
        self.path.push_str(s);
        self
    }

    /// Appends a caller-supplied path segment, percent-encoded. Empty, `.` and `..` are refused before any request
    /// is sent (path traversal).
    pub(crate) fn seg(mut self, name: &str, value: &str) -> Result<Self, Error> {
        if value.is_empty() || value == "." || value == ".." {
            return Err(Error::InvalidRequest(format!("`{name}` must not be empty, `.` or `..`")));
        }
        self.path.extend(utf8_percent_encode(value, SEGMENT));
        Ok(self)
    }

    /// Adds a query parameter (serialised as Clerk expects: booleans `true`/`false`, lists as repeated keys).
    pub(crate) fn query<T: QueryValue + ?Sized>(mut self, name: &str, value: &T) -> Self {
        value.push_query(name, &mut self.query);
        self
    }

    pub(crate) fn json<T: Serialize>(mut self, body: &T) -> Result<Self, Error> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| Error::InvalidRequest(format!("cannot encode the body: {e}")))?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn multipart(mut self, fields: &[(&str, &str)], files: &[(&str, &FilePart)]) -> Self {
        let boundary = format!("clerk-rs-{:016x}", rand_u64());
        let mut out = Vec::new();
        for (name, value) in fields {
            out.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n", quote(name))
                    .as_bytes(),
            );
        }
        for (name, file) in files {
            out.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                    quote(name),
                    quote(&file.file_name),
                    file.content_type.replace(['\r', '\n'], "")
                )
                .as_bytes(),
            );
            out.extend_from_slice(&file.bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.body = Body::Multipart { boundary, bytes: Bytes::from(out) };
        self
    }

    pub(crate) fn with_options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    pub(crate) fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            http::Method::GET | http::Method::HEAD | http::Method::PUT | http::Method::DELETE | http::Method::OPTIONS
        )
    }

    /// The path and query as sent, after the API URL.
    pub(crate) fn path_and_query(&self) -> String {
        let mut s = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.extend(utf8_percent_encode(k, QUERY));
            s.push('=');
            s.extend(utf8_percent_encode(v, QUERY));
        }
        s
    }

    /// The `http::Request` this is, against `config`.
    pub(crate) fn to_http(&self, config: &crate::client::Config) -> Result<http::Request<Bytes>, Error> {
        let uri = format!("{}/v1{}", config.api_url, self.path_and_query());
        let key = self.options.secret_key.as_ref().unwrap_or(&config.secret_key);
        let mut auth = http::HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .map_err(|_| Error::InvalidRequest("the secret key is not a valid header value".to_owned()))?;
        auth.set_sensitive(true);
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(&uri)
            .header(http::header::AUTHORIZATION, auth)
            .header(http::header::ACCEPT, "application/json")
            .header("clerk-api-version", &config.api_version)
            .header(http::header::USER_AGENT, &config.user_agent);
        let body = match &self.body {
            Body::None => Bytes::new(),
            Body::Json(b) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                b.clone()
            }
            Body::Multipart { boundary, bytes } => {
                builder =
                    builder.header(http::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
                bytes.clone()
            }
        };
        let mut req = builder.body(body).map_err(|_| Error::InvalidRequest(format!("invalid request URL `{uri}`")))?;
        for (name, value) in &self.options.headers {
            req.headers_mut().append(name, value.clone());
        }
        Ok(req)
    }
}

fn quote(s: &str) -> String {
    s.replace(['"', '\r', '\n'], "_")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// Values that can go in a query string.
pub(crate) trait QueryValue {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>);
}

impl QueryValue for str {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        out.push((name.to_owned(), self.to_owned()));
    }
}

impl QueryValue for String {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        out.push((name.to_owned(), self.clone()));
    }
}

impl QueryValue for bool {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        out.push((name.to_owned(), if *self { "true" } else { "false" }.to_owned()));
    }
}

macro_rules! query_num {
    ($($t:ty),*) => {$(
        impl QueryValue for $t {
            fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
                out.push((name.to_owned(), self.to_string()));
            }
        }
    )*};
}
query_num!(i32, i64, u32, u64, f64);

impl<T: QueryValue> QueryValue for Vec<T> {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        for v in self {
            v.push_query(name, out);
        }
    }
}

impl<T: QueryValue + ?Sized> QueryValue for &T {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        (**self).push_query(name, out);
    }
}

impl<T: QueryValue> QueryValue for Option<T> {
    fn push_query(&self, name: &str, out: &mut Vec<(String, String)>) {
        if let Some(v) = self {
            v.push_query(name, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_traversal_refused() {
        let r = Req::new(http::Method::GET, "GetUser").lit("/users/").seg("user_id", "a/b?c#d e").unwrap();
        assert_eq!(r.path, "/users/a%2Fb%3Fc%23d%20e");
        for bad in ["", ".", ".."] {
            assert!(matches!(Req::new(http::Method::GET, "x").seg("user_id", bad), Err(Error::InvalidRequest(_))));
        }
        let r = Req::new(http::Method::GET, "x")
            .lit("/x")
            .query("email_address", &vec!["a+b@x.com".to_owned(), "c".into()])
            .query("limit", &10i64)
            .query("paginated", &true);
        assert_eq!(r.path_and_query(), "/x?email_address=a%2Bb%40x.com&email_address=c&limit=10&paginated=true");
    }

    #[test]
    fn options_debug_redacts() {
        let o = RequestOptions::new().secret_key("sk_test_secret").unwrap();
        assert!(!format!("{o:?}").contains("sk_test_secret"));
        assert!(RequestOptions::new().secret_key("nope").is_err());
    }
}
