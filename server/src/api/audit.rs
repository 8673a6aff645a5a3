//! `GET /api/v1/audit`: the tenant's audit log for its admins' scripts (an API key acts as an
//! admin). Staff signed in to the dashboard get every tenant's, or one with `tenant_id`.

use axum::extract::{Query, State};
use axum::Json;
use domain::audit::{AuditEntry, AuditFilter};
use domain::clock::rfc3339;
use domain::Herald;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use types::{ActorKind, AuditAction};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::deliveries::parse_time;
use super::{Api, ApiError, Caller, ErrorBody};

pub fn routes(api: Api) -> Api {
    api.routes(routes!(list))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// Staff only: one tenant's entries.
    tenant_id: Option<String>,
    /// Only this action, e.g. `endpoint.created`.
    #[param(max_length = 100)]
    action: Option<String>,
    /// From this time on (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// One change: who made it, when, to what, and from which address.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryOut {
    id: String,
    tenant_id: Option<String>,
    tenant_name: Option<String>,
    #[schema(format = DateTime)]
    at: String,
    actor: AuditActor,
    action: AuditAction,
    /// The id of what changed.
    target: Option<String>,
    /// In words.
    summary: String,
    /// What changed, field by field, when that applies.
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
    /// The client's address.
    ip: Option<String>,
}

/// Who made a change: a person, an API key or the system.
#[derive(Serialize, ToSchema)]
pub struct AuditActor {
    id: Option<String>,
    label: String,
    kind: ActorKind,
}

/// A page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    data: Vec<AuditEntryOut>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

fn entry_out(e: AuditEntry) -> AuditEntryOut {
    AuditEntryOut {
        details: e.details.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
        id: e.id,
        tenant_id: e.tenant_id,
        tenant_name: e.tenant_name,
        at: rfc3339(e.created_at),
        actor: AuditActor { id: e.actor_id, label: e.actor_label, kind: e.actor_kind },
        action: e.action,
        target: e.target,
        summary: e.summary,
        ip: e.ip,
    }
}

/// List audit entries
///
/// The tenant's audit log, newest first (admins and API keys; staff: every tenant's).
#[utoipa::path(get, path = "/audit", tag = "Audit", params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries.", body = AuditPage),
        (status = 403, description = "Members who are not admins cannot read the audit log.", body = ErrorBody),
        (status = 404, description = "`tenant_id` names a tenant the caller may not read.", body = ErrorBody),
        (status = 422, description = "A query parameter is not valid; `field` names it.", body = ErrorBody),
    ))]
async fn list(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(q) = query.map_err(|e| domain::Error::invalid("query", e.body_text()))?;
    let filter = AuditFilter {
        tenant_id: q.tenant_id.filter(|v| !v.is_empty()),
        action: q.action,
        since: parse_time("since", q.since)?,
        until: parse_time("until", q.until)?,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = herald.audit_log(&actor, filter).await?;
    Ok(Json(AuditPage { data: page.data.into_iter().map(entry_out).collect(), next_cursor: page.next_cursor }))
}
