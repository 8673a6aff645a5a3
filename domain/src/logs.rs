//! The delivery log: filtered, keyset-paginated (newest first, stable on equal times), and one
//! delivery with all its attempts and the request as it was sent.

use serde::Serialize;
use serde_json::Value;
use types::{Channel, DeliveryStatus, PayloadShape, StatusFilter};

use crate::delivery::snapshot::request_snapshot;
use crate::error::{Error, Result};
use crate::store::query::{keyset_page, page_size, parse_time_cursor, Arg, Conditions};
use crate::{on_pool, Herald};

/// What the raw view shows instead of a secret header value (defined with the request snapshot).
pub use crate::delivery::snapshot::{MASKED, MASKED_SIGNATURE};
/// The shell variables "copy as cURL" leaves in place of secrets.
const SIGNATURE_PLACEHOLDER: &str = "${WEBHOOK_SIGNATURE}";
const AUTH_PLACEHOLDER: &str = "${AUTH_HEADER_VALUE}";

#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    pub endpoint_id: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// Epoch milliseconds, inclusive.
    pub since: Option<i64>,
    /// Epoch milliseconds, exclusive.
    pub until: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub use types::log::{Attempt, DeliveryDetail, DeliveryRow, RawRequest};

/// Raw view, download and replay need the payload, which archival removed.
pub(crate) fn require_not_archived(delivery: &DeliveryRow) -> Result<()> {
    match delivery.archived_at {
        Some(_) => Err(archived()),
        None => Ok(()),
    }
}

pub(crate) fn archived() -> Error {
    Error::Gone("This delivery is archived: its payload and bodies were deleted after the retention period.".into())
}

#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub data: Vec<DeliveryRow>,
    pub next_cursor: Option<String>,
}

const COLUMNS: &str = "id, endpoint_id, message_id, event_type, status, kind, replay_of, attempts, next_attempt_at, \
    last_status_code, last_duration_ms, last_error, created_at, archived_at, \
    (SELECT COUNT(*) FROM deliveries r WHERE r.replay_of = deliveries.id) AS replays";

impl Herald {
    /// One page of the tenant's deliveries, newest first.
    pub async fn delivery_log(&self, tenant_id: &str, filter: LogFilter) -> Result<Page> {
        let limit = page_size(filter.limit)?;
        let status = match filter.status.as_deref() {
            None => None,
            Some(text) => Some(StatusFilter::parse(text).ok_or_else(|| {
                let all: Vec<&str> = StatusFilter::ALL.iter().map(|s| s.as_str()).collect();
                Error::invalid("status", format!("status is one of {}.", all.join(", ")))
            })?),
        };
        let mut conditions = Conditions::default();
        conditions.push("tenant_id = ?", [Arg::Text(tenant_id.to_string())]);
        if let Some(v) = filter.endpoint_id {
            conditions.push("endpoint_id = ?", [Arg::Text(v)]);
        }
        match status.map(|s| (s, s.status())) {
            Some((_, Some(status))) => conditions.push("status = ?", [Arg::Text(status.as_str().into())]),
            Some((StatusFilter::Undelivered, None)) => {
                conditions.push("attempts > 0 AND status <> ?", [Arg::Text(DeliveryStatus::Succeeded.as_str().into())])
            }
            _ => {}
        }
        if let Some(v) = filter.event_type {
            conditions.push("event_type = ?", [Arg::Text(v)]);
        }
        if let Some(v) = filter.since {
            conditions.push("created_at >= ?", [Arg::Int(v)]);
        }
        if let Some(v) = filter.until {
            conditions.push("created_at < ?", [Arg::Int(v)]);
        }
        if let Some(cursor) = filter.cursor {
            // A row-value comparison: both databases walk the (…, created_at, id) index from it.
            let (at, id) = parse_time_cursor(&cursor)?;
            conditions.push("(created_at, id) < (?, ?)", [Arg::Int(at), Arg::Text(id)]);
        }
        let sql =
            format!("SELECT {COLUMNS} FROM deliveries {} ORDER BY created_at DESC, id DESC LIMIT {}", conditions.where_clause(), limit + 1);
        let rows = conditions.fetch_all::<DeliveryRow>(&self.store, &sql).await?;
        let (data, next_cursor) = keyset_page(rows, limit, |r| format!("{}.{}", r.created_at, r.id));
        Ok(Page { data, next_cursor })
    }

