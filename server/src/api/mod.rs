//! The JSON HTTP API under `/api/v1`. Handlers are thin: parse, call `domain::Herald`, answer.
//! Errors always look like `{"error": {"code", "message", "field"?}}`. Each handler carries its
//! OpenAPI description (`#[utoipa::path]`); see [`docs`] for how a route is documented.

mod audit;
mod deliveries;
pub mod docs;
mod endpoints;
mod events;
mod jobs;

use axum::extract::{FromRef, FromRequestParts};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::{Json, Router};
use domain::{Actor, Herald};
use serde::Serialize;
use types::{Plan, Role, StaffRole};
use utoipa::ToSchema;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    api().router.fallback(not_found)
}

/// Every `/api/v1` route as `(method, path)`, exactly as [`routes`] registers them, so a test
/// can walk them all and a new route cannot be forgotten.
pub fn route_list() -> Vec<(Method, &'static str)> {
    api().routes
}

/// The OpenAPI document of every documented route, as served (see [`docs`]).
pub fn openapi() -> serde_json::Value {
    let api = api();
    docs::as_json(docs::document(api.paths, api.schemas))
}

fn api() -> Api {
    let api = Api { router: Router::new(), routes: Vec::new(), paths: Default::default(), schemas: Vec::new() }
        .routes(routes!(me))
        .routes(routes!(docs::openapi_json));
    let api = endpoints::routes(api);
    let api = events::routes(api);
    let api = deliveries::routes(api);
    let api = jobs::routes(api);
    audit::routes(api)
}

/// The API router under construction, with the list of what it routes and the docs of the
/// documented routes.
pub struct Api {
    router: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
    paths: utoipa::openapi::path::Paths,
    schemas: Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
}

impl Api {
    /// Routes a documented handler (`routes!(handler)`, one path per call): its
    /// `#[utoipa::path]` attribute names the method and path, and becomes its docs.
    pub fn routes(mut self, (schemas, paths, method_router): UtoipaMethodRouter<AppState>) -> Api {
        for (path, item) in &paths.paths {
            self.router = self.router.route(path, method_router.clone());
            for method in docs::methods_of(item) {
                self.routes.push((method, intern(path)));
            }
        }
        self.paths.paths.extend(paths.paths);
        self.schemas.extend(schemas);
        self
    }

    fn on<H: Handler<T, AppState>, T: 'static>(mut self, method: Method, path: &'static str, handler: H) -> Api {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        self.router = self.router.route(path, axum::routing::on(filter, handler));
        self.routes.push((method, path));
        self
    }
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Api {
        self.on(Method::GET, path, handler)
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Api {
        self.on(Method::POST, path, handler)
    }
    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Api {
        self.on(Method::PATCH, path, handler)
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Api {
        self.on(Method::DELETE, path, handler)
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and people (`message`).
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, e.g. `invalid_field`, `not_found`, `plan_limit_reached`, `unauthenticated`.
    #[schema(example = "invalid_field")]
    pub code: String,
    #[schema(example = "Only https:// URLs can receive webhooks.")]
    pub message: String,
    /// The request field at fault, when there is one (`url`, `auth_header.value`, `limit`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "url")]
    pub field: Option<String>,
}

impl ErrorBody {
    fn new(code: &str, message: impl Into<String>, field: Option<String>) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: code.to_string(), message: message.into(), field } }
    }
}

/// Any domain error, as an HTTP answer.
pub struct ApiError(pub domain::Error);

impl From<domain::Error> for ApiError {
    fn from(err: domain::Error) -> Self {
        ApiError(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let domain::Error::Internal(detail) = &self.0 {
            tracing::error!(%detail, "request failed");
        }
        let public = app::error::AppError::public(&self.0);
        (app::error::http_status(&self.0), Json(ErrorBody::new(&public.code, public.message, public.field))).into_response()
    }
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody::new(code, message, None))).into_response()
}

/// A path of the route list, kept for the life of the process (the documented routes' paths
/// are built at run time; each distinct one is kept once).
fn intern(path: &str) -> &'static str {
    static PATHS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut paths = PATHS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = paths.get(path) {
        return known;
    }
    let kept: &'static str = Box::leak(path.to_string().into_boxed_str());
    paths.insert(kept);
    kept
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "There is no such API route.")
}

