//! `/api/v1/endpoints` and the tenant settings.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::endpoints::{Endpoint, EndpointInput};
use domain::Herald;
use serde::{Deserialize, Serialize};
use types::stats::EndpointStats;
use types::Plan;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::deliveries::{detail_json, DeliveryDetailOut};
use super::{Api, ApiError, ApiJson, Caller, ErrorBody, PathId};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
        .routes(routes!(secret))
        .routes(routes!(rotate_secret))
        .routes(routes!(stats))
        .routes(routes!(send_test))
        .routes(routes!(settings, update_settings))
}

type Reply<T> = Result<T, ApiError>;

/// The tenant's endpoints, with its plan's endpoint limit.
#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    data: Vec<Endpoint>,
    /// How many endpoints the plan allows.
    limit: i64,
    plan: Plan,
}

/// List endpoints
///
/// Every endpoint of the tenant, oldest first.
#[utoipa::path(get, path = "/endpoints", tag = "Endpoints", responses((status = 200, description = "The endpoints and the plan's limit.", body = EndpointList)))]
async fn list(State(herald): State<Herald>, Caller(actor): Caller) -> Reply<Json<EndpointList>> {
    let tenant = herald.tenant(actor.tenant_id()?).await?;
    let endpoints: Vec<Endpoint> =
        herald.endpoints(&tenant.id).await?.into_iter().map(|e| domain::endpoints::for_viewer(e, &actor)).collect();
    Ok(Json(EndpointList { data: endpoints, limit: tenant.plan.endpoint_limit(), plan: tenant.plan }))
}

/// Create an endpoint
///
/// Creates an endpoint. It needs `name`, `event_types` and a `url` (or, for the email channel,
/// an `email`); a signing secret (`whsec_…`) is made for it.
#[utoipa::path(post, path = "/endpoints", tag = "Endpoints", request_body = EndpointInput,
    responses(
        (status = 201, description = "The new endpoint.", body = Endpoint, links(
            ("GetEndpoint" = (operation_id = "get_endpoints_id", parameters(("id" = "$response.body#/id")))),
            ("SendTest" = (operation_id = "post_endpoints_id_test", parameters(("id" = "$response.body#/id")))),
            ("Stats" = (operation_id = "get_endpoints_id_stats", parameters(("id" = "$response.body#/id")))),
            ("Recover" = (operation_id = "post_endpoints_id_recover", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 409, description = "The plan's endpoint limit is reached (`plan_limit_reached`).", body = ErrorBody),
    ))]
async fn create(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Reply<(StatusCode, Json<Endpoint>)> {
    Ok((StatusCode::CREATED, Json(herald.create_endpoint(&actor, input).await?)))
}

/// Get an endpoint
///
/// One endpoint, with its health.
#[utoipa::path(get, path = "/endpoints/{id}", tag = "Endpoints", params(EndpointId),
    responses((status = 200, description = "The endpoint.", body = Endpoint)))]
async fn show(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(domain::endpoints::for_viewer(herald.endpoint(actor.tenant_id()?, &id).await?, &actor)))
}

/// Change an endpoint
///
/// Changes the fields sent and keeps the others; `auth_header: null` removes the header and
/// `filter: null` the filter.
#[utoipa::path(patch, path = "/endpoints/{id}", tag = "Endpoints", params(EndpointId),
    request_body = EndpointInput,
    responses(
        (status = 200, description = "The endpoint as changed.", body = Endpoint),
        (status = 409, description = "The stored auth header value can no longer be decrypted: send `auth_header.value` again (`auth_header_unreadable`).", body = ErrorBody),
    ))]
async fn update(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.update_endpoint(&actor, &id, input).await?))
}

/// Delete an endpoint
///
/// Deletes the endpoint; its delivery log goes with it.
#[utoipa::path(delete, path = "/endpoints/{id}", tag = "Endpoints", params(EndpointId),
    responses((status = 204, description = "Deleted.")))]
async fn remove(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<StatusCode> {
    herald.delete_endpoint(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activate an endpoint
///
/// Turns the endpoint on again (after it was turned off, or deactivated by failures). Events
/// skipped meanwhile can be sent with a recovery job.
#[utoipa::path(post, path = "/endpoints/{id}/activate", tag = "Endpoints", params(EndpointId),
    responses((status = 200, description = "The endpoint, active.", body = Endpoint)))]
async fn activate(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.activate_endpoint(&actor, &id).await?))
}

/// Deactivate an endpoint
///
/// Turns the endpoint off: its events are recorded as skipped until it is activated.
#[utoipa::path(post, path = "/endpoints/{id}/deactivate", tag = "Endpoints", params(EndpointId),
    responses((status = 200, description = "The endpoint, inactive.", body = Endpoint)))]
async fn deactivate(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Endpoint>> {
    Ok(Json(herald.deactivate_endpoint(&actor, &id).await?))
}

/// The endpoint's signing secret (Standard Webhooks).
#[derive(Serialize, ToSchema)]
pub struct Secret {
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

/// Reveal the signing secret
///
/// The secret receivers verify the `webhook-signature` header with. Not for staff viewing a
/// tenant.
#[utoipa::path(get, path = "/endpoints/{id}/secret", tag = "Endpoints", params(EndpointId),
    responses(
        (status = 200, description = "The current secret.", body = Secret),
        (status = 403, description = "Staff viewing the tenant never see secrets.", body = ErrorBody),
    ))]
