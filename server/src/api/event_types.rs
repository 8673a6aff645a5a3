//! `/api/v1/event-types`: the catalog (any caller), and the platform's own types (operators'
//! sessions and the platform key: see `Actor::may_edit_catalog`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::catalog::EventType;
use domain::clock::rfc3339;
use domain::event_types::EventTypeInput;
use domain::Herald;
use serde_json::{json, Value};

use super::{AnyCaller, Api, ApiError, ApiJson};

pub fn routes(api: Api) -> Api {
    api.get("/event-types", list)
        .post("/event-types", create)
        .get("/event-types/{type}", show)
        .patch("/event-types/{type}", update)
        .delete("/event-types/{type}", deprecate)
}

type Reply<T> = Result<T, ApiError>;

/// One type as the API shows it: built-in ones carry their `aliases` (other names ingest
/// accepts), custom ones when they were created and changed.
pub fn type_json(t: &EventType) -> Value {
    let mut out = json!({
        "type": t.name, "resource": t.resource, "description": t.description,
        "aliases": domain::catalog::aliases_of(&t.name), "schema": t.schema, "sample": t.sample,
        "custom": t.custom, "deprecated": t.deprecated,
    });
    if t.custom {
        out["schema_given"] = json!(t.schema_given);
        out["created_at"] = json!(t.created_at.map(rfc3339));
        out["updated_at"] = json!(t.updated_at.map(rfc3339));
    }
    out
}

async fn list(State(herald): State<Herald>, AnyCaller(_): AnyCaller) -> Reply<Json<Value>> {
    let catalog = herald.fresh_catalog().await?;
    Ok(Json(json!({ "data": catalog.iter().map(type_json).collect::<Vec<_>>() })))
}

async fn show(State(herald): State<Herald>, AnyCaller(_): AnyCaller, Path(name): Path<String>) -> Reply<Json<Value>> {
    let catalog = herald.fresh_catalog().await?;
    let found = catalog.find(name.trim()).ok_or(domain::Error::NotFound("event type"))?;
    Ok(Json(type_json(found)))
}

async fn create(
    State(herald): State<Herald>,
    AnyCaller(actor): AnyCaller,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Reply<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(type_json(&herald.create_event_type(&actor, input).await?))))
}

async fn update(
    State(herald): State<Herald>,
    AnyCaller(actor): AnyCaller,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Reply<Json<Value>> {
    Ok(Json(type_json(&herald.update_event_type(&actor, &name, input).await?)))
}

/// Deprecates (never deletes): answers with the type, `deprecated: true`.
async fn deprecate(State(herald): State<Herald>, AnyCaller(actor): AnyCaller, Path(name): Path<String>) -> Reply<Json<Value>> {
    Ok(Json(type_json(&herald.deprecate_event_type(&actor, &name).await?)))
}
