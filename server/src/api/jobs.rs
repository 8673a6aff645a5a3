//! Recovery jobs: `POST /api/v1/endpoints/{id}/recover` starts one (or counts, with `dry_run`),
//! `GET /api/v1/jobs[?endpoint_id=]` and `GET /api/v1/jobs/{id}` follow them, and
//! `POST /api/v1/jobs/{id}/cancel` stops one.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::clock::rfc3339;
use domain::jobs::{Job, RecoverRequest};
use domain::Herald;
use serde::{Deserialize, Serialize};
use types::{JobStatus, RecoverStatus};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::deliveries::parse_time;
use super::endpoints::EndpointId;
use super::{Api, ApiError, ApiJson, Caller, PathId};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(recover)).routes(routes!(list)).routes(routes!(show)).routes(routes!(cancel))
}

type Reply<T> = Result<T, ApiError>;

/// A recovery job: a paced, cancellable resend of an endpoint's failed (or skipped)
/// deliveries. Times are RFC 3339.
#[derive(Serialize, ToSchema)]
pub struct JobOut {
    #[schema(example = "job_01J…")]
    id: String,
    endpoint_id: String,
    /// `failed`: the endpoint or workspace stopped accepting deliveries; `error` says which.
    status: JobStatus,
    /// Which deliveries it sends again.
    recover: RecoverStatus,
    /// Only this event type.
    event_type: Option<String>,
    #[schema(format = DateTime)]
    since: String,
    #[schema(format = DateTime)]
    until: String,
    /// Deliveries queued again each second.
    rate_per_second: i64,
    /// How many it sends in all.
    total: i64,
    /// Queued again so far.
    done: i64,
    /// Of those, the ones not delivered (failing, retrying or skipped).
    failed: i64,
    /// Of those, the ones delivered.
    delivered: i64,
    /// Who started it.
    created_by: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    error: Option<String>,
}

fn job_out(job: Job) -> JobOut {
    JobOut {
        id: job.id,
        endpoint_id: job.endpoint_id,
        status: job.status,
        recover: job.source_status,
        event_type: job.event_type,
        since: rfc3339(job.since),
        until: rfc3339(job.until),
        rate_per_second: job.rate_per_second,
        total: job.total,
        done: job.done,
        failed: job.failed,
        delivered: job.delivered,
        created_by: job.created_by,
        created_at: rfc3339(job.created_at),
        finished_at: job.finished_at.map(rfc3339),
        error: job.error,
    }
}

/// One job.
#[derive(Serialize, ToSchema)]
pub struct JobReply {
    job: JobOut,
}

/// Jobs, newest first.
#[derive(Serialize, ToSchema)]
pub struct JobList {
    data: Vec<JobOut>,
}

/// What a dry run would send.
#[derive(Serialize, ToSchema)]
pub struct RecoverCount {
    /// How many deliveries would be sent again.
    count: i64,
    /// Always `true`.
    dry_run: bool,
}

/// Which of the endpoint's deliveries to send again, and how fast.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RecoverIn {
    /// From this time on (RFC 3339, in the past).
    #[schema(format = DateTime, example = "2026-01-01T00:00:00Z")]
    since: String,
    /// Before this time (RFC 3339; default now).
    #[schema(format = DateTime)]
    until: Option<String>,
    /// `failed` (default: ran out of retries) or `skipped` (recorded while the endpoint was inactive).
    #[schema(value_type = Option<RecoverStatus>)]
    status: Option<String>,
    /// Only this event type.
    event_type: Option<String>,
    /// Deliveries queued again each second, 1–1000 (default 50).
    #[schema(minimum = 1, maximum = 1000)]
    rate_per_second: Option<i64>,
    /// Only count what would be sent.
    #[serde(default)]
    dry_run: bool,
}

/// Recover failed or skipped deliveries
///
/// Starts a recovery job for the endpoint (admins), or with `dry_run` only counts what it would
/// send.
#[utoipa::path(post, path = "/endpoints/{id}/recover", tag = "Recovery jobs", params(EndpointId), request_body = RecoverIn,
    responses(
        (status = 202, description = "The job, started.", body = JobReply, links(
            ("GetJob" = (operation_id = "get_jobs_id", parameters(("id" = "$response.body#/job/id")))),
            ("Cancel" = (operation_id = "post_jobs_id_cancel", parameters(("id" = "$response.body#/job/id")))),
        )),
        (status = 200, description = "`dry_run`: how many deliveries it would send.", body = RecoverCount),
        (status = 409, description = "A job is already running for the endpoint (`job_running`), the endpoint is inactive (`endpoint_inactive`) or webhooks are off (`webhooks_off`).", body = super::ErrorBody),
    ))]
async fn recover(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<RecoverIn>,
) -> Reply<axum::response::Response> {
    use axum::response::IntoResponse;
    let since = parse_time("since", Some(input.since))?.ok_or_else(|| domain::Error::invalid("since", "since is required."))?;
    let request = RecoverRequest {
        status: domain::replay::recover_status(input.status.as_deref().unwrap_or("failed"))?,
        since,
        until: parse_time("until", input.until)?,
        event_type: input.event_type,
        rate_per_second: input.rate_per_second,
    };
    if input.dry_run {
        let count = herald.recover_count(&actor, &id, &request).await?;
        return Ok((StatusCode::OK, Json(RecoverCount { count, dry_run: true })).into_response());
    }
    let job = herald.start_recovery(&actor, &id, request).await?;
    Ok((StatusCode::ACCEPTED, Json(JobReply { job: job_out(job) })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only this endpoint's jobs.
    endpoint_id: Option<String>,
}

/// List recovery jobs
///
/// The tenant's recovery jobs, newest first.
#[utoipa::path(get, path = "/jobs", tag = "Recovery jobs", params(ListQuery),
    responses(
        (status = 200, description = "The jobs.", body = JobList),
        (status = 422, description = "An unknown query parameter.", body = super::ErrorBody),
    ))]
async fn list(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Json<JobList>> {
    let Query(query) = query.map_err(|e| domain::Error::invalid("query", e.body_text()))?;
    let jobs = herald.jobs(&actor, query.endpoint_id.as_deref()).await?;
    Ok(Json(JobList { data: jobs.into_iter().map(job_out).collect() }))
}

/// The job's id (`job_…`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct JobId {
    /// The job's id.
    #[allow(dead_code)]
    id: String,
}

/// Get a recovery job
///
/// One recovery job, with its progress.
#[utoipa::path(get, path = "/jobs/{id}", tag = "Recovery jobs", params(JobId),
    responses((status = 200, description = "The job.", body = JobReply)))]
async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<JobReply>> {
    Ok(Json(JobReply { job: job_out(herald.job(&actor, &id).await?) }))
}

/// Cancel a recovery job
///
/// Stops a running job; what it queued so far is still delivered.
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "Recovery jobs", params(JobId),
    responses(
        (status = 200, description = "The job, cancelled.", body = JobReply),
        (status = 409, description = "The job has already finished (`job_finished`).", body = super::ErrorBody),
    ))]
async fn cancel(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<JobReply>> {
    Ok(Json(JobReply { job: job_out(herald.cancel_job(&actor, &id).await?) }))
}
