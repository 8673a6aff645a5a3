//! Server functions for the delivery log, a delivery's raw view, replay, test
//! events and per-endpoint stats.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use types::log::DeliveryRow;

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<DeliveryRow>,
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

/// A delivery with its attempts and request, and the name of its endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub detail: types::log::DeliveryDetail,
    pub endpoint: String,
}

impl LogPage {
    /// The name of endpoint `id`, or "Deleted endpoint".
    pub fn endpoint_name(&self, id: &str) -> String {
        self.endpoints.iter().find(|(e, _)| e == id).map(|(_, n)| n.clone()).unwrap_or_else(|| "Deleted endpoint".into())
    }
}

#[cfg(feature = "ssr")]
pub(super) mod convert {
    use super::*;

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
    let event_types = herald.catalog().iter().map(|t| t.name.clone()).collect();
    Ok(LogPage { rows: page.data, next_cursor: page.next_cursor, endpoints, event_types })
}

/// A delivery with its request, attempts and replays.
#[server(prefix = "/rpc", endpoint = "delivery_detail")]
pub async fn delivery_detail(id: String) -> Result<DeliveryView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?;
    let detail = herald.delivery(tenant_id, &id).await?;
    let endpoint = convert::endpoint_name(&herald, tenant_id, &detail.delivery.endpoint_id).await;
    Ok(DeliveryView { detail, endpoint })
}

/// Admins: sends a delivery again; answers with the new delivery's id.
#[server(prefix = "/rpc", endpoint = "replay_delivery")]
pub async fn replay_delivery(id: String) -> Result<String, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.replay(&actor, &id).await?.id)
}

/// An endpoint's statistics over `window` (`24h`, `7d` or `30d`).
#[server(prefix = "/rpc", endpoint = "endpoint_stats")]
pub async fn endpoint_stats(id: String, window: String) -> Result<types::stats::EndpointStats, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let window = domain::stats::window(&window)?;
    Ok(herald.endpoint_stats(actor.tenant_id()?, &id, window).await?)
}

/// Sends the catalog sample of `event_type` now and answers with the result.
#[server(prefix = "/rpc", endpoint = "send_test_event")]
pub async fn send_test_event(endpoint_id: String, event_type: String) -> Result<DeliveryView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = actor.tenant_id()?.to_string();
    let detail = herald.send_test(&actor, &endpoint_id, &event_type).await?;
    let endpoint = convert::endpoint_name(&herald, &tenant_id, &endpoint_id).await;
    Ok(DeliveryView { detail, endpoint })
}
