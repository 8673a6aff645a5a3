//! Recovery jobs: a paced, cancellable resend of an endpoint's failed (or skipped) deliveries.
//!
//! Starting one fixes the set: what matched between `since` and `until` (default: the start).
//! The pacer ([`Herald::advance_jobs`], run by every worker) queues one second's worth at a
//! time, spread over that second, and moves the job's cursor in the same transaction; the
//! cursor update is conditional on the cursor it read, so two workers never queue the same
//! batch, and a job picks up where it was after a restart. A cancel withdraws the replays not
//! yet sent. At most one job runs per endpoint (a unique index says so).

use types::{EndpointStatus, JobStatus, RecoverStatus};

use crate::audit::Audit;
use crate::clock::{rfc3339, Millis, SECOND};
use crate::error::{is_unique_violation, Error, Result};
use crate::roles::Actor;
use crate::store::Tx;
use crate::{execute_in, ids, on_pool, on_tx, Herald};
use types::AuditAction;

/// Deliveries per second when the request names no rate.
pub const DEFAULT_RATE: i64 = 50;
pub const MAX_RATE: i64 = 1000;

/// What to send again.
#[derive(Clone, Debug)]
pub struct RecoverRequest {
    pub status: RecoverStatus,
    pub since: Millis,
    /// Default: now.
    pub until: Option<Millis>,
    pub event_type: Option<String>,
    pub rate_per_second: Option<i64>,
}

pub use types::Job;

const JOB_COLUMNS: &str = "j.id, j.tenant_id, j.endpoint_id, j.status, j.source_status, j.event_type, j.since, j.until,
    j.rate_per_second, j.total, j.done, j.created_by, j.created_at, j.finished_at, j.error, j.cursor_at, j.cursor_id,
    (SELECT COUNT(*) FROM deliveries r WHERE r.job_id = j.id AND r.status NOT IN ('pending', 'succeeded')) AS failed,
    (SELECT COUNT(*) FROM deliveries r WHERE r.job_id = j.id AND r.status = 'succeeded') AS delivered";

/// What the pacer reads of a job, four times a second in every worker: not the outcome counts.
const PACER_COLUMNS: &str = "j.id, j.tenant_id, j.endpoint_id, j.status, j.source_status, j.event_type, j.since, j.until,
    j.rate_per_second, j.total, j.done, j.created_by, j.created_at, j.finished_at, j.error, j.cursor_at, j.cursor_id,
    CAST(0 AS BIGINT) AS failed, CAST(0 AS BIGINT) AS delivered";

/// Originals a job sends again: in the window, not archived, not tests, not already replayed.
/// `$6` is the event type, or NULL for all.
const MATCHING: &str = "FROM deliveries d WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.status = $3
    AND d.created_at >= $4 AND d.created_at <= $5 AND COALESCE($6, d.event_type) = d.event_type
    AND d.archived_at IS NULL AND d.kind <> 'test'
    AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.replay_of = d.id)";

/// Who the audit log names for what the pacer does on its own.
fn pacer() -> Actor {
    Actor::system("Herald (recovery job)")
}

impl Herald {
    /// How many deliveries a job started with `request` would send (the dry run).
    pub async fn recover_count(&self, actor: &Actor, endpoint_id: &str, request: &RecoverRequest) -> Result<i64> {
        let tenant_id = actor.require_admin()?;
        self.endpoint_row(tenant_id, endpoint_id).await?;
        let (since, until, event_type) = self.recover_window(request)?;
        self.count_matching(tenant_id, endpoint_id, request.status, (since, until, event_type.as_deref())).await
    }

