//! `POST /api/v1/events`: ingest. `GET /api/v1/api-keys` and friends live in the dashboard.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Api, ApiError, ApiJson, Caller};

pub fn routes(api: Api) -> Api {
    api.post("/events", ingest)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    event_type: String,
    data: Value,
    #[serde(default)]
    event_id: Option<String>,
}

/// 202 with the new message id; 200 with the first id when `event_id` was seen before.
async fn ingest(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    ApiJson(event): ApiJson<EventIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let accepted = herald.ingest(&actor, &event.event_type, event.data, event.event_id).await?;
    let status = if accepted.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(json!({ "id": accepted.id }))))
}
