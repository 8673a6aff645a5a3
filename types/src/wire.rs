//! Records the server reads from its database and the dashboard shows as they are (times in
//! epoch milliseconds; the page formats them with [`crate::clock`]).

use serde::{Deserialize, Serialize};

use crate::{DeliveryKind, DeliveryStatus, JobStatus, RecoverStatus};

/// A recovery job: a paced, cancellable resend of an endpoint's failed (or skipped) deliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Job {
    pub id: String,
    pub tenant_id: String,
    pub endpoint_id: String,
    /// `failed` means the endpoint or workspace stopped accepting deliveries; `error` says which.
    pub status: JobStatus,
    /// Which deliveries it sends again.
    pub source_status: RecoverStatus,
    pub event_type: Option<String>,
    /// 0: from the first one.
    pub since: i64,
    pub until: i64,
    pub rate_per_second: i64,
    pub total: i64,
    /// Queued again so far (each is then delivered with the usual retries).
    pub done: i64,
    /// Of those, the ones not delivered (failing, retrying or skipped), counted when read.
    pub failed: i64,
    /// Of those, the ones delivered, counted when read.
    pub delivered: i64,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    /// Where the pacer is (the last original queued again): the server's business only.
    #[serde(skip)]
    pub cursor_at: i64,
    #[serde(skip)]
    pub cursor_id: String,
}

impl Job {
    pub fn is_running(&self) -> bool {
        self.status == JobStatus::Running
    }

    /// Queued so far, as a share of the total (0–100).
    pub fn percent(&self) -> i64 {
        if self.total == 0 {
            100
        } else {
            (self.done * 100 / self.total).clamp(0, 100)
        }
    }
}

/// A delivery found by the support search, across tenants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FoundDelivery {
    pub id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub endpoint_id: String,
    pub endpoint_name: String,
    pub endpoint_url: String,
    pub message_id: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub kind: DeliveryKind,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_duration_ms: Option<i64>,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}
