//! Endpoint health: why attempts fail, in words a business user can act on, and how close an
//! endpoint is to being deactivated.

use crate::clock::{rfc3339, Millis};

/// Consecutive failed attempts that make an endpoint inactive.
pub const DEACTIVATE_AFTER: i64 = 20;

/// At this many failures left before deactivation, an endpoint is at risk (and admins are told).
pub const AT_RISK_LEFT: i64 = 5;

pub use types::{FailureClass, Health, HealthState, LastFailure};

/// The health of an endpoint that is `active` or not, after `consecutive_failures`, the last of
/// them (when, why, HTTP code) given.
pub fn health_of(active: bool, consecutive_failures: i64, last_failure: Option<(Millis, FailureClass, Option<i64>)>) -> Health {
    let failures_left = (DEACTIVATE_AFTER - consecutive_failures).max(0);
    let state = if !active {
        HealthState::Inactive
    } else if consecutive_failures == 0 {
        HealthState::Healthy
    } else if failures_left <= AT_RISK_LEFT {
        HealthState::AtRisk
    } else {
        HealthState::Degraded
    };
    let last_failure = last_failure.map(|(at, class, code)| LastFailure {
        at: rfc3339(at),
        reason: class,
        code,
        message: class.sentence().into(),
        fix: class.fix().into(),
    });
    Health { state, consecutive_failures, failures_left, last_failure }
}
