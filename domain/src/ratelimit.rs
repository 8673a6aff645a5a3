//! Sign-in throttling: failures are counted per account and per client address over a sliding
//! window. Kept in memory: it protects against guessing, and a restart only forgives a little.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::clock::{Millis, MINUTE};

pub const WINDOW: Millis = 15 * MINUTE;
pub const MAX_PER_ACCOUNT: usize = 5;
pub const MAX_PER_ADDRESS: usize = 30;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Millis>>>,
}

impl LoginLimiter {
    /// When sign-in is blocked for this account or address: the minutes until it opens again.
    pub fn blocked_for(&self, email: &str, address: &str, now: Millis) -> Option<i64> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, max) in [(account_key(email), MAX_PER_ACCOUNT), (address_key(address), MAX_PER_ADDRESS)] {
            if let Some(times) = failures.get_mut(&key) {
                while times.front().is_some_and(|t| now - t >= WINDOW) {
                    times.pop_front();
                }
                if times.len() >= max {
                    let opens_at = times[times.len() - max] + WINDOW;
                    let minutes = ((opens_at - now) + MINUTE - 1) / MINUTE;
                    wait = wait.max(Some(minutes.max(1)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, email: &str, address: &str, now: Millis) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [account_key(email), address_key(address)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    pub fn record_success(&self, email: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&account_key(email));
    }
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_an_account_after_five_failures_until_the_window_passes() {
        let limiter = LoginLimiter::default();
        for i in 0..5 {
            assert_eq!(limiter.blocked_for("a@x.io", "1.1.1.1", i), None);
            limiter.record_failure("a@x.io", "1.1.1.1", i);
        }
        assert_eq!(limiter.blocked_for("A@x.io", "2.2.2.2", 10), Some(15));
        assert_eq!(limiter.blocked_for("b@x.io", "1.1.1.1", 10), None, "other accounts on that address still pass");
        assert_eq!(limiter.blocked_for("a@x.io", "1.1.1.1", WINDOW + 5), None);
    }

    #[test]
    fn blocks_an_address_that_tries_many_accounts() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_PER_ADDRESS {
            limiter.record_failure(&format!("u{i}@x.io"), "9.9.9.9", 0);
        }
        assert!(limiter.blocked_for("new@x.io", "9.9.9.9", 1).is_some());
        assert!(limiter.blocked_for("new@x.io", "8.8.8.8", 1).is_none());
    }

    #[test]
    fn success_forgives_the_account() {
        let limiter = LoginLimiter::default();
        for _ in 0..4 {
            limiter.record_failure("a@x.io", "1.1.1.1", 0);
        }
        limiter.record_success("a@x.io");
        limiter.record_failure("a@x.io", "1.1.1.1", 0);
        assert_eq!(limiter.blocked_for("a@x.io", "3.3.3.3", 0), None);
    }
}
