//! Time: UTC instants in milliseconds, the bureau's local calendar date, and
//! an injectable clock so tests can move time.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// An instant as milliseconds since the Unix epoch, UTC. How times are stored.
pub type UtcMillis = i64;

/// China Standard Time (Asia/Shanghai has had no daylight saving since 1991).
pub fn china_offset() -> FixedOffset {
    // 8 hours east of UTC is always in range for FixedOffset.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The calendar date in Asia/Shanghai at instant `ms`; expiry is judged by it.
pub fn local_date(ms: UtcMillis) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&china_offset())
        .date_naive()
}

/// Where the service reads the current time. Production uses the system
/// clock; tests use [`ManualClock`] to cross expiry dates deterministically.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC milliseconds.
    fn now(&self) -> UtcMillis;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UtcMillis {
        Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `ms`.
    pub fn new(ms: UtcMillis) -> Self {
        Self(AtomicI64::new(ms))
    }

    /// Moves the clock to `ms`.
    pub fn set(&self, ms: UtcMillis) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by whole days.
    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * 86_400_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UtcMillis {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_date_follows_shanghai_not_utc() {
        // 2026-06-30T16:30:00Z is already 2026-07-01 00:30 in Shanghai.
        let ms = DateTime::parse_from_rfc3339("2026-06-30T16:30:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(local_date(ms), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance_days(1);
        assert_eq!(c.now(), 1_000 + 86_400_000);
    }
}
