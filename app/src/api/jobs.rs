//! Server functions for recovery jobs: count what would be sent, start a job (also right after
//! reactivating), follow an endpoint's jobs, cancel one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{JobStatus, RecoverStatus};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub status: JobStatus,
    /// Which deliveries it sends again.
    pub recover: RecoverStatus,
    pub since: String,
    pub rate_per_second: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub delivered: i64,
    pub created_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

impl JobView {
    pub fn running(&self) -> bool {
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

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use crate::api::ssr::when;
    use domain::replay::RecoverStatus;

    pub fn job(j: domain::jobs::Job) -> JobView {
        JobView {
            since: if j.since == 0 { "the start".into() } else { when(j.since) },
            created_at: when(j.created_at),
            finished_at: j.finished_at.map(when),
            id: j.id,
            status: j.status,
            recover: j.source_status,
            rate_per_second: j.rate_per_second,
            total: j.total,
            done: j.done,
            failed: j.failed,
            delivered: j.delivered,
            created_by: j.created_by,
            error: j.error,
        }
    }

    /// Skipped deliveries may be recovered without a time: all of them.
    pub fn request(status: &str, since: String) -> Result<domain::jobs::RecoverRequest, AppError> {
        let status = domain::replay::recover_status(status)?;
        let since = match (super::super::logs::convert::time("since", since)?, status) {
            (Some(since), _) => since,
            (None, RecoverStatus::Skipped) => 0,
            (None, RecoverStatus::Failed) => return Err(domain::Error::invalid("since", "Choose the time to recover from.").into()),
        };
        Ok(domain::jobs::RecoverRequest { status, since, until: None, event_type: None, rate_per_second: None })
    }
}

/// How many deliveries a recovery job would send (admins).
#[server(prefix = "/rpc", endpoint = "count_recoverable")]
pub async fn count_recoverable(endpoint_id: String, status: String, since: String) -> Result<i64, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.recover_count(&actor, &endpoint_id, &convert::request(&status, since)?).await?)
}

/// Starts a recovery job at the default pace (admins).
#[server(prefix = "/rpc", endpoint = "start_recovery")]
pub async fn start_recovery(endpoint_id: String, status: String, since: String) -> Result<JobView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(convert::job(herald.start_recovery(&actor, &endpoint_id, convert::request(&status, since)?).await?))
}

/// One action for an admin: reactivate the endpoint, then send what was skipped meanwhile.
#[server(prefix = "/rpc", endpoint = "reactivate_and_recover")]
pub async fn reactivate_and_recover(id: String) -> Result<JobView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_admin()?;
    herald.activate_endpoint(&actor, &id).await?;
    Ok(convert::job(herald.start_recovery(&actor, &id, convert::request("skipped", String::new())?).await?))
}

/// The endpoint's recovery jobs, newest first.
#[server(prefix = "/rpc", endpoint = "endpoint_jobs")]
pub async fn endpoint_jobs(endpoint_id: String) -> Result<Vec<JobView>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.jobs(&actor, Some(&endpoint_id)).await?.into_iter().take(5).map(convert::job).collect())
}

/// Stops a running job; what it queued and is not yet sending is withdrawn (admins).
#[server(prefix = "/rpc", endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<JobView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(convert::job(herald.cancel_job(&actor, &id).await?))
}
