//! The delivery log: filtered, keyset-paginated (newest first, stable on equal times), and one
//! delivery with all its attempts.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::{on_pool, Herald};

pub const STATUSES: [&str; 5] = ["pending", "retrying", "succeeded", "failed", "skipped"];

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

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub status: String,
    pub kind: String,
    pub replay_of: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub replays: i64,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Attempt {
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub data: Vec<DeliveryRow>,
    pub next_cursor: Option<String>,
}

const COLUMNS: &str = "id, endpoint_id, message_id, event_type, status, kind, replay_of, attempts, next_attempt_at, \
    last_status_code, last_duration_ms, last_error, created_at, \
    (SELECT COUNT(*) FROM deliveries r WHERE r.replay_of = deliveries.id) AS replays";

/// A bind value for dynamically assembled SQL.
enum Arg {
    Text(String),
    Int(i64),
}

fn parse_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || Error::invalid("cursor", "The cursor is not one this API returned.");
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_string()))
}

impl Herald {
    /// One page of the tenant's deliveries, newest first.
    pub async fn delivery_log(&self, tenant_id: &str, filter: LogFilter) -> Result<Page> {
        let limit = filter.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Error::invalid("limit", "limit must be between 1 and 200."));
        }
        if let Some(status) = &filter.status {
            if !STATUSES.contains(&status.as_str()) {
                return Err(Error::invalid("status", format!("status is one of {}.", STATUSES.join(", "))));
            }
        }
        // Only the conditions in use go into the SQL, so every query can use an index.
        let mut conditions = vec!["tenant_id = $1".to_string()];
        let mut args = vec![Arg::Text(tenant_id.to_string())];
        let mut push = |sql: &str, arg: Arg| {
            args.push(arg);
            conditions.push(sql.replace('?', &format!("${}", args.len())));
        };
        if let Some(v) = filter.endpoint_id {
            push("endpoint_id = ?", Arg::Text(v));
        }
        if let Some(v) = filter.status {
            push("status = ?", Arg::Text(v));
        }
        if let Some(v) = filter.event_type {
            push("event_type = ?", Arg::Text(v));
        }
        if let Some(v) = filter.since {
            push("created_at >= ?", Arg::Int(v));
        }
        if let Some(v) = filter.until {
            push("created_at < ?", Arg::Int(v));
        }
        if let Some(cursor) = filter.cursor {
            let (at, id) = parse_cursor(&cursor)?;
            push("created_at <= ?", Arg::Int(at));
            let n = args.len();
            args.push(Arg::Text(id));
            conditions.push(format!("(created_at < ${n} OR id < ${})", n + 1));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM deliveries WHERE {} ORDER BY created_at DESC, id DESC LIMIT {}",
            conditions.join(" AND "),
            limit + 1
        );
        let mut rows = on_pool!(&self.store, pool => {
            let mut query = sqlx::query_as::<_, DeliveryRow>(&sql);
            for arg in args {
                query = match arg {
                    Arg::Text(v) => query.bind(v),
                    Arg::Int(v) => query.bind(v),
                };
            }
            query.fetch_all(pool).await
        })?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| format!("{}.{}", r.created_at, r.id))
        } else {
            None
        };
        Ok(Page { data: rows, next_cursor })
    }

    pub async fn delivery(&self, tenant_id: &str, id: &str) -> Result<(DeliveryRow, Vec<Attempt>)> {
        let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1 AND tenant_id = $2");
        let row = on_pool!(&self.store, pool => sqlx::query_as::<_, DeliveryRow>(&sql).bind(id).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("delivery"))?;
        let attempts = on_pool!(&self.store, pool => sqlx::query_as::<_, Attempt>(
            "SELECT attempted_at, duration_ms, status_code, response_headers, response_body, error FROM attempts WHERE delivery_id = $1 ORDER BY attempted_at, id")
            .bind(id).fetch_all(pool).await)?;
        Ok((row, attempts))
    }
}
