//! When to try again: pure functions, unit-tested, no clock inside.

use crate::clock::{Millis, MINUTE, SECOND};

/// Retries after the first attempt.
pub const MAX_RETRIES: i64 = 5;
pub const FIRST_DELAY: Millis = 30 * SECOND;
pub const MAX_DELAY: Millis = 10 * MINUTE;
pub use crate::health::DEACTIVATE_AFTER;

/// The delay before retry number `retry` (1 = the first retry): 30 s doubling, capped at
/// 10 min, spread by up to ±20 % (`jitter` in `[0, 1)`) so retries of a burst do not arrive
/// together. The spread never leaves [30 s, 10 min] (Zenoti's documented bounds): the first
/// retry spreads upwards only, a capped one downwards only.
pub fn backoff(retry: i64, jitter: f64) -> Millis {
    let exponent = (retry - 1).clamp(0, 20) as u32;
    let base = FIRST_DELAY.saturating_mul(1 << exponent).min(MAX_DELAY);
    let low = (base * 8 / 10).max(FIRST_DELAY);
    let high = (base * 12 / 10).min(MAX_DELAY);
    low + ((high - low) as f64 * jitter.clamp(0.0, 1.0)) as Millis
}

/// A receiver's `Retry-After` (seconds or an HTTP date), as a delay from `now`, kept within
/// the same [30 s, 10 min] as the backoff: "retry now" does not become a tight loop.
pub fn retry_after(value: &str, now: Millis) -> Option<Millis> {
    let value = value.trim();
    let delay = if let Ok(seconds) = value.parse::<i64>() {
        seconds.max(0).saturating_mul(SECOND)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as Millis;
        (at - now).max(0)
    };
    Some(delay.clamp(FIRST_DELAY, MAX_DELAY))
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
        let low: Vec<Millis> = (1..=6).map(|r| backoff(r, 0.0)).collect();
        assert_eq!(low, [30_000, 48_000, 96_000, 192_000, 384_000, 480_000]);
        let high: Vec<Millis> = (1..=6).map(|r| backoff(r, 0.999_999)).collect();
        assert_eq!(high, [35_999, 71_999, 143_999, 287_999, 575_999, 599_999]);
    }

    #[test]
    fn jitter_stays_within_30_seconds_and_10_minutes() {
        for retry in 1..=30 {
            for step in 0..=100 {
                let delay = backoff(retry, step as f64 / 100.0);
                assert!((FIRST_DELAY..=MAX_DELAY).contains(&delay), "retry {retry}, jitter {step}%: {delay} ms");
            }
        }
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
        assert_eq!(retry_after("99999999999999999", 0), Some(MAX_DELAY));
        assert_eq!(retry_after("0", 0), Some(FIRST_DELAY), "at once means after 30 s");
        assert_eq!(retry_after("-5", 0), Some(FIRST_DELAY));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 0), Some(60_000));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:00:01 GMT", 0), Some(FIRST_DELAY));
        assert_eq!(retry_after("soon", 0), None);
        assert_eq!(next_step(1, Verdict::Failed { retry_after: Some(5_000) }, 0.5), Next::RetryIn(5_000));
    }
}
