//! Claiming due deliveries: a claim sets a lease on the row, so no other worker takes it until
//! the lease runs out.

use std::collections::HashMap;

use super::relaxed_commit;
use crate::clock::Millis;
use crate::error::Result;
use crate::store::Store;
use crate::{execute_on, Herald};
use types::DeliveryKind;

/// A claimed delivery.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub tenant_id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub kind: DeliveryKind,
    pub attempts: i64,
    /// The lease this claim set: only the claimer that set it may hand the delivery back.
    pub lease_until: i64,
}

/// Candidates come from the due index in time order (bounded, so a large backlog costs no more
/// than a small one), skipping throttled endpoints (see [`super::throttle`]) and endpoints already at `$3` in flight (`$5` lists one endpoint id
/// per delivery in flight); among them, each endpoint gets what is left of its `$3`.
const CLAIM_SQLITE: &str = "
UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT id FROM (
        SELECT id, endpoint_id, next_attempt_at, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank
        FROM (
            SELECT id, endpoint_id, next_attempt_at FROM deliveries
            WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
              AND endpoint_id NOT IN (SELECT value FROM json_each($5) GROUP BY value HAVING COUNT(*) >= $3)
              AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)
            ORDER BY next_attempt_at LIMIT 1000
        )
    ) ranked LEFT JOIN (SELECT value AS endpoint_id, COUNT(*) AS n FROM json_each($5) GROUP BY value) busy USING (endpoint_id)
    WHERE rank + COALESCE(busy.n, 0) <= $3
    ORDER BY next_attempt_at LIMIT $4)
RETURNING id, tenant_id, endpoint_id, message_id, event_type, kind, attempts, lease_until";

/// PostgreSQL, step 1: up to `$3` endpoints with due deliveries, after `$2` in id order. A skip
/// scan of the due-by-endpoint index: one probe per endpoint, however deep its backlog, so a
/// claim costs the same with ten due rows or a million (a scan of the due rows in time order
/// cannot stop early once busy endpoints' rows fill its head).
const DUE_ENDPOINTS_POSTGRES: &str = "
WITH RECURSIVE due(endpoint_id, n) AS (
    (SELECT endpoint_id, 1 FROM deliveries WHERE next_attempt_at <= $1 AND endpoint_id > $2 ORDER BY endpoint_id LIMIT 1)
    UNION ALL
    SELECT (SELECT d.endpoint_id FROM deliveries d
            WHERE d.next_attempt_at <= $1 AND d.endpoint_id > due.endpoint_id ORDER BY d.endpoint_id LIMIT 1), n + 1
    FROM due WHERE due.endpoint_id IS NOT NULL AND n < $3)
SELECT endpoint_id FROM due WHERE endpoint_id IS NOT NULL";

/// PostgreSQL, step 2: each endpoint's oldest due deliveries, up to its room (`$3` ids, `$4`
/// rooms), leaving throttled endpoints to [`super::throttle`]. `SKIP LOCKED` lets many workers
/// claim side by side; the conditions are re-checked on a row locked and changed meanwhile, so
/// a row claimed by another worker is not taken twice.
const CLAIM_POSTGRES: &str = "
UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT c.id FROM unnest($3::text[], $4::bigint[]) AS e(endpoint_id, room)
    JOIN endpoints ep ON ep.id = e.endpoint_id AND ep.max_per_second IS NULL AND ep.max_in_flight IS NULL
    CROSS JOIN LATERAL (
        SELECT d.id FROM deliveries d
        WHERE d.endpoint_id = e.endpoint_id AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)
        ORDER BY d.next_attempt_at LIMIT e.room
        FOR UPDATE OF d SKIP LOCKED) c)
RETURNING id, tenant_id, endpoint_id, message_id, event_type, kind, attempts, lease_until";

/// Where the next PostgreSQL claim starts looking: just after the last endpoint served, so
/// endpoints take turns when there is more due than one claim takes.
#[derive(Default)]
pub struct ClaimCursor(std::sync::Mutex<String>);