    async fn count_matching(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        status: RecoverStatus,
        (since, until, event_type): (Millis, Millis, Option<&str>),
    ) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) {MATCHING}");
        let (count,): (i64,) = on_pool!(&self.store, pool => sqlx::query_as(&sql)
            .bind(tenant_id).bind(endpoint_id).bind(status.as_str()).bind(since).bind(until).bind(event_type)
            .fetch_one(pool).await)?;
        Ok(count)
    }

    fn recover_window(&self, request: &RecoverRequest) -> Result<(Millis, Millis, Option<String>)> {
        let now = self.clock.now();
        if request.since > now {
            return Err(Error::invalid("since", "since must be in the past."));
        }
        let until = request.until.unwrap_or(now).min(now);
        if until < request.since {
            return Err(Error::invalid("until", "until must come after since."));
        }
        let event_type = match request.event_type.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(name) => {
                let catalog = self.catalog();
                let known =
                    catalog.resolve(name).ok_or_else(|| Error::invalid("event_type", format!("\"{name}\" is not an event type.")))?;
                Some(known.name.clone())
            }
        };
        Ok((request.since, until, event_type))
    }

    /// Admins only: starts a recovery job (409 `job_running` if the endpoint has one).
    pub async fn start_recovery(&self, actor: &Actor, endpoint_id: &str, request: RecoverRequest) -> Result<Job> {
        let tenant_id = actor.require_admin()?;
        let rate = request.rate_per_second.unwrap_or(DEFAULT_RATE);
        if !(1..=MAX_RATE).contains(&rate) {
            return Err(Error::invalid("rate_per_second", format!("rate_per_second is between 1 and {MAX_RATE}.")));
        }
        let (since, until, event_type) = self.recover_window(&request)?;
        self.require_active_endpoint(tenant_id, endpoint_id).await?;
        // The endpoint was read (and the window checked) above: count without doing either again.
        let total = self.count_matching(tenant_id, endpoint_id, request.status, (since, until, event_type.as_deref())).await?;
        let now = self.clock.now();
        let id = ids::new_id("job");
        // Nothing to send: the job is finished as it starts, and says so.
        let (status, finished_at) = if total == 0 { (JobStatus::Completed, Some(now)) } else { (JobStatus::Running, None) };
        let mut tx = self.store.begin().await?;
        let inserted =
            execute_in!(&mut tx, sqlx::query(
            "INSERT INTO recovery_jobs (id, tenant_id, endpoint_id, status, source_status, event_type, since, until, rate_per_second,
                 total, cursor_at, next_run_at, created_by, created_at, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
            .bind(&id).bind(tenant_id).bind(endpoint_id).bind(status).bind(request.status).bind(&event_type)
            .bind(since).bind(until).bind(rate).bind(total).bind(Millis::MIN).bind(now).bind(&actor.email).bind(now).bind(finished_at));
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::conflict(
                    "job_running",
                    None,
                    "A recovery job is already running for this endpoint: wait for it to finish or cancel it.",
                ))
            }
            other => other?,
        };
        let summary =
            format!("Started recovery job {id}: {total} {} deliveries since {} at {rate}/s", request.status.as_str(), rfc3339(since));
        self.audit_in(&mut tx, actor, Audit::new(Some(tenant_id), AuditAction::RecoveryStarted, summary).target(endpoint_id)).await?;
        tx.commit().await?;
        self.job_row(tenant_id, &id).await
    }

    /// The tenant's jobs, newest first (of one endpoint, if given).
    pub async fn jobs(&self, actor: &Actor, endpoint_id: Option<&str>) -> Result<Vec<Job>> {
        let tenant_id = actor.tenant_id()?;
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM recovery_jobs j WHERE j.tenant_id = $1 AND COALESCE($2, j.endpoint_id) = j.endpoint_id
             ORDER BY j.created_at DESC, j.id DESC LIMIT 50"
        );
        Ok(on_pool!(&self.store, pool => sqlx::query_as(&sql).bind(tenant_id).bind(endpoint_id).fetch_all(pool).await)?)
    }

    pub async fn job(&self, actor: &Actor, id: &str) -> Result<Job> {
        self.job_row(actor.tenant_id()?, id).await
    }

    async fn job_row(&self, tenant_id: &str, id: &str) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM recovery_jobs j WHERE j.tenant_id = $1 AND j.id = $2");
        on_pool!(&self.store, pool => sqlx::query_as(&sql).bind(tenant_id).bind(id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("job"))
    }

    /// Admins only: stops a running job; the replays it queued that are not yet being sent are
    /// withdrawn, so nothing more goes out. 409 `job_finished` if it already ended.
    pub async fn cancel_job(&self, actor: &Actor, id: &str) -> Result<Job> {
        let tenant_id = actor.require_admin()?;
        let job = self.job_row(tenant_id, id).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let stopped = finish(&mut tx, &job, JobStatus::Cancelled, None, now).await?;
        if !stopped {
            return Err(Error::conflict("job_finished", None, format!("This job is already {}.", job.status)));
        }
        let withdrawn = execute_in!(&mut tx, sqlx::query(
            "DELETE FROM deliveries WHERE job_id = $1 AND status = 'pending' AND attempts = 0 AND (lease_until IS NULL OR lease_until < $2)")
            .bind(id).bind(now))?;
        // What was withdrawn was not sent again after all.
        execute_in!(&mut tx, sqlx::query("UPDATE recovery_jobs SET done = done - $1 WHERE id = $2").bind(withdrawn as i64).bind(id))?;
        let summary = format!("Cancelled recovery job {id}: {} of {} sent", (job.done as u64).saturating_sub(withdrawn), job.total);
        self.audit_in(&mut tx, actor, Audit::new(Some(tenant_id), AuditAction::RecoveryCancelled, summary).target(&job.endpoint_id))
            .await?;
        tx.commit().await?;
        self.job_row(tenant_id, id).await
    }

    /// Queues the next second's worth of every running job that is due. Returns how many
    /// deliveries were queued.
    pub async fn advance_jobs(&self) -> Result<usize> {
        let now = self.clock.now();
        let sql = format!(
            "SELECT {PACER_COLUMNS} FROM recovery_jobs j WHERE j.status = 'running' AND j.next_run_at <= $1 ORDER BY j.next_run_at LIMIT 50"
        );
        let due: Vec<Job> = on_pool!(&self.store, pool => sqlx::query_as(&sql).bind(now).fetch_all(pool).await)?;
        let mut queued = 0;
        for job in due {
            queued += self.advance_job(&job, now).await?;
        }
        if queued > 0 {
            self.wake_workers();
        }
        Ok(queued)
    }

    async fn advance_job(&self, job: &Job, now: Millis) -> Result<usize> {
        if let Some(reason) = self.why_not_sending(job).await? {
            let mut tx = self.store.begin().await?;
            if finish(&mut tx, job, JobStatus::Failed, Some(&reason), now).await? {
                let summary = format!("Recovery job {} stopped after {} of {}: {reason}", job.id, job.done, job.total);
                self.audit_in(
                    &mut tx,
                    &pacer(),
                    Audit::new(Some(&job.tenant_id), AuditAction::RecoveryFinished, summary).target(&job.endpoint_id),
                )
                .await?;
            }
            tx.commit().await?;
            return Ok(0);
        }
        let sql = format!(
            "SELECT d.id, d.message_id, d.event_type, d.created_at {MATCHING}
             AND (d.created_at > $7 OR (d.created_at = $7 AND d.id > $8)) ORDER BY d.created_at, d.id LIMIT $9"
        );
        let mut tx = self.store.begin().await?;
        let batch: Vec<(String, String, String, Millis)> = on_tx!(&mut tx, conn => sqlx::query_as(&sql)
            .bind(&job.tenant_id).bind(&job.endpoint_id).bind(job.source_status).bind(job.since).bind(job.until)
            .bind(&job.event_type).bind(job.cursor_at).bind(&job.cursor_id).bind(job.rate_per_second)
            .fetch_all(conn).await)?;
        for (i, (original, message_id, event_type, _)) in batch.iter().enumerate() {
            // Spread over the coming second, in the originals' order.
            let due = now + i as Millis * SECOND / job.rate_per_second;
            execute_in!(&mut tx, sqlx::query(
                "INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, replay_of, next_attempt_at, created_at, job_id)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 'replay', $6, $7, $8, $9)")
                .bind(ids::new_id("dlv")).bind(&job.tenant_id).bind(&job.endpoint_id).bind(message_id).bind(event_type)
                .bind(original).bind(due).bind(now).bind(&job.id))?;
        }
        let (cursor_at, cursor_id) = batch.last().map(|(id, _, _, at)| (*at, id.clone())).unwrap_or((job.cursor_at, job.cursor_id.clone()));
        let complete = (batch.len() as i64) < job.rate_per_second;
        // Conditional on the cursor read above: another worker that got here first wins, and a
        // cancel that committed meanwhile stops this batch.
        let moved = execute_in!(
            &mut tx,
            sqlx::query(
                "UPDATE recovery_jobs SET cursor_at = $1, cursor_id = $2, done = done + $3, next_run_at = $4,
                 status = CASE WHEN $5 THEN 'completed' ELSE status END, finished_at = CASE WHEN $5 THEN $6 ELSE finished_at END
             WHERE id = $7 AND status = 'running' AND cursor_at = $8 AND cursor_id = $9"
            )
            .bind(cursor_at)
            .bind(&cursor_id)
            .bind(batch.len() as i64)
            .bind(now + SECOND)
            .bind(complete)
            .bind(now)
            .bind(&job.id)
            .bind(job.cursor_at)
            .bind(&job.cursor_id)
        )?;
        if moved == 0 {
            drop(tx); // rolls back
            return Ok(0);
        }
        if complete {
            let summary = format!("Recovery job {} finished: {} of {} sent again", job.id, job.done + batch.len() as i64, job.total);
            self.audit_in(
                &mut tx,
                &pacer(),
                Audit::new(Some(&job.tenant_id), AuditAction::RecoveryFinished, summary).target(&job.endpoint_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(batch.len())
    }

    /// Why a running job cannot go on: the endpoint was deactivated, or the workspace stopped
    /// delivering.
    async fn why_not_sending(&self, job: &Job) -> Result<Option<String>> {
        let endpoint = self.endpoint_row(&job.tenant_id, &job.endpoint_id).await?;
        let tenant = self.tenant(&job.tenant_id).await?;
        Ok(if endpoint.status != EndpointStatus::Active {
            Some("the endpoint was deactivated".into())
        } else if !tenant.webhooks_enabled {
            Some("webhooks were turned off for this workspace".into())
        } else if tenant.suspended {
            Some("the workspace was suspended".into())
        } else {
            None
        })
    }
}

/// Ends a running job; false if it had already ended.
async fn finish(tx: &mut Tx, job: &Job, status: JobStatus, error: Option<&str>, now: Millis) -> Result<bool> {
    let ended = execute_in!(
        tx,
        sqlx::query("UPDATE recovery_jobs SET status = $1, error = $2, finished_at = $3 WHERE id = $4 AND status = 'running'")
            .bind(status)
            .bind(error)
            .bind(now)
            .bind(&job.id)
    )?;
    Ok(ended == 1)
}
