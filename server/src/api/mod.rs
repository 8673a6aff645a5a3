//! The JSON HTTP API under `/api/v1`. Handlers are thin: parse, call `domain::Herald`, answer.
//! Errors always look like `{"error": {"code", "message", "field"?}}`.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::{Actor, Herald};
use serde_json::json;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/me", get(me)).fallback(not_found)
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
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({ "error": self.0.body() }))).into_response()
    }
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "There is no such API route.")
}

/// The caller of an API request: a signed-in dashboard session (API keys come with ingest).
pub struct Caller(pub Actor);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Herald: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let herald = Herald::from_ref(state);
        let session = tower_sessions::Session::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(domain::Error::Unauthenticated))?;
        Ok(Caller(domain::session::actor(&herald, &session).await?))
    }
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
        "csrf_token": domain::session::csrf_token(&session).await?,
        "tenants": tenants.iter().map(|m| json!({ "id": m.tenant_id, "name": m.tenant_name, "role": m.role })).collect::<Vec<_>>(),
    })))
}
