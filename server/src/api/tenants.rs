//! The platform's routes (platform keys only): `POST, GET /api/v1/tenants`,
//! `GET, PATCH /api/v1/tenants/{tenant_id}` and `POST /api/v1/tenants/{tenant_id}/dashboard-links`. The tenant's own routes under
//! `/api/v1/tenants/{tenant_id}/…` are the ordinary tenant routes (see `api::TENANT_SCOPE`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::clock::rfc3339;
use domain::staff::TenantRequest;
use domain::tenants::{Plan, TenantUpdate, TenantUsage};
use domain::Herald;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{Api, ApiError, ApiJson, ErrorBody, PlatformCaller};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(create, list)).routes(routes!(show, update)).routes(routes!(dashboard_link))
}

type Reply<T> = Result<T, ApiError>;

/// `POST /api/v1/tenants`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantIn {
    #[schema(example = "Lotus Spa")]
    pub name: String,
    /// `basic`, `professional`, `business` or `enterprise`.
    #[schema(value_type = Plan)]
    pub plan: String,
    /// The first admin (owner): an existing account joins at once, a new address is emailed an
    /// invitation to set its password. Without it the tenant starts with no members.
    pub admin_email: Option<String>,
    /// 1 to 3650 (default 60).
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: Option<i64>,
    #[serde(default)]
    pub allow_private_urls: bool,
}

/// `PATCH /api/v1/tenants/{tenant_id}`: what is left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChangeIn {
    #[schema(value_type = Option<Plan>)]
    pub plan: Option<String>,
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: Option<i64>,
    pub allow_private_urls: Option<bool>,
    /// A suspended tenant accepts no events, delivers nothing, and is read-only.
    pub suspended: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TenantListQuery {
    /// Part of the name, or a tenant id.
    pub search: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A tenant as the platform sees it.
#[derive(Serialize, ToSchema)]
pub struct TenantOut {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub endpoint_limit: i64,
    pub endpoints: i64,
    pub members: i64,
    pub retention_days: i64,
    pub allow_private_urls: bool,
    pub webhooks_enabled: bool,
    pub suspended: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<TenantUsage> for TenantOut {
    fn from(u: TenantUsage) -> Self {
        let t = u.tenant;
        TenantOut {
            endpoint_limit: t.plan.endpoint_limit(),
            id: t.id,
            name: t.name,
            plan: t.plan,
            endpoints: u.endpoints,
            members: u.members,
            retention_days: t.retention_days,
            allow_private_urls: t.allow_private_urls,
            webhooks_enabled: t.webhooks_enabled,
            suspended: t.suspended,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// The new tenant, and the link its first admin sets a password with (when `admin_email` had
/// no account yet; also emailed to them).
#[derive(Serialize, ToSchema)]
pub struct CreatedTenantOut {
    #[serde(flatten)]
    pub tenant: TenantOut,
    pub admin_invitation_url: Option<String>,
}

/// A page of tenants, newest first.
#[derive(Serialize, ToSchema)]
pub struct TenantPageOut {
    pub data: Vec<TenantOut>,
    pub next_cursor: Option<String>,
}

fn plan_field(text: &str) -> Result<Plan, domain::Error> {
    Plan::from_input(text).ok_or_else(|| domain::Error::invalid("plan", "plan must be basic, professional, business or enterprise."))
}

/// The tenant's id (`ten_…`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TenantId {
    /// The tenant's id.
    #[allow(dead_code)]
    tenant_id: String,
}

/// Create a tenant
///
/// Creates a tenant (a business on the platform). `admin_email` becomes its owner: an existing
/// account joins at once, a new address is emailed an invitation (also in `admin_invitation_url`).
#[utoipa::path(post, path = "/tenants", tag = "Platform: tenants", security(("platform_key" = [])), request_body = NewTenantIn,
    responses((status = 201, description = "The new tenant.", body = CreatedTenantOut)))]
async fn create(
    State(herald): State<Herald>,
    PlatformCaller(actor): PlatformCaller,
    ApiJson(input): ApiJson<NewTenantIn>,
) -> Reply<(StatusCode, Json<CreatedTenantOut>)> {
    let request = TenantRequest {
        name: input.name,
        plan: plan_field(&input.plan)?,
        admin_email: input.admin_email,
        retention_days: input.retention_days,
        allow_private_urls: input.allow_private_urls,
    };
    let created = herald.create_tenant_by(&actor, request).await.map_err(|err| match err {
        // The console's form calls it the tenant name; here the field is `name`.
        domain::Error::Invalid { code, message, field: Some("tenant_name") } => {
            domain::Error::Invalid { code, message, field: Some("name") }
        }
        other => other,
    })?;
    let tenant = herald.managed_tenant(&actor, &created.tenant_id).await?.into();
    Ok((StatusCode::CREATED, Json(CreatedTenantOut { tenant, admin_invitation_url: created.invitation_link })))
}

/// List tenants
///
/// The platform's tenants, newest first, keyset-paginated.
#[utoipa::path(get, path = "/tenants", tag = "Platform: tenants", security(("platform_key" = [])), params(TenantListQuery),
    responses(
        (status = 200, description = "A page of tenants.", body = TenantPageOut),
        (status = 422, description = "An unknown query parameter, or a bad `limit` or `cursor`.", body = ErrorBody),
    ))]
