//! Injectable time.
//!
//! Claim checks (`exp`, `nbf`, `iat`), the verified-token cache and the key cache's ages all read the time through
//! a [`Clock`], so tests move time instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, as milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> u64;

    /// Whole seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now_millis(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock for tests: starts where you set it and only moves when told to. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct TestClock {
    millis: Arc<AtomicU64>,
}

impl TestClock {
    /// A clock standing at `secs` seconds after the Unix epoch.
    #[must_use]
    pub fn at_secs(secs: u64) -> Self {
        Self { millis: Arc::new(AtomicU64::new(secs.saturating_mul(1000))) }
    }

    /// A clock standing at the system's current time.
    #[must_use]
    pub fn now() -> Self {
        Self { millis: Arc::new(AtomicU64::new(SystemClock.now_millis())) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock to `secs` seconds after the Unix epoch.
    pub fn set_secs(&self, secs: u64) {
        self.millis.store(secs.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> u64 {
        self.millis.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_when_told() {
        let c = TestClock::at_secs(100);
        assert_eq!(c.now_secs(), 100);
        let shared = c.clone();
        shared.advance(Duration::from_millis(1500));
        assert_eq!(c.now_millis(), 101_500);
        c.set_secs(7);
        assert_eq!(shared.now_secs(), 7);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now_secs() > 1_700_000_000);
    }
}
