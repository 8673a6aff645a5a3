//! The JSON HTTP API under `/api/v1`. Handlers are thin: parse, call `domain::Herald`, answer.
//! Errors always look like `{"error": {"code", "message", "field"?}}`. Each handler carries its
//! OpenAPI description (`#[utoipa::path]`); see [`docs`] for how a route is documented.
//!
//! Every tenant route (`/events`, `/endpoints`, …) is also served under
//! `/api/v1/tenants/{tenant_id}/…`, where only a platform key (`hkp_…`) is let in, acting as an
//! admin of the tenant the path names (see [`scope_guard`]); the same handlers serve both.

mod audit;
mod deliveries;
pub mod docs;
mod endpoints;
mod event_types;
mod events;
mod jobs;
mod tenants;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::extract::{FromRef, FromRequestParts, Path, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
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

/// The prefix under which a platform key reaches one tenant's routes.
pub const TENANT_SCOPE: &str = "/tenants/{tenant_id}";

pub fn routes(herald: Herald) -> Router<AppState> {
    let api = api();
    let scoped = api.scoped.route_layer(from_fn_with_state(herald, scope_guard));
    api.router.merge(scoped).fallback(not_found)
}

/// Every `/api/v1` route as `(method, path)`, exactly as [`routes`] registers them (the
/// tenant routes twice: as they are, and under [`TENANT_SCOPE`]), so a test can walk them all
/// and a new route cannot be forgotten.
pub fn route_list() -> Vec<(Method, &'static str)> {
    api().routes
}

/// The OpenAPI document of every documented route, as served (see [`docs`]).
pub fn openapi() -> serde_json::Value {
    let api = api();
    docs::as_json(docs::document(api.paths, &api.scoped_paths, api.schemas))
}

fn api() -> Api {
    let api = Api {
        router: Router::new(),
        scoped: Router::new(),
        routes: Vec::new(),
        also_scoped: false,
        paths: Default::default(),
        scoped_paths: Vec::new(),
        schemas: Vec::new(),
    }
    .routes(routes!(me))
    .routes(routes!(docs::openapi_json));
    let api = tenants::routes(api);
    let api = event_types::routes(api);
    // From here on, every route is a tenant route: also served under `/tenants/{tenant_id}`.
    let api = Api { also_scoped: true, ..api };
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
    /// The tenant routes again, under [`TENANT_SCOPE`] (guarded by [`scope_guard`]).
    scoped: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
    paths: utoipa::openapi::path::Paths,
    schemas: Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
    also_scoped: bool,
    /// The documented paths also served under [`TENANT_SCOPE`] (their docs are copied there).
    scoped_paths: Vec<String>,
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
            if self.also_scoped {
                let scoped = intern(&format!("{TENANT_SCOPE}{path}"));
                self.scoped = self.scoped.route(scoped, method_router.clone());
                for method in docs::methods_of(item) {
                    self.routes.push((method, scoped));
                }
                self.scoped_paths.push(path.clone());
            }
        }
        self.paths.paths.extend(paths.paths);
        self.schemas.extend(schemas);
        self
    }

    fn on<H: Handler<T, AppState>, T: 'static>(mut self, method: Method, path: &'static str, handler: H) -> Api {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        self.router = self.router.route(path, axum::routing::on(filter, handler.clone()));
        self.routes.push((method.clone(), path));
        if self.also_scoped {
            let scoped = scoped_path(path);
            self.scoped = self.scoped.route(scoped, axum::routing::on(filter, handler));
            self.routes.push((method, scoped));
        }
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

/// `/tenants/{tenant_id}{path}`, made once per path and kept (route paths live as long as the
/// program, and the router is built more than once: by the server and by [`route_list`]).
fn scoped_path(path: &'static str) -> &'static str {
    static PATHS: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut paths = PATHS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    paths.entry(path).or_insert_with(|| Box::leak(format!("{TENANT_SCOPE}{path}").into_boxed_str()))
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
    not_found_response()
}

/// The caller of an API request: a tenant API key (`Authorization: Bearer hk_…`), which acts
/// as an admin of its tenant, a signed-in dashboard session, or (under [`TENANT_SCOPE`] only) a
/// platform key acting as an admin of the tenant the path names.
pub struct Caller(pub Actor);

/// The platform key's actor in the tenant of the path, put on the request by [`scope_guard`].
#[derive(Clone)]
struct ScopedActor(Actor);

const PLATFORM_KEY_NEEDS_TENANT: &str =
    "A platform key acts for one tenant at a time: use /api/v1/tenants/{tenant_id}/… (e.g. POST /api/v1/tenants/{tenant_id}/events).";
const PLATFORM_KEY_ONLY: &str = "Only a platform key (Authorization: Bearer hkp_…) may use /api/v1/tenants routes; a tenant API key \
     or a dashboard session works on its own tenant's routes directly under /api/v1.";

/// The bearer key of a request, if it sent an `Authorization` header.
fn bearer(parts: &Parts) -> Option<String> {
    let auth = parts.headers.get(axum::http::header::AUTHORIZATION)?;
    Some(auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default().to_string())
}

fn refused(err: domain::Error) -> Response {
    ApiError(err).into_response()
}

/// Who sent a request, before the route decides whether that kind of caller may use it.
enum Credential {
    /// A platform key (`hkp_…`), in no tenant yet.
    Platform(Actor),
    /// A tenant API key or a dashboard session.
    Tenant(Actor),
}

/// Resolves the bearer key, or else the session, into an actor with the client's address: 401
/// without either, or with an unknown or revoked key.
async fn credential(herald: &Herald, parts: &mut Parts) -> Result<Credential, Response> {
    let ip = client_ip(herald, parts);
    Ok(match bearer(parts) {
        Some(key) if key.starts_with(domain::platform_keys::PREFIX) => {
            Credential::Platform(herald.authenticate_platform_key(&key).await.map_err(refused)?.with_ip(ip))
        }
        Some(key) => Credential::Tenant(herald.authenticate_api_key(&key).await.map_err(refused)?.with_ip(ip)),
        None => {
            let session =
                tower_sessions::Session::from_request_parts(parts, &()).await.map_err(|_| refused(domain::Error::Unauthenticated))?;
            Credential::Tenant(app::session::actor(herald, &session).await.map_err(refused)?.with_ip(ip))
        }
    })
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Herald: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ScopedActor(actor)) = parts.extensions.get::<ScopedActor>() {
            return Ok(Caller(actor.clone()));
        }
        match credential(&Herald::from_ref(state), parts).await? {
            Credential::Tenant(actor) => Ok(Caller(actor)),
            Credential::Platform(_) => Err(error_response(StatusCode::FORBIDDEN, "tenant_path_required", PLATFORM_KEY_NEEDS_TENANT)),
        }
    }
}

