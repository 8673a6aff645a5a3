//! Time as an injectable dependency, so tests can move it instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch; every timestamp in the database uses this unit.
pub type Millis = i64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        since.as_millis() as Millis
    }
}

/// A clock that only moves when told to.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start)))
    }
    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
    pub fn set(&self, to: Millis) {
        self.0.store(to, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

pub use types::clock::rfc3339;

/// Reads a UTC time typed by a person or sent by a form: RFC 3339, `2026-01-01T10:00`
/// (a datetime-local input), `2026-01-01 10:00` or a bare date.
pub fn parse_utc(value: &str) -> Option<Millis> {
    use time::format_description::well_known::Rfc3339;
    let value = value.trim().replace(' ', "T");
    let candidates = [value.clone(), format!("{value}:00Z"), format!("{value}Z"), format!("{value}T00:00:00Z")];
    candidates.iter().find_map(|c| time::OffsetDateTime::parse(c, &Rfc3339).ok()).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_people_type() {
        let ten = 1_767_261_600_000;
        for v in ["2026-01-01T10:00:00Z", "2026-01-01T10:00", "2026-01-01 10:00", " 2026-01-01T10:00:00 "] {
            assert_eq!(parse_utc(v), Some(ten), "{v}");
        }
        assert_eq!(parse_utc("2026-01-01"), Some(ten - 10 * HOUR));
        assert_eq!(parse_utc("yesterday"), None);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(30 * SECOND);
        assert_eq!(clock.now(), 31_000);
    }

    #[test]
    fn parses_rfc3339_and_datetime_local() {
        assert_eq!(parse_utc("2026-01-01T10:00:00Z"), Some(1_767_261_600_000));
        assert_eq!(parse_utc("2026-01-01T11:00:00+01:00"), Some(1_767_261_600_000));
        assert_eq!(parse_utc("2026-01-01T10:00"), Some(1_767_261_600_000));
        assert_eq!(parse_utc("2026-01-01T10:00:30"), Some(1_767_261_630_000));
        assert_eq!(parse_utc("yesterday"), None);
    }

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(1_767_261_600_000), "2026-01-01T10:00:00Z");
    }
}