impl Herald {
    /// Claims up to `limit` due deliveries, so that no endpoint has more than `per_endpoint` in
    /// flight in this process, counting those already `in_flight` (one endpoint id per delivery).
    /// Throttled endpoints are served first, each within its own limits.
    pub async fn claim_due(&self, limit: usize, per_endpoint: usize, in_flight: &[String]) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let lease_until = now + self.engine.lease.as_millis() as Millis;
        let mut claimed = self.claim_throttled(limit, now, lease_until).await?;
        let limit = limit - claimed.len();
        if limit == 0 {
            return Ok(claimed);
        }
        let general = match &self.store {
            Store::Sqlite(pool) => {
                let in_flight = serde_json::to_string(in_flight).unwrap_or_else(|_| "[]".into());
                let _turn = crate::store::sqlite_write_turn().await;
                sqlx::query_as::<_, Claimed>(CLAIM_SQLITE)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_endpoint as i64)
                    .bind(limit as i64)
                    .bind(in_flight)
                    .fetch_all(pool)
                    .await?
            }
            Store::Postgres(pool) => self.claim_postgres(pool, now, lease_until, limit, per_endpoint, in_flight).await?,
        };
        claimed.extend(general);
        self.count_claims(claimed.len());
        Ok(claimed)
    }

    async fn claim_postgres(
        &self,
        pool: &sqlx::PgPool,
        now: Millis,
        lease_until: Millis,
        limit: usize,
        per_endpoint: usize,
        in_flight: &[String],
    ) -> Result<Vec<Claimed>> {
        let mut busy: HashMap<&str, usize> = HashMap::new();
        for endpoint_id in in_flight {
            *busy.entry(endpoint_id.as_str()).or_default() += 1;
        }
        let full = busy.values().filter(|n| **n >= per_endpoint).count();
        // Enough endpoints for every free slot even if each has one due delivery, plus the full ones.
        let wanted = limit + full;
        let cursor = self.claim_cursor.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let due_after = |after: String, n: usize| {
            sqlx::query_scalar::<_, String>(DUE_ENDPOINTS_POSTGRES).bind(now).bind(after).bind(n as i64).fetch_all(pool)
        };
        let mut due = due_after(cursor.clone(), wanted).await?;
        if due.len() < wanted && !cursor.is_empty() {
            // Wrap around to the endpoints before the cursor.
            let before = due_after(String::new(), wanted - due.len()).await?;
            let seen: std::collections::HashSet<String> = due.iter().cloned().collect();
            due.extend(before.into_iter().filter(|e| !seen.contains(e)));
        }
        let (mut endpoints, mut rooms) = (Vec::new(), Vec::new());
        let mut left = limit;
        for endpoint_id in due {
            let room = per_endpoint.saturating_sub(busy.get(endpoint_id.as_str()).copied().unwrap_or(0)).min(left);
            if room == 0 {
                continue;
            }
            left -= room;
            endpoints.push(endpoint_id);
            rooms.push(room as i64);
            if left == 0 {
                break;
            }
        }
        let Some(last) = endpoints.last() else { return Ok(Vec::new()) };
        *self.claim_cursor.0.lock().unwrap_or_else(|p| p.into_inner()) = last.clone();
        let mut tx = pool.begin().await?;
        relaxed_commit(&mut tx).await?;
        let claimed = sqlx::query_as::<_, Claimed>(CLAIM_POSTGRES)
            .bind(now)
            .bind(lease_until)
            .bind(&endpoints)
            .bind(&rooms)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Hands claimed deliveries back unfinished (a worker shutting down): each is due again at
    /// once for any worker, instead of waiting for its lease to run out. A delivery recorded or
    /// claimed again meanwhile (its lease is no longer this claim's) is left alone. Returns how
    /// many were handed back.
    pub async fn release(&self, claimed: &[Claimed]) -> Result<u64> {
        let mut released = 0;
        for delivery in claimed {
            let _turn = self.store.write_turn().await;
            released += execute_on!(
                &self.store,
                sqlx::query("UPDATE deliveries SET lease_until = NULL WHERE id = $1 AND lease_until = $2 AND next_attempt_at IS NOT NULL")
                    .bind(&delivery.id)
                    .bind(delivery.lease_until)
            )?;
        }
        if released > 0 {
            metrics::counter!(crate::telemetry::LEASES_RELEASED).increment(released);
        }
        Ok(released)
    }
}
