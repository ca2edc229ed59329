//! The start-up check (`Verifier::check`) against the emulator, and the configuration warning at build time.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use clerk_core::{KeyError, RetryPolicy, Verifier};
use clerk_testing::Emulator;

fn backend(clerk: &Emulator, secret_key: &str) -> Verifier {
    Verifier::builder()
        .secret_key(secret_key)
        .unwrap()
        .api_url(&clerk.api_url())
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_check_loads_the_keys_or_names_what_to_fix() {
    let clerk = Emulator::start().await.unwrap();
    let good = backend(&clerk, clerk.secret_key());
    good.check().await.unwrap();
    assert_eq!(good.key_fetch_count(), 1);
    assert!(!good.loaded_kids().is_empty());

    let wrong = backend(&clerk, "sk_test_wrongwrongwrongwrongwrongwrongwrongwr");
    let err = wrong.check().await.unwrap_err();
    assert!(matches!(err.key_error(), KeyError::SecretKeyInvalid { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("refused the secret key") && text.contains("set CLERK_SECRET_KEY"), "{text}");
    assert!(!text.contains("sk_test_wrong"), "{text}");

    // Nothing listens on a port just freed: unreachable, and the message points at the URL setting.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = Verifier::builder()
        .secret_key(clerk.secret_key())
        .unwrap()
        .api_url(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let text = nowhere.check().await.unwrap_err().to_string();
    assert!(text.contains("could not be reached") && text.contains("api_url"), "{text}");

    // A JWKS URL that answers 404: the status, and the setting.
    let missing = Verifier::builder().jwks_url(&format!("{}/nope", clerk.api_url())).unwrap().build().unwrap();
    let text = missing.check().await.unwrap_err().to_string();
    assert!(text.contains("status 404") && text.contains("jwks_url"), "{text}");

    // A local key has nothing to load.
    let local = Verifier::builder().jwt_key(&clerk.jwt_public_key()).unwrap().build().unwrap();
    local.check().await.unwrap();
    assert_eq!(local.key_fetch_count(), 0);
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Tokens are read from cookies too: without authorized parties, a token from another site's request would pass,
/// so building such a verifier warns, and naming the parties silences it.
#[test]
fn cookies_without_authorized_parties_warn_at_build() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::fmt().with_writer(std::io::sink).finish());
    });
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let pem = support::key_a().public_pem.as_str();
    tracing::subscriber::with_default(subscriber, || {
        Verifier::builder().jwt_key(pem).unwrap().build().unwrap();
    });
    let text = String::from_utf8(std::mem::take(&mut *log.0.lock().unwrap())).unwrap();
    assert!(text.contains("WARN") && text.contains("CLERK_AUTHORIZED_PARTIES"), "{text}");

    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::with_default(subscriber, || {
        Verifier::builder().jwt_key(pem).unwrap().authorized_parties(["https://app.example.com"]).build().unwrap();
    });
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("CLERK_AUTHORIZED_PARTIES"), "{text}");
}
