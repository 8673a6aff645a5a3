//! Server functions for the delivery log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub time: String,
    pub event_type: String,
    pub endpoint: String,
    pub status: String,
    pub http_code: Option<i64>,
    pub attempts: i64,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub labels: Vec<String>,
    pub next_attempt: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    pub next_cursor: Option<String>,
    pub endpoints: Vec<(String, String)>,
}

/// One page of the tenant's delivery log; empty filters mean "any".
#[server(prefix = "/rpc", endpoint = "delivery_log")]
pub async fn delivery_log(endpoint_id: String, status: String, cursor: String) -> Result<LogPage, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?.to_string();
    let some = |v: String| Some(v).filter(|v| !v.is_empty());
    let filter = domain::logs::LogFilter { endpoint_id: some(endpoint_id), status: some(status), cursor: some(cursor), ..Default::default() };
    let page = herald.delivery_log(&tenant_id, filter).await?;
    let endpoints: Vec<(String, String)> = herald.endpoints(&tenant_id).await?.into_iter().map(|e| (e.id, e.name)).collect();
    let name_of = |id: &str| endpoints.iter().find(|(e, _)| e == id).map(|(_, n)| n.clone()).unwrap_or_else(|| "Deleted endpoint".into());
    let when = |ms: i64| domain::clock::rfc3339(ms).replace('T', " ").trim_end_matches('Z').to_string();
    let rows = page
        .data
        .into_iter()
        .map(|d| LogRow {
            time: when(d.created_at),
            endpoint: name_of(&d.endpoint_id),
            labels: match d.kind.as_str() {
                "replay" => vec!["Replay".into()],
                "test" => vec!["Test".into()],
                _ => vec![],
            },
            next_attempt: d.next_attempt_at.filter(|_| d.status == "retrying").map(when),
            id: d.id,
            event_type: d.event_type,
            status: d.status,
            http_code: d.last_status_code,
            attempts: d.attempts,
            duration_ms: d.last_duration_ms,
            error: d.last_error,
        })
        .collect();
    Ok(LogPage { rows, next_cursor: page.next_cursor, endpoints })
}