/// The caller of an API request: a tenant API key (`Authorization: Bearer hk_…`), which acts
/// as an admin of its tenant, or a signed-in dashboard session.
pub struct Caller(pub Actor);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Herald: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let herald = Herald::from_ref(state);
        let ip = client_ip(&herald, parts);
        if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let key = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default();
            return Ok(Caller(herald.authenticate_api_key(key).await?.with_ip(ip)));
        }
        let session =
            tower_sessions::Session::from_request_parts(parts, state).await.map_err(|_| ApiError(domain::Error::Unauthenticated))?;
        Ok(Caller(app::session::actor(&herald, &session).await?.with_ip(ip)))
    }
}

/// The client's address for the audit log (see `Herald::client_ip`).
pub fn client_ip(herald: &Herald, parts: &Parts) -> Option<String> {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    herald.client_ip(peer, parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()))
}

/// Who is calling: the user (or the API key), the tenant they act in, and the CSRF token a
/// session needs for writes.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The signed-in user; `null` when an API key calls.
    user: Option<MeUser>,
    /// The API key that calls; `null` for a dashboard session.
    api_key: Option<MeApiKey>,
    /// `null` for staff not viewing a tenant.
    tenant: Option<MeTenant>,
    /// Send it as `x-csrf-token` on writes made with the dashboard's session; `null` with an API key.
    csrf_token: Option<String>,
    /// Every tenant the user belongs to (an API key: its own).
    tenants: Vec<MeMembership>,
}

#[derive(Serialize, ToSchema)]
struct MeUser {
    id: String,
    email: String,
    name: String,
    /// `support` or `operator` for platform staff.
    staff_role: Option<StaffRole>,
}

#[derive(Serialize, ToSchema)]
struct MeApiKey {
    id: String,
    /// `API key "name"`, as the audit log shows it.
    label: String,
}

#[derive(Serialize, ToSchema)]
struct MeTenant {
    id: String,
    name: String,
    plan: Plan,
    /// An API key acts as an `admin`.
    role: Role,
}

#[derive(Serialize, ToSchema)]
struct MeMembership {
    id: String,
    name: String,
    role: Role,
}

/// Who am I
///
/// Who the caller is, and the tenant they act in. An API key acts as an admin of its tenant.
#[utoipa::path(get, path = "/me", tag = "Account", responses((status = 200, description = "The caller, their tenant and memberships.", body = Me)))]
async fn me(
    axum::extract::State(herald): axum::extract::State<Herald>,
    session: tower_sessions::Session,
    Caller(actor): Caller,
) -> Result<Json<Me>, ApiError> {
    let tenant = match &actor.tenant {
        Some((id, role)) => {
            let t = herald.tenant(id).await?;
            Some(MeTenant { id: t.id, name: t.name, plan: t.plan, role: *role })
        }
        None => None,
    };
    if actor.kind == types::ActorKind::ApiKey {
        let tenants = tenant.iter().map(|t| MeMembership { id: t.id.clone(), name: t.name.clone(), role: t.role }).collect();
        let api_key = MeApiKey { id: actor.user_id, label: actor.email };
        return Ok(Json(Me { user: None, api_key: Some(api_key), tenant, csrf_token: None, tenants }));
    }
    let user = herald.user(&actor.user_id).await?;
    let tenants = herald.memberships(&actor.user_id).await?;
    Ok(Json(Me {
        user: Some(MeUser { id: user.id, email: user.email, name: user.name, staff_role: user.staff_role }),
        api_key: None,
        tenant,
        csrf_token: app::session::csrf_token(&session).await?,
        tenants: tenants.into_iter().map(|m| MeMembership { id: m.tenant_id, name: m.tenant_name, role: m.role }).collect(),
    }))
}

/// A JSON body whose problems (syntax, a missing or mistyped field) answer as API errors.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let (status, code) = match &rejection {
                    JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
                    JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
                    JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
                    _ => (StatusCode::BAD_REQUEST, "invalid_json"),
                };
                let detail = rejection.body_text();
                let detail = detail.split_once("target type: ").map_or(detail.as_str(), |(_, rest)| rest).to_string();
                let field = (code == "invalid_field").then(|| json_error_field(&detail)).flatten();
                let message = match code {
                    "unsupported_media_type" => "Send the body as JSON with content-type: application/json.".to_string(),
                    _ => detail,
                };
                Err((status, Json(ErrorBody::new(code, message, field))).into_response())
            }
        }
    }
}

/// The field a serde error is about: `name: invalid type…` or "missing field `name`".
fn json_error_field(detail: &str) -> Option<String> {
    if detail.starts_with("missing field") || detail.starts_with("unknown field") {
        return detail.split('`').nth(1).map(str::to_string);
    }
    detail.split_once(": ").map(|(path, _)| path.to_string()).filter(|p| !p.contains(' ') && p != ".")
}
