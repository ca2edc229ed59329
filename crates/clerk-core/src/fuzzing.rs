//! Not API. Entry points for the fuzz targets in `fuzz/` (the non-default cargo feature `fuzzing`): the plain-claims
//! reader and the plain header reader are crate-private, and the differential fuzz target compares each with
//! serde_json. Nothing here is covered by semver; it may change or go away in any release.

use crate::claims::RawClaims;
use crate::verify::{Header, plain_header};

/// Reads `payload` as session claims with the plain-claims reader and with serde_json, as the verifier would.
/// Returns `(serde_json read it, the reader answered)`.
///
/// # Panics
/// When the reader answers and serde_json does not give exactly the same claims (the reader must answer the same or
/// step aside, never differ).
#[must_use]
pub fn claims(payload: &str) -> (bool, bool) {
    let serde = serde_json::from_str::<RawClaims<'_>>(payload).ok();
    let fast = crate::fastclaims::read(payload);
    if let Some(fast) = &fast {
        assert_eq!(Some(fast), serde.as_ref(), "the plain-claims reader and serde_json disagree on {payload:?}");
    }
    (serde.is_some(), fast.is_some())
}

/// [`claims`] for a JWS header (the members `alg`, `kid`, `typ`, `cat`, `crit`, read by `read_strings`), as the
/// verifier reads a decoded header segment. Returns `(serde_json read it, the reader answered)`.
///
/// # Panics
/// As [`claims`].
#[must_use]
pub fn header(json: &[u8]) -> (bool, bool) {
    let serde = serde_json::from_slice::<Header<'_>>(json).ok();
    let fast = plain_header(json);
    if let Some(fast) = &fast {
        assert_eq!(Some(fast), serde.as_ref(), "the plain header reader and serde_json disagree on {json:?}");
    }
    (serde.is_some(), fast.is_some())
}
