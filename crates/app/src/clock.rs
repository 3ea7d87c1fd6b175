//! The one clock. Nothing else in refshare reads the system time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use refshare_core::Instant;

/// A source of the current instant (millisecond precision).
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

fn truncate_ms(t: Instant) -> Instant {
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).expect("in range")
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        truncate_ms(chrono::Utc::now())
    }
}

/// A clock frozen at a set instant, moved only by hand (for tests).
pub struct FixedClock(Mutex<Instant>);

impl FixedClock {
    pub fn new(t: Instant) -> FixedClock {
        FixedClock(Mutex::new(truncate_ms(t)))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        *self.0.lock().expect("clock lock")
    }
}

/// The test clock of SPEC §10: a base clock plus an offset the operator advances.
pub struct TestClock {
    base: Arc<dyn Clock>,
    offset_ms: AtomicI64,
}

impl TestClock {
    pub fn new(base: Arc<dyn Clock>, offset_ms: i64) -> TestClock {
        TestClock { base, offset_ms: AtomicI64::new(offset_ms) }
    }

    /// Moves the clock forward; returns the new total offset.
    pub fn advance(&self, by_ms: i64) -> i64 {
        self.offset_ms.fetch_add(by_ms, Ordering::SeqCst) + by_ms
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now(&self) -> Instant {
        self.base.now() + chrono::Duration::milliseconds(self.offset_ms())
    }
}
