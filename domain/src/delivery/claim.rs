//! Claiming due deliveries: a claim sets a lease on the row, so no other worker takes it until
//! the lease runs out.

use std::collections::HashMap;

use crate::clock::Millis;
use crate::error::Result;
use crate::store::Store;
use crate::{execute_on, on_pool, Herald};
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
    /// When it was due: a claim's deliveries are sent oldest first.
    #[sqlx(rename = "next_attempt_at")]
    pub due_at: i64,
    /// Claimed within its endpoint's own throttle (see [`super::throttle`]), which stands in
    /// for the worker's per-endpoint limit.
    #[sqlx(skip)]
    pub throttled: bool,
}

/// Step 1: up to `$3` endpoints with due deliveries, after `$2` in id order, each with how many
/// are due (counting up to `$4`; leased ones too). A skip scan of the due-by-endpoint index:
/// one probe per endpoint, however deep its backlog, so a claim costs the same with ten due
/// rows or a million (a scan of the due rows in time order cannot stop early once busy
/// endpoints' rows fill its head). The counts come from the same index, and let a claim give
/// each endpoint only the room it can use, so one claim serves many endpoints with few due.
const DUE_ENDPOINTS: &str = "
WITH RECURSIVE due(endpoint_id, n) AS (
    SELECT (SELECT endpoint_id FROM deliveries WHERE next_attempt_at <= $1 AND endpoint_id > $2 ORDER BY endpoint_id LIMIT 1), 1
    UNION ALL
    SELECT (SELECT d.endpoint_id FROM deliveries d
            WHERE d.next_attempt_at <= $1 AND d.endpoint_id > due.endpoint_id ORDER BY d.endpoint_id LIMIT 1), n + 1
    FROM due WHERE due.endpoint_id IS NOT NULL AND n < $3)
SELECT endpoint_id, (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries d
                     WHERE d.endpoint_id = due.endpoint_id AND d.next_attempt_at <= $1 LIMIT $4) AS up_to) AS due_count
FROM due WHERE endpoint_id IS NOT NULL";

/// What a claim returns of each delivery it leased: a [`Claimed`].
macro_rules! claimed_columns {
    () => {
        "id, tenant_id, endpoint_id, message_id, event_type, kind, attempts, lease_until, next_attempt_at"
    };
}
pub(super) use claimed_columns;

/// PostgreSQL, step 2: each endpoint's oldest due deliveries, up to its room (`$3` ids, `$4`
/// rooms), leaving throttled endpoints to [`super::throttle`]. `SKIP LOCKED` lets many workers
/// claim side by side; the conditions are re-checked on a row locked and changed meanwhile, so
/// a row claimed by another worker is not taken twice.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT c.id FROM unnest($3::text[], $4::bigint[]) AS e(endpoint_id, room)
    JOIN endpoints ep ON ep.id = e.endpoint_id AND ep.max_per_second IS NULL AND ep.max_in_flight IS NULL
    CROSS JOIN LATERAL (
        SELECT d.id FROM deliveries d
        WHERE d.endpoint_id = e.endpoint_id AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)
        ORDER BY d.next_attempt_at LIMIT e.room
        FOR UPDATE OF d SKIP LOCKED) c)
RETURNING ",
    claimed_columns!()
);

/// SQLite, step 2: the same for `endpoints` endpoints (`$1`: the lease; then, for each
/// endpoint, its id, now twice and its room). SQLite has no LATERAL, so each endpoint gets a
/// subquery of its own; its single writer needs no row locks. Each placeholder is used once,
/// in order, so they go to SQLite anonymous (see [`crate::store::query::sqlite_placeholders`]).
fn claim_sqlite_sql(endpoints: usize) -> String {
    let per_endpoint: Vec<String> = (0..endpoints)
        .map(|i| {
            let [endpoint, now, now_again, room] = std::array::from_fn(|k| 2 + 4 * i + k);
            format!(
                "SELECT id FROM (SELECT id FROM deliveries WHERE endpoint_id = ${endpoint} AND next_attempt_at <= ${now}
                 AND (lease_until IS NULL OR lease_until < ${now_again}) ORDER BY next_attempt_at LIMIT ${room})"
            )
        })
        .collect();
    format!(
        "UPDATE deliveries SET lease_until = $1
WHERE id IN ({})
  AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)