async fn secret(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Secret>> {
    Ok(Json(Secret { secret: herald.endpoint_secret(&actor, &id).await? }))
}

/// Rotate the signing secret
///
/// Makes a new signing secret; for 24 hours requests are signed with both, so receivers can
/// switch without losing any.
#[utoipa::path(post, path = "/endpoints/{id}/secret/rotate", tag = "Endpoints", params(EndpointId),
    responses((status = 200, description = "The new secret.", body = Secret)))]
async fn rotate_secret(State(herald): State<Herald>, Caller(actor): Caller, PathId(id): PathId) -> Reply<Json<Secret>> {
    Ok(Json(Secret { secret: herald.rotate_endpoint_secret(&actor, &id).await? }))
}

/// The tenant's settings.
#[derive(Serialize, ToSchema)]
pub struct Settings {
    tenant_id: String,
    name: String,
    plan: Plan,
    endpoint_limit: i64,
    /// Messages older than this many days lose their payloads.
    retention_days: i64,
    /// Off: events are accepted and recorded, nothing is sent.
    webhooks_enabled: bool,
    /// Whether endpoints may use http:// and private addresses (an operator sets it).
    allow_private_urls: bool,
}

fn settings_of(tenant: domain::tenants::Tenant) -> Settings {
    Settings {
        endpoint_limit: tenant.plan.endpoint_limit(),
        tenant_id: tenant.id,
        name: tenant.name,
        plan: tenant.plan,
        retention_days: tenant.retention_days,
        webhooks_enabled: tenant.webhooks_enabled,
        allow_private_urls: tenant.allow_private_urls,
    }
}

/// Get the settings
///
/// The tenant's plan, limits, retention and whether webhooks are sent.
#[utoipa::path(get, path = "/settings", tag = "Settings", responses((status = 200, description = "The settings.", body = Settings)))]
async fn settings(State(herald): State<Herald>, Caller(actor): Caller) -> Reply<Json<Settings>> {
    Ok(Json(settings_of(herald.tenant(actor.tenant_id()?).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsIn {
    /// Off: events are still accepted and recorded, but nothing is sent.
    webhooks_enabled: bool,
}

/// Switch webhooks on or off
///
/// Switches sending webhooks on or off for the whole tenant.
#[utoipa::path(patch, path = "/settings", tag = "Settings", request_body = SettingsIn,
    responses((status = 200, description = "The settings as changed.", body = Settings)))]
async fn update_settings(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<SettingsIn>,
) -> Reply<Json<Settings>> {
    Ok(Json(settings_of(herald.set_webhooks_enabled(&actor, input.webhooks_enabled).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// How far back: `24h` (default, hourly bars), `7d` (6-hourly) or `30d` (daily).
    #[param(pattern = "^(24h|7d|30d)$", example = "24h")]
    window: Option<String>,
}

/// Delivery statistics
///
/// Requests sent, succeeded, failed and given up over the window, success rate, latency, the
/// last delivery, why attempts failed (most frequent first) and bars for a chart.
#[utoipa::path(get, path = "/endpoints/{id}/stats", tag = "Endpoints", params(EndpointId, StatsQuery),
    responses(
        (status = 200, description = "The statistics.", body = EndpointStats),
        (status = 422, description = "`window` is not one of 24h, 7d, 30d.", body = ErrorBody),
    ))]
async fn stats(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Json<EndpointStats>> {
    let Query(q) = query.map_err(|e| domain::Error::invalid("query", e.body_text()))?;
    let window = domain::stats::window(q.window.as_deref().unwrap_or("24h"))?;
    Ok(Json(herald.endpoint_stats(actor.tenant_id()?, &id, window).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TestIn {
    /// The event type whose catalog sample is sent.
    #[schema(example = "appointment.booking.created")]
    event_type: String,
}

/// Send a test event
///
/// Sends the event type's sample to the endpoint at once and answers with the delivery, its
/// attempt and the request as sent.
#[utoipa::path(post, path = "/endpoints/{id}/test", tag = "Endpoints", params(EndpointId),
    request_body = TestIn,
    responses((status = 200, description = "The test delivery, attempted.", body = DeliveryDetailOut, links(
        ("GetDelivery" = (operation_id = "get_deliveries_id", parameters(("id" = "$response.body#/id")))),
        ("Payload" = (operation_id = "get_deliveries_id_payload", parameters(("id" = "$response.body#/id")))),
        ("Replay" = (operation_id = "post_deliveries_id_replay", parameters(("id" = "$response.body#/id")))),
    ))))]
async fn send_test(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<TestIn>,
) -> Reply<Json<DeliveryDetailOut>> {
    Ok(Json(detail_json(herald.send_test(&actor, &id, &input.event_type).await?)))
}

/// The endpoint's id (`ep_…`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EndpointId {
    /// The endpoint's id, e.g. `ep_01J…`.
    #[allow(dead_code)]
    id: String,
}
