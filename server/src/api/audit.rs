//! `GET /api/v1/audit`: the tenant's audit log for its admins' scripts (an API key acts as an
//! admin). Staff signed in to the dashboard get every tenant's, or one with `tenant_id`.

use axum::extract::{Query, State};
use axum::Json;
use domain::audit::{AuditEntry, AuditFilter};
use domain::clock::rfc3339;
use domain::Herald;
use serde::Deserialize;
use serde_json::{json, Value};

use super::deliveries::parse_time;
use super::{Api, ApiError, Caller};

pub fn routes(api: Api) -> Api {
    api.get("/audit", list)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    tenant_id: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn entry_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id, "tenant_id": e.tenant_id, "tenant_name": e.tenant_name, "at": rfc3339(e.created_at),
        "actor": { "id": e.actor_id, "label": e.actor_label, "kind": e.actor_kind },
        "action": e.action, "target": e.target, "summary": e.summary,
        "details": e.details.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()), "ip": e.ip,
    })
}

async fn list(
    State(herald): State<Herald>,
    Caller(actor): Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "data": page.data.iter().map(entry_json).collect::<Vec<_>>(), "next_cursor": page.next_cursor })))
}