/// Lets only platform keys into the routes under [`TENANT_SCOPE`], and resolves the tenant of
/// the path (404 when there is none) into the actor the handlers see as their [`Caller`].
/// Tenant keys and dashboard sessions are refused with 403 (no key at all: 401), whatever the
/// route, so that a tenant key cannot reach even its own tenant this way.
async fn scope_guard(State(herald): State<Herald>, Path(params): Path<HashMap<String, String>>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let tenant_id = params.get("tenant_id").cloned().unwrap_or_default();
    let platform = match PlatformCaller::from_request_parts(&mut parts, &herald).await {
        Ok(PlatformCaller(platform)) => platform,
        Err(response) => return response,
    };
    match herald.platform_in_tenant(platform, &tenant_id).await {
        Ok(actor) => {
            parts.extensions.insert(ScopedActor(actor));
            next.run(Request::from_parts(parts, body)).await
        }
        Err(err) => refused(err),
    }
}

/// The caller of a platform route (`/api/v1/tenants…`): a platform key, in no tenant yet. A
/// valid tenant key or a signed-in session gets 403; no key, or a bad one, 401.
pub struct PlatformCaller(pub Actor);

impl<S> FromRequestParts<S> for PlatformCaller
where
    S: Send + Sync,
    Herald: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match credential(&Herald::from_ref(state), parts).await? {
            Credential::Platform(actor) => Ok(PlatformCaller(actor)),
            Credential::Tenant(_) => Err(error_response(StatusCode::FORBIDDEN, "platform_key_required", PLATFORM_KEY_ONLY)),
        }
    }
}

/// The caller of a route that belongs to no tenant (the event catalog): a platform key, a
/// tenant key or a session.
pub struct AnyCaller(pub Actor);

impl<S> FromRequestParts<S> for AnyCaller
where
    S: Send + Sync,
    Herald: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match credential(&Herald::from_ref(state), parts).await? {
            Credential::Platform(actor) | Credential::Tenant(actor) => Ok(AnyCaller(actor)),
        }
    }
}

/// The `{id}` of a route. (Not `Path<String>`: under [`TENANT_SCOPE`] the path has a second
/// parameter, `tenant_id`.)
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(mut params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        params.remove("id").map(PathId).ok_or_else(not_found_response)
    }
}

fn not_found_response() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "There is no such API route.")
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
    let mut tenants = herald.memberships(&actor.user_id).await?;
    // A session a dashboard link opened belongs to its tenant alone, with no staff role.
    if app::session::pinned_tenant(&session).await?.is_some() {
        tenants.retain(|m| actor.tenant.as_ref().is_some_and(|(id, _)| *id == m.tenant_id));
    }
    Ok(Json(Me {
        user: Some(MeUser { id: user.id, email: user.email, name: user.name, staff_role: actor.staff }),
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
