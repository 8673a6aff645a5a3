//! `/api/v1/endpoints` and the tenant settings.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::endpoints::{Endpoint, EndpointInput};
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::deliveries::detail_json;
use super::{Api, ApiError, ApiJson, Caller, PathId};

pub fn routes(api: Api) -> Api {
    api.get("/endpoints", list)
        .post("/endpoints", create)
        .get("/endpoints/{id}", show)
        .patch("/endpoints/{id}", update)
        .delete("/endpoints/{id}", remove)
        .post("/endpoints/{id}/activate", activate)
        .post("/endpoints/{id}/deactivate", deactivate)
        .get("/endpoints/{id}/secret", secret)
        .post("/endpoints/{id}/secret/rotate", rotate_secret)
        .get("/endpoints/{id}/stats", stats)
        .post("/endpoints/{id}/test", send_test)
        .get("/settings", settings)
        .patch("/settings", update_settings)
}

type Reply<T> = Result<T, ApiError>;

async fn list(State(herald): State<Herald>, Caller(actor): Caller) -> Reply<Json<Value>> {
    let tenant = herald.tenant(actor.tenant_id()?).await?;
    let endpoints: Vec<Endpoint> =
        herald.endpoints(&tenant.id).await?.into_iter().map(|e| domain::endpoints::for_viewer(e, &actor)).collect();
    Ok(Json(json!({ "data": endpoints, "limit": tenant.plan.endpoint_limit(), "plan": tenant.plan })))
}

async fn create(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Reply<(StatusCode, Json<Endpoint>)> {
    Ok((StatusCode::CREATED, Json(herald.create_endpoint(&actor, input).await?)))
}

async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(domain::endpoints::for_viewer(herald.endpoint(actor.tenant_id()?, &id).await?, &actor)))
}

async fn update(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.update_endpoint(&actor, &id, input).await?))
}

async fn remove(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<StatusCode> {
    herald.delete_endpoint(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn activate(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.activate_endpoint(&actor, &id).await?))
}

async fn deactivate(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.deactivate_endpoint(&actor, &id).await?))
}

async fn secret(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Value>> {
    Ok(Json(json!({ "secret": herald.endpoint_secret(&actor, &id).await? })))
}

async fn rotate_secret(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Value>> {
    Ok(Json(json!({ "secret": herald.rotate_endpoint_secret(&actor, &id).await? })))
}

fn settings_json(tenant: &domain::tenants::Tenant) -> Value {
    json!({
        "tenant_id": tenant.id, "name": tenant.name, "plan": tenant.plan, "endpoint_limit": tenant.plan.endpoint_limit(),
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

#[derive(Deserialize)]
struct StatsQuery {
    window: Option<String>,
}

async fn stats(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId, Query(q): Query<StatsQuery>) -> Reply<Json<Value>> {
    let window = domain::stats::window(q.window.as_deref().unwrap_or("24h"))?;
    Ok(Json(json!(herald.endpoint_stats(actor.tenant_id()?, &id, window).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestIn {
    event_type: String,
}

/// Sends the sample at once and answers with the delivery, its attempt and the request.
async fn send_test(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<TestIn>,
) -> Reply<Json<Value>> {
    Ok(Json(detail_json(&herald.send_test(&actor, &id, &input.event_type).await?)))
}
