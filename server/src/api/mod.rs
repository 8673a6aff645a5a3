//! The JSON HTTP API under `/api/v1`. Handlers are thin: parse, call `domain::Herald`, answer.
//! Errors always look like `{"error": {"code", "message", "field"?}}`.

mod audit;
mod deliveries;
mod endpoints;
mod event_types;
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
use serde_json::json;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    api().router.fallback(not_found)
}

/// Every `/api/v1` route as `(method, path)`, exactly as [`routes`] registers them, so a test
/// can walk them all and a new route cannot be forgotten.
pub fn route_list() -> Vec<(Method, &'static str)> {
    api().routes
}

fn api() -> Api {
    let api = Api { router: Router::new(), routes: Vec::new() }.get("/me", me);
    let api = endpoints::routes(api);
    let api = event_types::routes(api);
    let api = events::routes(api);
    let api = deliveries::routes(api);
    let api = jobs::routes(api);
    audit::routes(api)
}

/// The API router under construction, with the list of what it routes.
pub struct Api {
    router: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
}

impl Api {
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
        (app::error::http_status(&self.0), Json(json!({ "error": app::error::AppError::public(&self.0) }))).into_response()
    }
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
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

async fn me(
    axum::extract::State(herald): axum::extract::State<Herald>,
    session: tower_sessions::Session,
    Caller(actor): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = herald.user(&actor.user_id).await?;
    let tenant = match &actor.tenant {
        Some((id, role)) => {
            let t = herald.tenant(id).await?;
            json!({ "id": t.id, "name": t.name, "plan": t.plan, "role": role.as_str() })
        }
        None => serde_json::Value::Null,
    };
    let tenants = herald.memberships(&actor.user_id).await?;
    Ok(Json(json!({
        "user": { "id": user.id, "email": user.email, "name": user.name, "staff_role": user.staff_role },
        "tenant": tenant,
        "csrf_token": app::session::csrf_token(&session).await?,
        "tenants": tenants.iter().map(|m| json!({ "id": m.tenant_id, "name": m.tenant_name, "role": m.role })).collect::<Vec<_>>(),
    })))
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
                let mut body = json!({ "error": { "code": code, "message": message } });
                if let Some(field) = field {
                    body["error"]["field"] = json!(field);
                }
                Err((status, Json(body)).into_response())
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
