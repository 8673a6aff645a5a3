//! `GET /api/v1/deliveries` (filtered, keyset-paginated), `GET /api/v1/deliveries/{id}` (with its
//! attempts and the request as sent), its payload download, and replay.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use domain::clock::rfc3339;
use domain::logs::{Attempt, DeliveryDetail, DeliveryRow, LogFilter};
use domain::Herald;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use types::log::RawRequest;
use types::{DeliveryKind, DeliveryStatus, FailureClass, StatusFilter};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{Api, ApiError, Caller, ErrorBody, PathId};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(list)).routes(routes!(show)).routes(routes!(payload)).routes(routes!(replay))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    /// Only this endpoint's deliveries.
    endpoint_id: Option<String>,
    /// `undelivered`: failed or retrying.
    #[param(inline, value_type = Option<StatusFilter>)]
    status: Option<String>,
    /// Only this event type.
    event_type: Option<String>,
    /// From this time on (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

pub(super) fn parse_time(field: &'static str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(None) };
    let parsed = domain::clock::parse_utc(&value)
        .ok_or_else(|| domain::Error::invalid(field, format!("{field} must be an RFC 3339 time such as 2026-01-01T10:00:00Z.")))?;
    Ok(Some(parsed))
}

/// One delivery of one message to one endpoint. Times are RFC 3339.
#[derive(Serialize, ToSchema)]
pub struct DeliveryOut {
    #[schema(example = "dlv_01J…")]
    id: String,
    endpoint_id: String,
    message_id: String,
    event_type: String,
    status: DeliveryStatus,
    kind: DeliveryKind,
    /// What the log shows next to the time: `Test`, `Replay`, `Archived`.
    labels: Vec<&'static str>,
    /// How many attempts were made.
    attempts: i64,
    /// The last attempt's HTTP status.
    http_code: Option<i64>,
    duration_ms: Option<i64>,
    /// The last attempt's error.
    error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    /// When the next attempt is due.
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    /// The delivery this one replays.
    replay_of: Option<String>,
    /// How many replays were made of this one.
    replays: i64,
    /// Set once the payload was archived (past the tenant's retention).
    #[schema(format = DateTime)]
    archived_at: Option<String>,
}

fn delivery_out(d: &DeliveryRow) -> DeliveryOut {
    DeliveryOut {
        id: d.id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        message_id: d.message_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status,
        kind: d.kind,
        labels: d.labels(),
        attempts: d.attempts,
        http_code: d.last_status_code,
        duration_ms: d.last_duration_ms,
        error: d.last_error.clone(),
        created_at: rfc3339(d.created_at),
        next_attempt_at: d.next_attempt_at.map(rfc3339),
        replay_of: d.replay_of.clone(),
        replays: d.replays,
        archived_at: d.archived_at.map(rfc3339),
    }
}

/// A page of the delivery log, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    data: Vec<DeliveryOut>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// A delivery with its attempts (`attempts` is the list; `attempt_count` the number), the ids
/// of its replays, and `request`: method, URL, masked headers, body and a cURL command.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDetailOut {
    id: String,
    endpoint_id: String,
    message_id: String,
    event_type: String,
    status: DeliveryStatus,
    kind: DeliveryKind,
    labels: Vec<&'static str>,
    /// Every attempt, oldest first.
    attempts: Vec<AttemptOut>,
    http_code: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    replay_of: Option<String>,
    replays: i64,
    #[schema(format = DateTime)]
    archived_at: Option<String>,
    attempt_count: i64,
    /// Deliveries made by replaying this one, oldest first.
    replay_ids: Vec<String>,
    /// The request as sent (signature and auth header value masked); `null` for email.
    request: Option<RawRequest>,
}

/// One attempt: the request as sent and the response, or why there was none.
#[derive(Serialize, ToSchema)]
pub struct AttemptOut {
    #[schema(format = DateTime)]
    attempted_at: String,
    /// Method, URL, payload shape and headers (masked), as sent.
    #[schema(value_type = Option<Object>)]
    request: Value,
    duration_ms: i64,
    status_code: Option<i64>,
    /// The response's headers, by name.
    #[schema(value_type = Option<Object>)]
    response_headers: Value,
    /// The response body (cut short when long; gone once archived).
    response_body: Option<String>,
    error: Option<String>,
    /// Why it failed, in words, with what to do; `null` when it succeeded.
    failure: Option<FailureOut>,
}

