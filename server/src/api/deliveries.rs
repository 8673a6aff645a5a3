//! `GET /api/v1/deliveries` (filtered, keyset-paginated) and `GET /api/v1/deliveries/{id}`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use domain::clock::rfc3339;
use domain::logs::{Attempt, DeliveryRow, LogFilter};
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, Caller};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/deliveries", get(list)).route("/deliveries/{id}", get(show))
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

fn parse_time(field: &'static str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
    let parsed = time::OffsetDateTime::parse(&value, &time::format_description::well_known::Rfc3339)
        .map_err(|_| domain::Error::invalid(field, format!("{field} must be an RFC 3339 time such as 2026-01-01T10:00:00Z.")))?;
    Ok(Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn delivery_json(d: &DeliveryRow) -> Value {
    let mut labels = Vec::new();
    match d.kind.as_str() {
        "replay" => labels.push("Replay"),
        "test" => labels.push("Test"),
        _ => {}
    }
    json!({
        "id": d.id, "endpoint_id": d.endpoint_id, "message_id": d.message_id, "event_type": d.event_type,
        "status": d.status, "labels": labels, "attempts": d.attempts, "http_code": d.last_status_code,
        "duration_ms": d.last_duration_ms, "error": d.last_error, "created_at": rfc3339(d.created_at),
        "next_attempt_at": d.next_attempt_at.map(rfc3339), "replay_of": d.replay_of, "replays": d.replays,
    })
}

fn attempt_json(a: &Attempt) -> Value {
    let headers: Value = a.response_headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or(Value::Null);
    json!({
        "attempted_at": rfc3339(a.attempted_at), "duration_ms": a.duration_ms, "status_code": a.status_code,
        "response_headers": headers, "response_body": a.response_body, "error": a.error,
    })
}

async fn list(State(herald): State<Herald>, Caller(actor): Caller, query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>) -> Result<Json<Value>, ApiError> {
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

async fn show(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (delivery, attempts) = herald.delivery(actor.tenant_id()?, &id).await?;
    let mut body = delivery_json(&delivery);
    body["attempt_count"] = body["attempts"].clone();
    body["attempts"] = Value::Array(attempts.iter().map(attempt_json).collect());
    Ok(Json(body))
}
