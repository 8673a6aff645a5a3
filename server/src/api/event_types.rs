//! `/api/v1/event-types`: the catalog (any caller), and the platform's own types (operators'
//! sessions and the platform key: see `Actor::may_edit_catalog`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::catalog::EventType;
use domain::clock::rfc3339;
use domain::event_types::EventTypeInput;
use domain::Herald;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{AnyCaller, Api, ApiError, ApiJson, ErrorBody};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(list, create)).routes(routes!(show, update, deprecate))
}

type Reply<T> = Result<T, ApiError>;

/// The event type catalog.
#[derive(Serialize, ToSchema)]
pub struct EventTypeList {
    data: Vec<EventTypeOut>,
}

/// One event type: its name, what it means, the JSON schema of its `data` and a sample.
/// Custom types (the platform's own) also say when they were created and changed.
#[derive(Serialize, ToSchema)]
pub struct EventTypeOut {
    #[serde(rename = "type")]
    #[schema(example = "appointment.booking.created")]
    event_type: String,
    /// The first segment of the name, e.g. `appointment`.
    resource: String,
    description: String,
    /// Other names ingest and subscriptions accept for this type (deprecated ones, or a source
    /// platform's); Herald stores and sends the catalog name.
    aliases: Vec<&'static str>,
    /// JSON Schema (2020-12) of the event's `data` object.
    schema: Value,
    /// A realistic `data` object, as "send test event" sends it.
    sample: Value,
    /// Defined by the platform, not shipped with Herald.
    custom: bool,
    /// Hidden from new subscriptions; still accepted and delivered to endpoints that have it.
    deprecated: bool,
    /// Custom types: whether `schema` was given (otherwise it is derived from the sample).
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_given: Option<bool>,
    /// Custom types: when it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    created_at: Option<String>,
    /// Custom types: when it was last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    updated_at: Option<String>,
}

/// One type as the API shows it: built-in ones carry their `aliases` (other names ingest
/// accepts), custom ones when they were created and changed.
fn type_out(t: &EventType) -> EventTypeOut {
    EventTypeOut {
        event_type: t.name.clone(),
        resource: t.resource.clone(),
        description: t.description.clone(),
        aliases: domain::catalog::aliases_of(&t.name),
        schema: t.schema.clone(),
        sample: t.sample.clone(),
        custom: t.custom,
        deprecated: t.deprecated,
        schema_given: t.custom.then_some(t.schema_given),
        created_at: t.created_at.filter(|_| t.custom).map(rfc3339),
        updated_at: t.updated_at.filter(|_| t.custom).map(rfc3339),
    }
}

/// The type's name.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TypeName {
    /// The type's name (or an alias), e.g. `appointment.booking.created`.
    #[allow(dead_code)]
    r#type: String,
}

/// List event types
///
/// The catalog of event types: Herald's own, with their aliases, and the platform's.
#[utoipa::path(get, path = "/event-types", tag = "Event types", security(("api_key" = []), ("session" = []), ("platform_key" = [])),
    responses((status = 200, description = "Every event type, grouped by resource.", body = EventTypeList)))]
async fn list(State(herald): State<Herald>, AnyCaller(_): AnyCaller) -> Reply<Json<EventTypeList>> {
    let catalog = herald.fresh_catalog().await?;
    Ok(Json(EventTypeList { data: catalog.iter().map(type_out).collect() }))
}

/// Get an event type
///
/// One event type, by its name or an alias.
#[utoipa::path(get, path = "/event-types/{type}", tag = "Event types", params(TypeName),
    security(("api_key" = []), ("session" = []), ("platform_key" = [])),
    responses((status = 200, description = "The event type.", body = EventTypeOut)))]
async fn show(State(herald): State<Herald>, AnyCaller(_): AnyCaller, Path(name): Path<String>) -> Reply<Json<EventTypeOut>> {
    let catalog = herald.fresh_catalog().await?;
    let found = catalog.find(name.trim()).ok_or(domain::Error::NotFound("event type"))?;
    Ok(Json(type_out(found)))
}

/// Define an event type
///
/// Adds one of the platform's own event types (platform key or operator): `type`,
/// `description`, a `sample` and optionally a JSON `schema` (derived from the sample otherwise).
#[utoipa::path(post, path = "/event-types", tag = "Event types", request_body = EventTypeInput,
    security(("api_key" = []), ("session" = []), ("platform_key" = [])),
    responses(
        (status = 201, description = "The new type.", body = EventTypeOut),
        (status = 409, description = "A type of that name exists (`event_type_exists`).", body = ErrorBody),
    ))]
async fn create(
    State(herald): State<Herald>,
    AnyCaller(actor): AnyCaller,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Reply<(StatusCode, Json<EventTypeOut>)> {
    Ok((StatusCode::CREATED, Json(type_out(&herald.create_event_type(&actor, input).await?))))
}

/// Change an event type
///
/// Changes a custom type's `description`, `schema`, `sample` or `deprecated` (platform key or
/// operator); `schema: null` goes back to the schema derived from the sample.
#[utoipa::path(patch, path = "/event-types/{type}", tag = "Event types", params(TypeName), request_body = EventTypeInput,
    security(("api_key" = []), ("session" = []), ("platform_key" = [])),
    responses((status = 200, description = "The type, changed.", body = EventTypeOut)))]
async fn update(
    State(herald): State<Herald>,
    AnyCaller(actor): AnyCaller,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Reply<Json<EventTypeOut>> {
    Ok(Json(type_out(&herald.update_event_type(&actor, &name, input).await?)))
}

/// Deprecate an event type
///
/// Deprecates a custom type (never deletes it): it is hidden from new subscriptions and still
/// delivered to the endpoints that have it. Answers with the type, `deprecated: true`.
#[utoipa::path(delete, path = "/event-types/{type}", tag = "Event types", params(TypeName),
    security(("api_key" = []), ("session" = []), ("platform_key" = [])),
    responses((status = 200, description = "The type, deprecated.", body = EventTypeOut)))]
async fn deprecate(State(herald): State<Herald>, AnyCaller(actor): AnyCaller, Path(name): Path<String>) -> Reply<Json<EventTypeOut>> {
    Ok(Json(type_out(&herald.deprecate_event_type(&actor, &name).await?)))
}
