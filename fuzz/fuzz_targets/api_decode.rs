//! The Backend API client's reading of Clerk's answers: a body (and status) replayed by an in-memory transport to
//! the real client (no retries), for a user (`GET /users/{id}`), a `Page` of users, the engine's `load_user` and
//! opaque machine-token verification (API key, M2M, OAuth), and the JWKS as a key source; and, through the generated
//! decode-by-name table, as the answer of any of the spec's operations. No panic; an answer other than 2xx never
//! decodes into a value.
//!
//! Input: byte 0 and 1 pick the call, byte 2 the status, the rest is the body.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use clerk_api::{Client, RetryPolicy};
use clerk_core::{BackendApi, BoxFuture, HttpTransport, JwksSource, TransportError, UserId};
use libfuzzer_sys::fuzz_target;

/// The answer the transport gives next.
static ANSWER: Mutex<Option<(u16, Bytes)>> = Mutex::new(None);

#[derive(Debug)]
struct Replay;

impl HttpTransport for Replay {
    fn send(&self, _: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let (status, body) = ANSWER.lock().expect("not poisoned").clone().expect("an answer");
        Box::pin(async move {
            let response = http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("retry-after", "1")
                .header("clerk-trace-id", "trace_fuzz")
                .body(body)
                .expect("a response");
            Ok(response)
        })
    }
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .secret_key("sk_test_fuzz")
            .expect("a secret key")
            .retry(RetryPolicy::none())
            .transport(Arc::new(Replay))
            .build()
            .expect("a client")
    })
}

/// The operation ids of the generated decode-by-name table (`__decode_response`), read from its source.
fn operations() -> &'static [&'static str] {
    static OPS: OnceLock<Vec<&'static str>> = OnceLock::new();
    OPS.get_or_init(|| {
        let source = include_str!("../../crates/clerk-api/src/generated/examples.rs");
        let start = source.find("pub fn __decode_response").expect("the table");
        let table = &source[start..];
        let table = &table[..table.find("\n}\n").expect("its end")];
        table.lines().filter_map(|l| l.trim().strip_prefix('"')?.split_once("\" => ").map(|(op, _)| op)).collect()
    })
}

const STATUSES: [u16; 12] = [200, 200, 200, 200, 201, 204, 400, 401, 404, 422, 429, 500];
const CALLS: usize = 7;

fuzz_target!(|data: &[u8]| {
    let [a, b, s, body @ ..] = data else { return };
    let status = STATUSES[usize::from(*s) % STATUSES.len()];
    let ok = (200..300).contains(&status);
    *ANSWER.lock().expect("not poisoned") = Some((status, Bytes::copy_from_slice(body)));
    let client = client();
    let pick = usize::from(u16::from_le_bytes([*a, *b])) % (CALLS + operations().len());
    clerk_fuzz::runtime().block_on(async {
        let decoded = match pick {
            0 => client.users().get("user_1").send().await.is_ok(),
            1 => client.users().list().send().await.is_ok(),
            2 => client.load_user(&UserId::new("user_1")).await.is_ok(),
            3 => BackendApi::verify_machine_token(client, "ak_fuzz").await.is_ok(),
            4 => BackendApi::verify_machine_token(client, "mt_fuzz").await.is_ok(),
            5 => BackendApi::verify_machine_token(client, "oat_fuzz").await.is_ok(),
            6 => client.fetch().await.is_ok(),
            _ => {
                let op = operations()[pick - CALLS];
                let Ok(json) = std::str::from_utf8(body) else { return };
                let _ = clerk_api::__decode_response(op, json).expect("a known operation");
                return;
            }
        };
        assert!(ok || !decoded, "a {status} answer decoded (call {pick})");
    });
});
