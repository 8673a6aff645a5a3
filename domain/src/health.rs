//! Endpoint health: why attempts fail, in words a business user can act on, and how close an
//! endpoint is to being deactivated.

use serde::Serialize;

use crate::clock::rfc3339;
use crate::delivery::retry::DEACTIVATE_AFTER;
use crate::endpoints::{EndpointRow, EndpointStatus};

/// At this many failures left before deactivation, an endpoint is at risk (and admins are told).
pub const AT_RISK_LEFT: i64 = 5;

pub use types::{FailureClass, HealthState};

/// The endpoint's last failed attempt.
#[derive(Clone, Debug, Serialize)]
pub struct LastFailure {
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub reason: FailureClass,
    pub code: Option<i64>,
    pub message: &'static str,
    pub fix: &'static str,
}

/// `GET /endpoints` and `/endpoints/{id}` carry this.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub state: HealthState,
    pub consecutive_failures: i64,
    pub failures_left: i64,
    pub last_failure: Option<LastFailure>,
}

impl Health {
    pub fn of(row: &EndpointRow) -> Health {
        let failures_left = (DEACTIVATE_AFTER - row.consecutive_failures).max(0);
        let state = if row.status != EndpointStatus::Active {
            HealthState::Inactive
        } else if row.consecutive_failures == 0 {
            HealthState::Healthy
        } else if failures_left <= AT_RISK_LEFT {
            HealthState::AtRisk
        } else {
            HealthState::Degraded
        };
        let last_failure = match (row.last_failure_at, row.last_failure_class) {
            (Some(at), Some(class)) => Some(LastFailure {
                at: rfc3339(at),
                at_ms: at,
                reason: class,
                code: row.last_failure_code,
                message: class.sentence(),
                fix: class.fix(),
            }),
            _ => None,
        };
        Health { state, consecutive_failures: row.consecutive_failures, failures_left, last_failure }
    }
}
