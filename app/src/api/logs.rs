//! Server functions for the delivery log, a delivery's raw view, replay, test
//! events and per-endpoint stats.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use types::{DeliveryKind, DeliveryStatus};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub time: String,
    pub event_type: String,
    pub endpoint: String,
    pub status: DeliveryStatus,
    pub http_code: Option<i64>,
    pub attempts: i64,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub labels: Vec<String>,
    pub next_attempt: Option<String>,
    pub replays: i64,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    pub next_cursor: Option<String>,
    pub endpoints: Vec<(String, String)>,
    pub event_types: Vec<String>,
}

/// The filters of the log, as they appear in its URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogQuery {
    pub endpoint_id: String,
    pub status: String,
    pub event_type: String,
    /// `datetime-local` values (UTC) or RFC 3339.
    pub since: String,
    pub until: String,
    pub cursor: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub time: String,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// Why it failed and what to do, in words: (reason, sentence, fix).
    pub failure: Option<(String, String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub curl: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub row: LogRow,
    pub endpoint_id: String,
    pub message_id: String,
    pub kind: DeliveryKind,
    pub replay_of: Option<String>,
    pub replay_ids: Vec<String>,
    pub request: Option<RequestView>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatsBar {
    pub label: String,
    pub succeeded: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatsView {
    pub window: String,
    pub sent: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub gave_up: i64,
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    /// Status, HTTP code, time and delivery id of the newest delivery.
    pub last_delivery: Option<(DeliveryStatus, Option<i64>, String, String)>,
    pub bars: Vec<StatsBar>,
    /// "hour", "6 hours" or "day".
    pub bar_width: String,
    /// Why attempts failed in the window: (reason, count, sentence, fix), most frequent first.
    pub failure_reasons: Vec<(String, i64, String, String)>,
}

#[cfg(feature = "ssr")]
pub(super) mod convert {
    use super::*;
    pub use types::clock::utc as when;

    pub fn row(d: domain::logs::DeliveryRow, endpoint: String) -> LogRow {
        LogRow {
            time: when(d.created_at),
            endpoint,
            labels: d.labels().into_iter().map(str::to_string).collect(),
            next_attempt: d.next_attempt_at.filter(|_| d.status == DeliveryStatus::Retrying).map(when),
            archived: d.archived_at.is_some(),
            replays: d.replays,
            id: d.id,
            event_type: d.event_type,
            status: d.status,
            http_code: d.last_status_code,
            attempts: d.attempts,
            duration_ms: d.last_duration_ms,
            error: d.last_error,
        }
    }

    pub fn detail(d: domain::logs::DeliveryDetail, endpoint: String) -> DeliveryView {
        let attempts = d
            .attempts
            .into_iter()
            .map(|a| AttemptView {
                time: when(a.attempted_at),
                duration_ms: a.duration_ms,
                status_code: a.status_code,
                response_headers: a
                    .response_headers
                    .as_deref()
                    .and_then(|h| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(h).ok())
                    .map(|m| m.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect())
                    .unwrap_or_default(),
                response_body: a.response_body,
                error: a.error,
                failure: a.failure_class.map(|c| (c.as_str().to_string(), c.sentence().to_string(), c.fix().to_string())),
            })
            .collect();
        let request = d.request.map(|r| RequestView { method: r.method, url: r.url, headers: r.headers, body: r.body, curl: r.curl });
        DeliveryView {
            endpoint_id: d.delivery.endpoint_id.clone(),
            message_id: d.delivery.message_id.clone(),
            kind: d.delivery.kind,
            replay_of: d.delivery.replay_of.clone(),
            replay_ids: d.replay_ids,
            row: row(d.delivery, endpoint),
            request,
            attempts,
        }
    }

    pub fn some(value: String) -> Option<String> {
        Some(value.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub fn time(field: &'static str, value: String) -> Result<Option<i64>, AppError> {
        match some(value) {
            None => Ok(None),
            Some(v) => domain::clock::parse_utc(&v)
                .map(Some)
                .ok_or_else(|| domain::Error::invalid(field, "Enter a date and time, such as 2026-01-01T10:00.").into()),
        }
    }

    pub async fn endpoint_name(herald: &domain::Herald, tenant_id: &str, id: &str) -> String {
        herald.endpoint(tenant_id, id).await.map(|e| e.name).unwrap_or_else(|_| "Deleted endpoint".into())
    }
}

/// One page of the tenant's delivery log.
#[server(prefix = "/rpc", endpoint = "delivery_log", input = Json)]
pub async fn delivery_log(query: LogQuery) -> Result<LogPage, AppError> {
    use convert::{some, time};
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?.to_string();
    let filter = domain::logs::LogFilter {
        since: time("since", query.since)?,
        until: time("until", query.until)?,
        endpoint_id: some(query.endpoint_id),
        status: some(query.status),
        event_type: some(query.event_type),
        cursor: some(query.cursor),
        limit: None,
    };
    let page = herald.delivery_log(&tenant_id, filter).await?;
    let endpoints: Vec<(String, String)> = herald.endpoints(&tenant_id).await?.into_iter().map(|e| (e.id, e.name)).collect();
    let name_of = |id: &str| endpoints.iter().find(|(e, _)| e == id).map(|(_, n)| n.clone()).unwrap_or_else(|| "Deleted endpoint".into());
    let rows = page.data.into_iter().map(|d| {
        let name = name_of(&d.endpoint_id);
        convert::row(d, name)
    });
    let event_types = domain::catalog::all().iter().map(|t| t.name.to_string()).collect();
    Ok(LogPage { rows: rows.collect(), next_cursor: page.next_cursor, endpoints, event_types })
}

/// A delivery with its request, attempts and replays.
#[server(prefix = "/rpc", endpoint = "delivery_detail")]
pub async fn delivery_detail(id: String) -> Result<DeliveryView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?;
    let detail = herald.delivery(tenant_id, &id).await?;
    let endpoint = convert::endpoint_name(&herald, tenant_id, &detail.delivery.endpoint_id).await;
    Ok(convert::detail(detail, endpoint))
}

/// Admins: sends a delivery again; answers with the new delivery's id.
#[server(prefix = "/rpc", endpoint = "replay_delivery")]
pub async fn replay_delivery(id: String) -> Result<String, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.replay(&actor, &id).await?.id)
}

#[server(prefix = "/rpc", endpoint = "endpoint_stats")]
pub async fn endpoint_stats(id: String, window: String) -> Result<StatsView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let window = domain::stats::Window::parse(&window)?;
    let stats = herald.endpoint_stats(actor.tenant_id()?, &id, window).await?;
    let label = |ms: i64| {
        let t = domain::clock::rfc3339(ms);
        match window {
            domain::stats::Window::Day => t[11..16].to_string(),
            domain::stats::Window::Week => format!("{} {}", &t[5..10], &t[11..13]),
            domain::stats::Window::Month => t[5..10].to_string(),
        }
    };
    Ok(StatsView {
        window: serde_json::to_value(window).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        sent: stats.sent,
        succeeded: stats.succeeded,
        failed: stats.failed,
        gave_up: stats.gave_up,
        success_rate: stats.success_rate,
        latency_p50_ms: stats.latency_p50_ms,
        latency_p95_ms: stats.latency_p95_ms,
        last_delivery: stats
            .last_delivery
            .map(|l| (l.status, l.status_code, l.created_at.replace('T', " ").trim_end_matches('Z').to_string(), l.id)),
        bars: stats.bars.iter().map(|b| StatsBar { label: label(b.start_ms), succeeded: b.succeeded, failed: b.failed }).collect(),
        failure_reasons: stats
            .failure_reasons
            .iter()
            .map(|f| (f.reason.to_string(), f.count, f.message.to_string(), f.fix.to_string()))
            .collect(),
        bar_width: match stats.bar_seconds {
            3600 => "hour".into(),
            86400 => "day".into(),
            s => format!("{} hours", s / 3600),
        },
    })
}

/// Sends the catalog sample of `event_type` now and answers with the result.
#[server(prefix = "/rpc", endpoint = "send_test_event")]
pub async fn send_test_event(endpoint_id: String, event_type: String) -> Result<DeliveryView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?.to_string();
    let detail = herald.send_test(&actor, &endpoint_id, &event_type).await?;
    let endpoint = convert::endpoint_name(&herald, &tenant_id, &endpoint_id).await;
    Ok(convert::detail(detail, endpoint))
}