/// Why an attempt failed.
#[derive(Serialize, ToSchema)]
pub struct FailureOut {
    reason: FailureClass,
    message: &'static str,
    fix: &'static str,
}

fn attempt_out(a: &Attempt) -> AttemptOut {
    let parsed = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    AttemptOut {
        attempted_at: rfc3339(a.attempted_at),
        request: parsed(&a.request),
        duration_ms: a.duration_ms,
        status_code: a.status_code,
        response_headers: parsed(&a.response_headers),
        response_body: a.response_body.clone(),
        error: a.error.clone(),
        failure: a.failure_class.map(|class| FailureOut { reason: class, message: class.sentence(), fix: class.fix() }),
    }
}

/// List deliveries
///
/// The delivery log: newest first, filtered, a page at a time.
#[utoipa::path(get, path = "/deliveries", tag = "Deliveries", params(LogQuery),
    responses(
        (status = 200, description = "A page of deliveries.", body = DeliveryPage),
        (status = 422, description = "A query parameter is not valid; `field` names it.", body = ErrorBody),
    ))]
async fn list(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DeliveryPage>, ApiError> {
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
    Ok(Json(DeliveryPage { data: page.data.iter().map(delivery_out).collect(), next_cursor: page.next_cursor }))
}

pub(super) fn detail_json(detail: DeliveryDetail) -> DeliveryDetailOut {
    let d = delivery_out(&detail.delivery);
    DeliveryDetailOut {
        id: d.id,
        endpoint_id: d.endpoint_id,
        message_id: d.message_id,
        event_type: d.event_type,
        status: d.status,
        kind: d.kind,
        labels: d.labels,
        attempts: detail.attempts.iter().map(attempt_out).collect(),
        http_code: d.http_code,
        duration_ms: d.duration_ms,
        error: d.error,
        created_at: d.created_at,
        next_attempt_at: d.next_attempt_at,
        replay_of: d.replay_of,
        replays: d.replays,
        archived_at: d.archived_at,
        attempt_count: d.attempts,
        replay_ids: detail.replay_ids,
        request: detail.request,
    }
}

/// The delivery's id (`dlv_…`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DeliveryId {
    /// The delivery's id.
    #[allow(dead_code)]
    id: String,
}

/// Get a delivery
///
/// One delivery with every attempt, its replays and the request as sent, with a cURL command
/// that repeats it (secrets left as `${…}` variables).
#[utoipa::path(get, path = "/deliveries/{id}", tag = "Deliveries", params(DeliveryId),
    responses((status = 200, description = "The delivery and its attempts.", body = DeliveryDetailOut)))]
async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Result<Json<DeliveryDetailOut>, ApiError> {
    Ok(Json(detail_json(herald.delivery(actor.tenant_id()?, &id).await?)))
}

/// Download the payload
///
/// The payload exactly as the endpoint receives it, as a `<message-id>.json` attachment.
#[utoipa::path(get, path = "/deliveries/{id}/payload", tag = "Deliveries", params(DeliveryId),
    responses(
        (status = 200, description = "The body as sent.", content_type = "application/json", body = Object),
        (status = 410, description = "The payload was archived (`archived`).", body = ErrorBody),
    ))]
async fn payload(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Result<impl IntoResponse, ApiError> {
    let file = herald.payload_file(actor.tenant_id()?, &id).await?;
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    Ok(([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, disposition)], file.body))
}

/// Replay a delivery
///
/// Queues the delivery again (admins), as a new delivery labelled Replay whose `replay_of` is
/// the original.
#[utoipa::path(post, path = "/deliveries/{id}/replay", tag = "Deliveries", params(DeliveryId),
    responses(
        (status = 202, description = "The new delivery, queued.", body = DeliveryOut),
        (status = 409, description = "The endpoint is inactive (`endpoint_inactive`) or webhooks are off (`webhooks_off`).", body = ErrorBody),
        (status = 410, description = "The delivery was archived and cannot be sent again (`archived`).", body = ErrorBody),
    ))]
async fn replay(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<DeliveryOut>), ApiError> {
    let replay = herald.replay(&actor, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_out(&replay))))
}
