//! The plain-claims reader (`fastclaims`, which reads a payload before serde_json does) against serde_json, on the
//! claims and on the JWS header: the reader must give exactly serde_json's answer or step aside, never a different
//! one (`clerk_core::__fuzz` panics when they differ). Every 2^20 executions it prints how often serde_json read the
//! input as claims and how often the reader answered those.
//!
//! Input: the JSON text of a payload (or of a header).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use libfuzzer_sys::fuzz_target;

static RUNS: AtomicU64 = AtomicU64::new(0);
static SERDE_READ: AtomicU64 = AtomicU64::new(0);
static FAST_ANSWERED: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let _ = clerk_core::__fuzz::header(data);
    let Ok(payload) = std::str::from_utf8(data) else { return };
    let (serde, fast) = clerk_core::__fuzz::claims(payload);
    let runs = RUNS.fetch_add(1, Relaxed) + 1;
    SERDE_READ.fetch_add(u64::from(serde), Relaxed);
    FAST_ANSWERED.fetch_add(u64::from(fast), Relaxed);
    if runs.is_power_of_two() && runs >= 1 << 20 {
        let (read, answered) = (SERDE_READ.load(Relaxed), FAST_ANSWERED.load(Relaxed));
        eprintln!(
            "fastclaims: {runs} UTF-8 inputs, {read} read as claims by serde_json, {answered} answered by the plain \
             reader ({:.1} %)",
            answered as f64 * 100.0 / read.max(1) as f64
        );
    }
});