RETURNING {}",
        per_endpoint.join(" UNION ALL "),
        claimed_columns!()
    )
}

/// Where the next claim starts looking: just after the last endpoint served, so endpoints take
/// turns when there is more due than one claim takes.
#[derive(Default)]
pub struct ClaimCursor(std::sync::Mutex<String>);

impl Herald {
    /// Claims up to `limit` due deliveries, so that no endpoint has more than `per_endpoint`
    /// held by this process, counting those already `held` (one endpoint id per delivery).
    /// Throttled endpoints are served first, each within its own limits. Each endpoint's come
    /// oldest first.
    pub async fn claim_due(&self, limit: usize, per_endpoint: usize, held: &[String]) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let lease_until = now + self.engine.lease.as_millis() as Millis;
        let mut claimed = self.claim_throttled(limit, now, lease_until).await?;
        let limit = limit - claimed.len();
        if limit > 0 {
            claimed.extend(self.claim_by_endpoint(now, lease_until, limit, per_endpoint, held).await?);
        }
        claimed.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        self.count_claims(claimed.len());
        Ok(claimed)
    }

    /// Step 1 finds endpoints with due deliveries, from the cursor on; this gives each what is
    /// left of its `per_endpoint` (no more than it has due), up to `limit` in all; step 2 claims
    /// that many of each.
    async fn claim_by_endpoint(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: usize,
        per_endpoint: usize,
        held: &[String],
    ) -> Result<Vec<Claimed>> {
        let mut busy: HashMap<&str, usize> = HashMap::new();
        for endpoint_id in held {
            *busy.entry(endpoint_id.as_str()).or_default() += 1;
        }
        let full = busy.values().filter(|n| **n >= per_endpoint).count();
        // Enough endpoints for every free slot even if each has one due delivery, plus the full ones.
        let wanted = limit + full;
        let cursor = self.claim_cursor.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let due_after = |after: String, n: usize| async move {
            on_pool!(&self.store, pool => sqlx::query_as::<_, (String, i64)>(DUE_ENDPOINTS)
                .bind(now).bind(after).bind(n as i64).bind(per_endpoint as i64).fetch_all(pool).await)
        };
        let mut due = due_after(cursor.clone(), wanted).await?;
        if due.len() < wanted && !cursor.is_empty() {
            // Wrap around to the endpoints before the cursor.
            let before = due_after(String::new(), wanted - due.len()).await?;
            let seen: std::collections::HashSet<String> = due.iter().map(|(e, _)| e.clone()).collect();
            due.extend(before.into_iter().filter(|(e, _)| !seen.contains(e)));
        }
        let (mut endpoints, mut rooms) = (Vec::new(), Vec::new());
        let mut left = limit;
        for (endpoint_id, due_count) in due {
            let free = per_endpoint.saturating_sub(busy.get(endpoint_id.as_str()).copied().unwrap_or(0));
            let room = free.min(due_count as usize).min(left);
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
        match &self.store {
            Store::Postgres(pool) => {
                let mut tx = crate::store::begin_relaxed(pool).await?;
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
            Store::Sqlite(pool) => {
                let sql = crate::store::query::sqlite_placeholders(claim_sqlite_sql(endpoints.len()));
                let mut query = sqlx::query_as::<_, Claimed>(&sql).bind(lease_until);
                for (endpoint_id, room) in endpoints.iter().zip(&rooms) {
                    query = query.bind(endpoint_id).bind(now).bind(now).bind(room);
                }
                let _turn = crate::store::sqlite_write_turn("claim").await;
                Ok(query.fetch_all(pool).await?)
            }
        }
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

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_claim_binds_anonymous_placeholders() {
        let sql = crate::store::query::sqlite_placeholders(super::claim_sqlite_sql(3));
        assert!(!sql.contains('$'), "a named placeholder is left: {sql}");
        assert_eq!(sql.matches('?').count(), 1 + 3 * 4);
    }
}