    /// One delivery's log row.
    pub async fn delivery_row(&self, tenant_id: &str, id: &str) -> Result<DeliveryRow> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1 AND tenant_id = $2");
        on_pool!(&self.store, pool => sqlx::query_as::<_, DeliveryRow>(&sql).bind(id).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("delivery"))
    }

    /// One delivery with its attempts, its replays and the request as sent (or as it will be).
    pub async fn delivery(&self, tenant_id: &str, id: &str) -> Result<DeliveryDetail> {
        let delivery = self.delivery_row(tenant_id, id).await?;
        let attempts = on_pool!(&self.store, pool => sqlx::query_as::<_, Attempt>(
            "SELECT attempted_at, request, duration_ms, status_code, response_headers, response_body, error, failure_class FROM attempts
             WHERE delivery_id = $1 ORDER BY attempted_at, id")
            .bind(id).fetch_all(pool).await)?;
        let replay_ids: Vec<(String,)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT id FROM deliveries WHERE replay_of = $1 AND tenant_id = $2 ORDER BY created_at, id")
            .bind(id).bind(tenant_id).fetch_all(pool).await)?;
        let request = self.raw_request(tenant_id, &delivery, &attempts).await?;
        Ok(DeliveryDetail { delivery, attempts, replay_ids: replay_ids.into_iter().map(|(id,)| id).collect(), request })
    }

    /// The request of the last attempt (or, before any, the one the endpoint would get now),
    /// with the body rebuilt from the message; `None` for email endpoints.
    async fn raw_request(&self, tenant_id: &str, delivery: &DeliveryRow, attempts: &[Attempt]) -> Result<Option<RawRequest>> {
        let stored: Option<Value> = attempts.iter().rev().find_map(|a| a.request.as_deref()).and_then(|r| serde_json::from_str(r).ok());
        let sent = match stored {
            Some(sent) => sent,
            // Not sent yet: what the endpoint would get now.
            None => match self.endpoint_row(tenant_id, &delivery.endpoint_id).await {
                Ok(e) if e.channel == Channel::Http => request_snapshot(&e, &delivery.message_id, "(set when sent)"),
                Ok(_) | Err(Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        let headers = serde_json::from_value::<Vec<(String, String)>>(sent["headers"].clone()).unwrap_or_default();
        let text = |key: &str| sent[key].as_str().unwrap_or_default().to_string();
        let (method, url) = (text("method"), text("url"));
        let shape = PayloadShape::parse(&text("payload_shape")).unwrap_or(PayloadShape::Envelope);
        let body = match delivery.archived_at {
            Some(_) => None,
            None => self.message(tenant_id, &delivery.message_id).await?.body(shape),
        };
        let curl = body.as_deref().map(|b| curl_command(&method, &url, &headers, b));
        let pretty_body = body.as_deref().map(|b| {
            serde_json::from_str::<Value>(b).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| b.to_string())
        });
        Ok(Some(RawRequest { method, url, headers, body: pretty_body, curl }))
    }
}

/// One shell word, taken literally: single quotes, each `'` inside closed, escaped and reopened.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// `curl` for a request: the exact body bytes (so a filled-in signature verifies), masked
/// headers turned into shell variables. Every argument taken from the request is one
/// single-quoted word, so nothing stored (a URL, an old header name, the body) can run as a
/// command when the line is pasted; only the `${…}` placeholders are expanded, inside double
/// quotes right after the quoted header name.
pub fn curl_command(method: &str, url: &str, headers: &[(String, String)], body: &str) -> String {
    let mut lines = vec![format!("curl -X {} {}", shell_quote(method), shell_quote(url))];
    for (name, value) in headers {
        let header = match value.as_str() {
            MASKED_SIGNATURE => format!("{}\"{SIGNATURE_PLACEHOLDER}\"", shell_quote(&format!("{name}: "))),
            MASKED => format!("{}\"{AUTH_PLACEHOLDER}\"", shell_quote(&format!("{name}: "))),
            _ => shell_quote(&format!("{name}: {value}")),
        };
        lines.push(format!("-H {header}"));
    }
    lines.push(format!("--data-raw {}", shell_quote(body)));
    lines.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_keeps_secrets_as_variables_and_quotes_the_body() {
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("webhook-signature".to_string(), MASKED_SIGNATURE.to_string()),
            ("X-Api-Key".to_string(), MASKED.to_string()),
        ];
        let curl = curl_command("PUT", "https://example.com/hook", &headers, r#"{"name":"O'Brien"}"#);
        assert_eq!(
            curl,
            "curl -X 'PUT' 'https://example.com/hook' \\\n  -H 'content-type: application/json' \\\n  \
             -H 'webhook-signature: '\"${WEBHOOK_SIGNATURE}\" \\\n  -H 'X-Api-Key: '\"${AUTH_HEADER_VALUE}\" \\\n  \
             --data-raw '{\"name\":\"O'\\''Brien\"}'"
        );
    }

    #[test]
    fn curl_quotes_a_hostile_header_name_stored_before_names_were_narrowed() {
        let headers = vec![("X-K`touch$IFS'x'`".to_string(), MASKED.to_string()), ("X-$(id)".to_string(), "v".to_string())];
        let curl = curl_command("POST", "https://example.com/h?a=$(id)", &headers, "{}");
        assert_eq!(
            curl,
            "curl -X 'POST' 'https://example.com/h?a=$(id)' \\\n  -H 'X-K`touch$IFS'\\''x'\\''`: '\"${AUTH_HEADER_VALUE}\" \\\n  \
             -H 'X-$(id): v' \\\n  --data-raw '{}'"
        );
    }

    #[test]
    fn cursors_must_be_ours() {
        use crate::store::query::parse_time_cursor as parse_cursor;
        assert_eq!(parse_cursor("1700000000000.dlv_abc").unwrap(), (1_700_000_000_000, "dlv_abc".to_string()));
        assert!(parse_cursor("nonsense").is_err());
        assert!(parse_cursor("x.dlv_abc").is_err());
    }
}
