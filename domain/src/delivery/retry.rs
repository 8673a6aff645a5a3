//! When to try again: pure functions, unit-tested, no clock inside.

use crate::clock::{Millis, MINUTE, SECOND};

/// Retries after the first attempt.
pub const MAX_RETRIES: i64 = 5;
pub const FIRST_DELAY: Millis = 30 * SECOND;
pub const MAX_DELAY: Millis = 10 * MINUTE;
/// Consecutive failed attempts that make an endpoint inactive.
pub const DEACTIVATE_AFTER: i64 = 20;

/// The delay before retry number `retry` (1 = the first retry): 30 s doubling, capped at
/// 10 min, spread by ±20 % (`jitter` in `[0, 1)`) so retries of a burst do not arrive together.
pub fn backoff(retry: i64, jitter: f64) -> Millis {
    let exponent = (retry - 1).clamp(0, 20) as u32;
    let base = FIRST_DELAY.saturating_mul(1 << exponent).min(MAX_DELAY);
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    ((base as f64 * spread) as Millis).min(MAX_DELAY)
}

/// A receiver's `Retry-After` (seconds or an HTTP date), as a delay from `now`, within the cap.
pub fn retry_after(value: &str, now: Millis) -> Option<Millis> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<i64>() {
        seconds.max(0) * SECOND
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as Millis;
        (at - now).max(0)
    };
    Some(delay.min(MAX_DELAY))
}

/// What a receiver's answer means for the delivery.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    Succeeded,
    /// Failed; retry (if any remain) after the receiver's requested delay, or the backoff.
    Failed {
        retry_after: Option<Millis>,
    },
    /// 410 Gone: the receiver asks never to be called again.
    Gone,
}

/// What to do after attempt number `attempts` (1-based) ended with `verdict`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Done { succeeded: bool },
    RetryIn(Millis),
}

pub fn next_step(attempts: i64, verdict: Verdict, jitter: f64) -> Next {
    match verdict {
        Verdict::Succeeded => Next::Done { succeeded: true },
        Verdict::Gone => Next::Done { succeeded: false },
        Verdict::Failed { .. } if attempts > MAX_RETRIES => Next::Done { succeeded: false },
        Verdict::Failed { retry_after } => Next::RetryIn(retry_after.unwrap_or_else(|| backoff(attempts, jitter))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_and_caps_at_10_minutes() {
        let mid: Vec<Millis> = (1..=6).map(|r| backoff(r, 0.5)).collect();
        assert_eq!(mid, [30_000, 60_000, 120_000, 240_000, 480_000, 600_000]);
        assert_eq!(backoff(1, 0.0), 24_000);
        assert_eq!(backoff(1, 0.999_999), 35_999);
        assert_eq!(backoff(30, 1.0), MAX_DELAY);
    }

    #[test]
    fn five_retries_then_give_up() {
        for attempts in 1..=5 {
            assert!(matches!(next_step(attempts, Verdict::Failed { retry_after: None }, 0.5), Next::RetryIn(_)));
        }
        assert_eq!(next_step(6, Verdict::Failed { retry_after: None }, 0.5), Next::Done { succeeded: false });
        assert_eq!(next_step(1, Verdict::Gone, 0.5), Next::Done { succeeded: false });
        assert_eq!(next_step(3, Verdict::Succeeded, 0.5), Next::Done { succeeded: true });
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        assert_eq!(retry_after("120", 0), Some(120_000));
        assert_eq!(retry_after("86400", 0), Some(MAX_DELAY));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 0), Some(60_000));
        assert_eq!(retry_after("soon", 0), None);
        assert_eq!(next_step(1, Verdict::Failed { retry_after: Some(5_000) }, 0.5), Next::RetryIn(5_000));
    }
}