async fn list(
    State(herald): State<Herald>,
    PlatformCaller(actor): PlatformCaller,
    query: Result<Query<TenantListQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Json<TenantPageOut>> {
    let Query(q) = query.map_err(|e| domain::Error::invalid("query", e.body_text()))?;
    let page = herald.tenant_page(&actor, q.search.as_deref(), q.cursor.as_deref(), q.limit).await?;
    Ok(Json(TenantPageOut { data: page.data.into_iter().map(TenantOut::from).collect(), next_cursor: page.next_cursor }))
}

/// Get a tenant
///
/// One tenant, with its usage.
#[utoipa::path(get, path = "/tenants/{tenant_id}", tag = "Platform: tenants", security(("platform_key" = [])), params(TenantId),
    responses((status = 200, description = "The tenant.", body = TenantOut)))]
async fn show(State(herald): State<Herald>, PlatformCaller(actor): PlatformCaller, Path(id): Path<String>) -> Reply<Json<TenantOut>> {
    Ok(Json(herald.managed_tenant(&actor, &id).await?.into()))
}

/// Change a tenant
///
/// Changes the plan, retention, private URLs or suspension; what is left out stays as it is.
/// Each change is audited.
#[utoipa::path(patch, path = "/tenants/{tenant_id}", tag = "Platform: tenants", security(("platform_key" = [])), params(TenantId),
    request_body = TenantChangeIn,
    responses(
        (status = 200, description = "The tenant, changed.", body = TenantOut),
        (status = 409, description = "The plan allows fewer endpoints than the tenant has (`plan_below_usage`).", body = ErrorBody),
    ))]
async fn update(
    State(herald): State<Herald>,
    PlatformCaller(actor): PlatformCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TenantChangeIn>,
) -> Reply<Json<TenantOut>> {
    let update = TenantUpdate {
        plan: input.plan.as_deref().map(plan_field).transpose()?,
        retention_days: input.retention_days,
        allow_private_urls: input.allow_private_urls,
        suspended: input.suspended,
    };
    herald.change_tenant(&actor, &id, update).await?;
    Ok(Json(herald.managed_tenant(&actor, &id).await?.into()))
}

/// `POST /api/v1/tenants/{tenant_id}/dashboard-links`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardLinkIn {
    #[schema(example = "owner@lotus.example")]
    pub email: String,
    /// `admin` or `member`: the role the person gets if they are not a member yet.
    #[schema(example = "admin")]
    pub role: String,
    /// 1 to 3600 (default 600).
    #[schema(minimum = 1, maximum = 3600)]
    pub ttl_seconds: Option<i64>,
}

/// A one-time link that signs the person into the tenant's dashboard.
#[derive(Serialize, ToSchema)]
pub struct DashboardLinkOut {
    pub url: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// Open a dashboard link
///
/// A one-time link that signs the person into the tenant's dashboard (created, with `role`, if
/// they are not a member yet), in a session pinned to that tenant. It works once, for `ttl_seconds`.
#[utoipa::path(post, path = "/tenants/{tenant_id}/dashboard-links", tag = "Platform: tenants", security(("platform_key" = [])),
    params(TenantId), request_body = DashboardLinkIn,
    responses((status = 201, description = "The link and when it expires.", body = DashboardLinkOut)))]
async fn dashboard_link(
    State(herald): State<Herald>,
    PlatformCaller(actor): PlatformCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DashboardLinkIn>,
) -> Reply<(StatusCode, Json<DashboardLinkOut>)> {
    let link = herald.create_dashboard_link(&actor, &id, &input.email, &input.role, input.ttl_seconds).await?;
    Ok((StatusCode::CREATED, Json(DashboardLinkOut { url: link.url, expires_at: rfc3339(link.expires_at) })))
}
