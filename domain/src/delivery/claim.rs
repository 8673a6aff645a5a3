//! Claiming due deliveries: a claim sets a lease on the row, so no other worker takes it until
//! the lease runs out.

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

/// PostgreSQL: `SKIP LOCKED` lets many workers claim side by side; the outer conditions are
/// re-checked on the locked row, so a row claimed meanwhile is not taken twice.
const CLAIM_POSTGRES: &str = "
UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT id FROM deliveries
    WHERE id IN (
        SELECT id FROM (
            SELECT id, endpoint_id, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank
            FROM (
                SELECT id, endpoint_id, next_attempt_at FROM deliveries
                WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                  AND NOT (endpoint_id = ANY(ARRAY(SELECT e FROM unnest($5::text[]) e GROUP BY e HAVING COUNT(*) >= $3)))
                  AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)
                ORDER BY next_attempt_at LIMIT 1000
            ) candidates
        ) ranked LEFT JOIN (SELECT e AS endpoint_id, COUNT(*) AS n FROM unnest($5::text[]) e GROUP BY e) busy USING (endpoint_id)
        WHERE rank + COALESCE(busy.n, 0) <= $3)
      AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at LIMIT $4
    FOR UPDATE SKIP LOCKED)
RETURNING id, tenant_id, endpoint_id, message_id, event_type, kind, attempts, lease_until";

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
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                relaxed_commit(&mut tx).await?;
                let claimed = sqlx::query_as::<_, Claimed>(CLAIM_POSTGRES)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_endpoint as i64)
                    .bind(limit as i64)
                    .bind(in_flight)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                claimed
            }
        };
        claimed.extend(general);
        self.count_claims(claimed.len());
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
