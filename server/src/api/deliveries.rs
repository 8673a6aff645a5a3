//! `GET /api/v1/deliveries` (filtered, keyset-paginated), `GET /api/v1/deliveries/{id}` (with its
//! attempts and the request as sent), its payload download, and replay.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use domain::clock::rfc3339;
use domain::logs::{Attempt, DeliveryDetail, DeliveryRow, LogFilter};
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Api, ApiError, Caller, PathId};

pub fn routes(api: Api) -> Api {
    api.get("/deliveries", list)
        .get("/deliveries/{id}", show)
        .get("/deliveries/{id}/payload", payload)
        .post("/deliveries/{id}/replay", replay)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    endpoint_id: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

pub(super) fn parse_time(field: &'static str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
    let parsed = domain::clock::parse_utc(&value)
        .ok_or_else(|| domain::Error::invalid(field, format!("{field} must be an RFC 3339 time such as 2026-01-01T10:00:00Z.")))?;
    Ok(Some(parsed))
}

fn delivery_json(d: &DeliveryRow) -> Value {
    json!({
        "id": d.id, "endpoint_id": d.endpoint_id, "message_id": d.message_id, "event_type": d.event_type,
        "status": d.status, "kind": d.kind, "labels": d.labels(), "attempts": d.attempts, "http_code": d.last_status_code,
        "duration_ms": d.last_duration_ms, "error": d.last_error, "created_at": rfc3339(d.created_at),
        "next_attempt_at": d.next_attempt_at.map(rfc3339), "replay_of": d.replay_of, "replays": d.replays,
        "archived_at": d.archived_at.map(rfc3339),
    })
}

fn attempt_json(a: &Attempt) -> Value {
    let headers: Value = a.response_headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or(Value::Null);
    let request: Value = a.request.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
    let failure = a.failure_class.map(|class| json!({ "reason": class.as_str(), "message": class.sentence(), "fix": class.fix() }));
    json!({
        "attempted_at": rfc3339(a.attempted_at), "request": request, "duration_ms": a.duration_ms, "status_code": a.status_code,
        "response_headers": headers, "response_body": a.response_body, "error": a.error, "failure": failure,
    })
}

async fn list(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| domain::Error::invalid("query", e.body_text()))?;
    let filter = LogFilter {
        since: parse_time("since", q.since)?,
        until: parse_time("until", q.until)?,
        endpoint_id: q.endpoint_id.filter(|v| !v.is_empty()),
        status: q.status.filter(|v| !v.is_empty()),
        event_type: q.event_type.filter(|v| !v.is_empty()),
        cursor: q.cursor.filter(|v| !v.is_empty()),
        limit: q.limit,
    };
    let page = herald.delivery_log(actor.tenant_id()?, filter).await?;
    Ok(Json(json!({ "data": page.data.iter().map(delivery_json).collect::<Vec<_>>(), "next_cursor": page.next_cursor })))
}

/// A delivery with its attempts (`attempts` is the list; `attempt_count` the number), the ids of
/// its replays, and `request`: method, URL, masked headers, body and a cURL command.
pub(super) fn detail_json(detail: &DeliveryDetail) -> Value {
    let mut body = delivery_json(&detail.delivery);
    body["attempt_count"] = body["attempts"].clone();
    body["attempts"] = Value::Array(detail.attempts.iter().map(attempt_json).collect());
    body["replay_ids"] = json!(detail.replay_ids);
    body["request"] = json!(detail.request);
    body
}

async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Result<Json<Value>, ApiError> {
    Ok(Json(detail_json(&herald.delivery(actor.tenant_id()?, &id).await?)))
}

/// The payload as the endpoint receives it, as a `<message-id>.json` attachment.
async fn payload(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Result<impl IntoResponse, ApiError> {
    let file = herald.payload_file(actor.tenant_id()?, &id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    Ok(([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, disposition)], file.body))
}

async fn replay(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Result<(StatusCode, Json<Value>), ApiError> {
    let replay = herald.replay(&actor, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_json(&replay))))
}
