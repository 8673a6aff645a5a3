//! Per-endpoint throttle: an endpoint may set `max_per_second` (at most that many deliveries
//! start in any one second) and `max_in_flight` (at most that many are being sent at once).
//!
//! The general claim leaves throttled endpoints alone. Their deliveries are claimed here, one
//! endpoint at a time, in a transaction that holds the endpoint's row (PostgreSQL: `FOR UPDATE`;
//! SQLite: the write turn), counts what is in flight (leased rows, from every process) and what
//! was claimed in the last second (`claimed_at`), and claims only what fits. So the limits hold
//! across any number of worker processes. A delivery that does not fit stays due: it waits, it
//! does not fail.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use super::Claimed;
use crate::clock::{Millis, SECOND};
use crate::error::Result;
use crate::{on_pool, on_tx, Herald};

pub use crate::endpoints::{MAX_IN_FLIGHT, MAX_PER_SECOND};

/// Whether any endpoint is throttled, looked up at most once a second: without throttled
/// endpoints (the common case) a claim costs no extra query.
#[derive(Default)]
pub struct ThrottleCache {
    checked_at: AtomicI64,
    any: AtomicBool,
}

/// Endpoints with a throttle and due deliveries.
const DUE_THROTTLED: &str = "SELECT e.id, e.max_per_second, e.max_in_flight FROM endpoints e
    WHERE (e.max_per_second IS NOT NULL OR e.max_in_flight IS NOT NULL)
      AND EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.next_attempt_at <= $1
                  AND (d.lease_until IS NULL OR d.lease_until < $1))";

/// Leased and not yet recorded: being sent right now, by any process.
const IN_FLIGHT: &str = "SELECT COUNT(*) FROM deliveries WHERE endpoint_id = $1 AND next_attempt_at IS NOT NULL AND lease_until >= $2";

const STARTED_LAST_SECOND: &str = "SELECT COUNT(*) FROM deliveries WHERE endpoint_id = $1 AND claimed_at > $2";

const CLAIM_ONE_ENDPOINT: &str = concat!(
    "UPDATE deliveries SET lease_until = $2, claimed_at = $1
WHERE id IN (
    SELECT id FROM deliveries WHERE endpoint_id = $3 AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at, id LIMIT $4)
RETURNING ",
    super::claim::claimed_columns!()
);

impl Herald {
    async fn any_throttled(&self, now: Millis) -> Result<bool> {
        let cache = &self.throttle;
        if now - cache.checked_at.load(Ordering::Relaxed) < SECOND {
            return Ok(cache.any.load(Ordering::Relaxed));
        }
        let (any,): (bool,) = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)")
            .fetch_one(pool).await)?;
        cache.any.store(any, Ordering::Relaxed);
        cache.checked_at.store(now, Ordering::Relaxed);
        Ok(any)
    }

    /// Claims up to `limit` due deliveries of throttled endpoints, each within its limits.
    pub(super) async fn claim_throttled(&self, limit: usize, now: Millis, lease_until: Millis) -> Result<Vec<Claimed>> {
        if limit == 0 || !self.any_throttled(now).await? {
            return Ok(Vec::new());
        }
        let due: Vec<(String, Option<i64>, Option<i64>)> =
            on_pool!(&self.store, pool => sqlx::query_as(DUE_THROTTLED).bind(now).fetch_all(pool).await)?;
        let mut claimed = Vec::new();
        for (endpoint_id, per_second, in_flight_cap) in due {
            let room = limit - claimed.len();
            if room == 0 {
                break;
            }
            let in_flight_cap = in_flight_cap.unwrap_or(self.engine.per_endpoint as i64);
            claimed.extend(self.claim_for_endpoint(&endpoint_id, per_second, in_flight_cap, room as i64, now, lease_until).await?);
        }
        Ok(claimed)
    }

    async fn claim_for_endpoint(
        &self,
        endpoint_id: &str,
        per_second: Option<i64>,
        in_flight_cap: i64,
        room: i64,
        now: Millis,
        lease_until: Millis,
    ) -> Result<Vec<Claimed>> {
        let mut tx = self.store.begin_relaxed("claim").await?;
        if let crate::store::Tx::Postgres(t) = &mut tx {
            // Claimers of this endpoint, in every process, take turns.
            sqlx::query("SELECT id FROM endpoints WHERE id = $1 FOR UPDATE").bind(endpoint_id).execute(&mut **t).await?;
        }
        let (in_flight,): (i64,) = on_tx!(&mut tx, conn => sqlx::query_as(IN_FLIGHT).bind(endpoint_id).bind(now).fetch_one(conn).await)?;
        let mut fits = (in_flight_cap - in_flight).min(room);
        if let Some(per_second) = per_second {
            let (started,): (i64,) =
                on_tx!(&mut tx, conn => sqlx::query_as(STARTED_LAST_SECOND).bind(endpoint_id).bind(now - SECOND).fetch_one(conn).await)?;
            fits = fits.min(per_second - started);
        }
        if fits <= 0 {
            return Ok(Vec::new());
        }
        let mut claimed: Vec<Claimed> = on_tx!(&mut tx, conn => sqlx::query_as(CLAIM_ONE_ENDPOINT)
            .bind(now).bind(lease_until).bind(endpoint_id).bind(fits).fetch_all(conn).await)?;
        tx.commit().await?;
        claimed.iter_mut().for_each(|c| c.throttled = true);
        Ok(claimed)
    }
}
