//! `/api/v1/endpoints`, `/api/v1/event-types` and the tenant settings.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::endpoints::{Endpoint, EndpointInput};
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, ApiJson, Caller};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/event-types", get(event_types))
        .route("/endpoints", get(list).post(create))
        .route("/endpoints/{id}", get(show).patch(update).delete(remove))
        .route("/endpoints/{id}/activate", post(activate))
        .route("/endpoints/{id}/deactivate", post(deactivate))
        .route("/endpoints/{id}/secret", get(secret))
        .route("/endpoints/{id}/secret/rotate", post(rotate_secret))
        .route("/settings", get(settings).patch(update_settings))
}

type Reply<T> = Result<T, ApiError>;

async fn event_types() -> Json<Value> {
    let types: Vec<Value> = domain::catalog::all()
        .iter()
        .map(|t| json!({ "type": t.name, "resource": t.resource, "description": t.description, "schema": t.schema, "sample": t.sample }))
        .collect();
    Json(json!({ "data": types }))
}

async fn list(State(herald): State<Herald>, Caller(actor): Caller) -> Reply<Json<Value>> {
    let tenant = herald.tenant(actor.tenant_id()?).await?;
    let endpoints = herald.endpoints(&tenant.id).await?;
    Ok(Json(json!({ "data": endpoints, "limit": tenant.plan().endpoint_limit(), "plan": tenant.plan })))
}

async fn create(State(herald): State<Herald>, Caller(actor): Caller, ApiJson(input): ApiJson<EndpointInput>) -> Reply<(StatusCode, Json<Endpoint>)> {
    Ok((StatusCode::CREATED, Json(herald.create_endpoint(&actor, input).await?)))
}

async fn show(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.endpoint(actor.tenant_id()?, &id).await?))
}

async fn update(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>, ApiJson(input): ApiJson<EndpointInput>) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.update_endpoint(&actor, &id, input).await?))
}

async fn remove(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<StatusCode> {
    herald.delete_endpoint(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn activate(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.activate_endpoint(&actor, &id).await?))
}

async fn deactivate(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.deactivate_endpoint(&actor, &id).await?))
}

async fn secret(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<Json<Value>> {
    Ok(Json(json!({ "secret": herald.endpoint_secret(&actor, &id).await? })))
}

async fn rotate_secret(State(herald): State<Herald>, Caller(actor): Caller, Path(id): Path<String>) -> Reply<Json<Value>> {
    Ok(Json(json!({ "secret": herald.rotate_endpoint_secret(&actor, &id).await? })))
}

fn settings_json(tenant: &domain::tenants::Tenant) -> Value {
    json!({
        "tenant_id": tenant.id, "name": tenant.name, "plan": tenant.plan, "endpoint_limit": tenant.plan().endpoint_limit(),
        "retention_days": tenant.retention_days, "webhooks_enabled": tenant.webhooks_enabled,
        "allow_private_urls": tenant.allow_private_urls,
    })
}

async fn settings(State(herald): State<Herald>, Caller(actor): Caller) -> Reply<Json<Value>> {
    Ok(Json(settings_json(&herald.tenant(actor.tenant_id()?).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsIn {
    webhooks_enabled: bool,
}

async fn update_settings(State(herald): State<Herald>, Caller(actor): Caller, ApiJson(input): ApiJson<SettingsIn>) -> Reply<Json<Value>> {
    Ok(Json(settings_json(&herald.set_webhooks_enabled(&actor, input.webhooks_enabled).await?)))
}
