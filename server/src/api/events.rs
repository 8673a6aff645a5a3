//! `POST /api/v1/events`: ingest. `GET /api/v1/api-keys` and friends live in the dashboard.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::Herald;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{Api, ApiError, ApiJson, Caller};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(ingest))
}

/// A business event to deliver.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EventIn {
    /// A type from `GET /api/v1/event-types`, or one of its aliases (stored and sent as the
    /// catalog name).
    #[schema(example = "appointment.booking.created")]
    event_type: String,
    #[schema(schema_with = event_data)]
    data: Value,
    /// Your idempotency key, at most 200 characters: the same key again answers 200 with the
    /// first message and creates nothing.
    #[serde(default)]
    #[schema(max_length = 200, example = "bk-1001")]
    event_id: Option<String>,
}

/// `data`: any JSON object (each type's shape is in `GET /api/v1/event-types`).
fn event_data() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The event's data: a JSON object (its shape per type is in `GET /api/v1/event-types`)."))
        .examples([serde_json::json!({ "id": "apt_1", "service_id": "svc_1", "start": "2026-05-04T10:00:00Z" })])
        .build()
}

/// The message the event became.
#[derive(Serialize, ToSchema)]
struct Accepted {
    #[schema(example = "msg_01J…")]
    id: String,
}

/// Publish an event
///
/// Records the event and one delivery for each active endpoint subscribed to its type, in one
/// transaction. Deliveries are then sent, signed, with retries.
#[utoipa::path(post, path = "/events", tag = "Events", request_body = EventIn,
    responses(
        (status = 202, description = "Accepted: the new message's id.", body = Accepted),
        (status = 200, description = "This `event_id` was seen before: the first message's id; nothing new was created.", body = Accepted),
    ))]
async fn ingest(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    ApiJson(event): ApiJson<EventIn>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let accepted = herald.ingest(&actor, &event.event_type, event.data, event.event_id).await?;
    let status = if accepted.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(Accepted { id: accepted.id })))
}
