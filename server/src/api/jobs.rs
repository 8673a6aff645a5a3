//! Recovery jobs: `POST /api/v1/endpoints/{id}/recover` starts one (or counts, with `dry_run`),
//! `GET /api/v1/jobs[?endpoint_id=]` and `GET /api/v1/jobs/{id}` follow them, and
//! `POST /api/v1/jobs/{id}/cancel` stops one.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::clock::rfc3339;
use domain::jobs::{Job, RecoverRequest};
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::deliveries::parse_time;
use super::{Api, ApiError, ApiJson, Caller, PathId};

pub fn routes(api: Api) -> Api {
    api.post("/endpoints/{id}/recover", recover).get("/jobs", list).get("/jobs/{id}", show).post("/jobs/{id}/cancel", cancel)
}

type Reply<T> = Result<T, ApiError>;

pub(super) fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id, "endpoint_id": job.endpoint_id, "status": job.status, "recover": job.source_status,
        "event_type": job.event_type, "since": rfc3339(job.since), "until": rfc3339(job.until),
        "rate_per_second": job.rate_per_second, "total": job.total, "done": job.done, "failed": job.failed,
        "delivered": job.delivered, "created_by": job.created_by, "created_at": rfc3339(job.created_at),
        "finished_at": job.finished_at.map(rfc3339), "error": job.error,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverIn {
    since: String,
    until: Option<String>,
    /// `failed` (default) or `skipped`.
    status: Option<String>,
    event_type: Option<String>,
    rate_per_second: Option<i64>,
    /// Only count what would be sent.
    #[serde(default)]
    dry_run: bool,
}

async fn recover(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<RecoverIn>,
) -> Reply<(StatusCode, Json<Value>)> {
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
        return Ok((StatusCode::OK, Json(json!({ "count": count, "dry_run": true }))));
    }
    let job = herald.start_recovery(&actor, &id, request).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job": job_json(&job) }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    endpoint_id: Option<String>,
}

async fn list(State(herald): State<Herald>, Caller(actor): Caller, Query(query): Query<ListQuery>) -> Reply<Json<Value>> {
    let jobs = herald.jobs(&actor, query.endpoint_id.as_deref()).await?;
    Ok(Json(json!({ "data": jobs.iter().map(job_json).collect::<Vec<_>>() })))
}

async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Value>> {
    Ok(Json(json!({ "job": job_json(&herald.job(&actor, &id).await?) })))
}

async fn cancel(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Value>> {
    Ok(Json(json!({ "job": job_json(&herald.cancel_job(&actor, &id).await?) })))
}
