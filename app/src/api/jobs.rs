//! Server functions for recovery jobs: count what would be sent, start a job (also right after
//! reactivating), follow an endpoint's jobs, cancel one.

use leptos::prelude::*;

use crate::error::AppError;

pub use types::Job;

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use domain::replay::RecoverStatus;

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
pub async fn start_recovery(endpoint_id: String, status: String, since: String) -> Result<Job, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.start_recovery(&actor, &endpoint_id, convert::request(&status, since)?).await?)
}

/// One action for an admin: reactivate the endpoint, then send what was skipped meanwhile.
#[server(prefix = "/rpc", endpoint = "reactivate_and_recover")]
pub async fn reactivate_and_recover(id: String) -> Result<Job, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_admin()?;
    herald.activate_endpoint(&actor, &id).await?;
    Ok(herald.start_recovery(&actor, &id, convert::request("skipped", String::new())?).await?)
}

/// The endpoint's recovery jobs, newest first.
#[server(prefix = "/rpc", endpoint = "endpoint_jobs")]
pub async fn endpoint_jobs(endpoint_id: String) -> Result<Vec<Job>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.jobs(&actor, Some(&endpoint_id)).await?.into_iter().take(5).collect())
}

/// Stops a running job; what it queued and is not yet sending is withdrawn (admins).
#[server(prefix = "/rpc", endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<Job, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.cancel_job(&actor, &id).await?)
}
