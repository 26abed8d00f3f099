//! Time and randomness, injected so tests can control them (expiry tests move a clock instead of
//! sleeping).

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

pub trait Clock: Send + Sync {
    /// The current time, truncated to milliseconds (the precision the stores keep), so a value
    /// read back equals the value written.
    fn now(&self) -> DateTime<Utc>;
}

fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::milliseconds(1)).expect("truncation to 1 ms cannot overflow")
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_millis(Utc::now())
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn starting_now() -> Self {
        Self(Mutex::new(to_millis(Utc::now())))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock lock is never poisoned");
        *now = to_millis(*now + by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().expect("clock lock is never poisoned") = to_millis(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock is never poisoned")
    }
}

pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        use rand::RngCore;
        rand::rngs::OsRng.fill_bytes(buf);
    }
}
