//! What Herald reports about itself, through the `metrics` facade: the domain only emits (with
//! no recorder installed, as in the command-line tools, every call is a no-op); the server
//! installs the Prometheus recorder and serves `GET /metrics`.
//!
//! The names are the contract with operators' dashboards: add, don't rename.

use std::collections::HashSet;
use std::sync::Mutex;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use types::DeliveryStatus;

use crate::clock::Millis;
use crate::health::FailureClass;
use crate::{on_pool, Herald, Result};

pub const EVENTS_INGESTED: &str = "herald_events_ingested_total";
pub const DELIVERIES: &str = "herald_deliveries_total";
pub const ATTEMPT_SECONDS: &str = "herald_delivery_attempt_duration_seconds";
pub const INGEST_TO_DELIVERY_SECONDS: &str = "herald_ingest_to_delivery_seconds";
pub const CLAIMS: &str = "herald_claims_total";
pub const LEASES_RELEASED: &str = "herald_leases_released_total";
pub const DUE_BACKLOG: &str = "herald_due_deliveries";
pub const OLDEST_DUE_AGE: &str = "herald_oldest_due_delivery_age_seconds";
pub const POOL_CONNECTIONS: &str = "herald_db_pool_connections";
pub const POOL_IDLE: &str = "herald_db_pool_idle_connections";
pub const TENANT_EVENTS: &str = "herald_tenant_events_ingested_total";
pub const TENANT_DELIVERIES: &str = "herald_tenant_deliveries_total";
pub const SQLITE_WRITE_TURN_SECONDS: &str = "herald_sqlite_write_turn_seconds";

/// Distinct tenants that get a label of their own, per process; the rest count as
/// `tenant="other"`. Labels are tenant ids (stable, unlike names), given out first come first
/// served: a process serving more than this many tenants shows the first 100 it saw by name
/// and the others summed, so a scrape never grows past ~100 series per per-tenant metric.
pub const TENANT_LABEL_CAP: usize = 100;

/// The tenant ids that have a label of their own in this process (see [`TENANT_LABEL_CAP`]).
#[derive(Default)]
pub struct TenantLabels(Mutex<HashSet<String>>);

impl TenantLabels {
    /// The `tenant` label for `tenant_id`: the id itself, or `other` past the cap.
    pub fn label(&self, tenant_id: &str) -> String {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(tenant_id) {
            return tenant_id.to_string();
        }
        if seen.len() < TENANT_LABEL_CAP {
            seen.insert(tenant_id.to_string());
            return tenant_id.to_string();
        }
        "other".to_string()
    }
}

/// Gives every metric its help text (call once, after installing a recorder).
pub fn describe() {
    describe_counter!(EVENTS_INGESTED, "Events accepted by the API (repeats of an event_id not counted).");
    describe_counter!(
        DELIVERIES,
        "What became of each delivery attempt: outcome succeeded, retrying (failed, will be retried), failed (gave up) or \
         skipped (closed unsent); failure_class says why an attempt failed (none otherwise)."
    );
    describe_histogram!(
        SQLITE_WRITE_TURN_SECONDS,
        Unit::Seconds,
        "SQLite only: how long each write turn was held (this process's writes take turns, one at a time). The rate of \
         _sum is the share of time the writer is busy: near 1, writes queue, and ingest and delivery wait on each other. \
         writer says whose turn: ingest, claim, record (attempts) or other."
    );
    describe_histogram!(ATTEMPT_SECONDS, Unit::Seconds, "How long one HTTP or email delivery attempt took.");
    describe_histogram!(
        INGEST_TO_DELIVERY_SECONDS,
        Unit::Seconds,
        "From an event's ingest to its successful delivery to one endpoint, retries included (events only, not replays or tests)."
    );
    describe_counter!(CLAIMS, "Deliveries claimed (leased) by this process's worker.");
    describe_counter!(LEASES_RELEASED, "Claimed deliveries handed back unfinished at shutdown, due again at once.");
    describe_gauge!(DUE_BACKLOG, "Deliveries due now and not claimed by any worker (sampled every few seconds).");
    describe_gauge!(OLDEST_DUE_AGE, Unit::Seconds, "How long the oldest due, unclaimed delivery has been due (0 when none).");
    describe_gauge!(POOL_CONNECTIONS, "Open database connections in this process's pool.");
    describe_gauge!(POOL_IDLE, "Idle database connections in this process's pool.");
    describe_counter!(TENANT_EVENTS, "Events accepted, per tenant (the first 100 tenants by id, then tenant=\"other\").");
    describe_counter!(TENANT_DELIVERIES, "Delivery outcomes per tenant (the first 100 tenants by id, then tenant=\"other\").");
}

/// Buckets for the latency histograms, in seconds: 5 ms to 10 s for attempts, up to a day for
/// ingest-to-delivery (which includes retries hours apart).
pub const ATTEMPT_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
pub const INGEST_TO_DELIVERY_BUCKETS: &[f64] =
    &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 3.0 * 3600.0, 24.0 * 3600.0];

/// What the due-backlog sample saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backlog {
    pub due: i64,
    /// Since when the oldest of them has been due.
    pub oldest_due_at: Option<Millis>,
}

impl Herald {
    pub(crate) fn count_ingested(&self, tenant_id: &str) {
        counter!(EVENTS_INGESTED).increment(1);
        counter!(TENANT_EVENTS, "tenant" => self.tenant_labels.label(tenant_id)).increment(1);
    }

    /// One attempt recorded (or a delivery skipped: `duration_ms` and `failure` are `None`).
    pub(crate) fn count_outcome(&self, tenant_id: &str, status: DeliveryStatus, failure: Option<FailureClass>, duration_ms: Option<i64>) {
        let class = failure.map_or("none", |f| f.as_str());
        counter!(DELIVERIES, "outcome" => status.as_str(), "failure_class" => class).increment(1);
        counter!(TENANT_DELIVERIES, "tenant" => self.tenant_labels.label(tenant_id), "outcome" => status.as_str()).increment(1);
        if let Some(ms) = duration_ms {
            histogram!(ATTEMPT_SECONDS).record(ms.max(0) as f64 / 1000.0);
        }
    }

    pub(crate) fn observe_ingest_to_delivery(&self, ingested_at: Millis) {
        let waited = (self.clock.now() - ingested_at).max(0);
        histogram!(INGEST_TO_DELIVERY_SECONDS).record(waited as f64 / 1000.0);
    }

    pub(crate) fn count_claims(&self, n: usize) {
        if n > 0 {
            counter!(CLAIMS).increment(n as u64);
        }
    }

    /// Deliveries due now and not leased, and the oldest due time among them: one query on the
    /// due-by-endpoint index (one scan of what is waiting, however many endpoints).
    pub async fn due_backlog(&self) -> Result<Backlog> {
        let now = self.clock.now();
        let (due, oldest_due_at): (i64, Option<i64>) = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries
             WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)")
            .bind(now).fetch_one(pool).await)?;
        Ok(Backlog { due, oldest_due_at })
    }

    /// Samples the gauges: the due backlog, the oldest due delivery's age, the pool's use.
    pub async fn sample_gauges(&self) -> Result<()> {
        let (size, idle) = on_pool!(&self.store, pool => (pool.size(), pool.num_idle()));
        gauge!(POOL_CONNECTIONS).set(size as f64);
        gauge!(POOL_IDLE).set(idle as f64);
        let backlog = self.due_backlog().await?;
        gauge!(DUE_BACKLOG).set(backlog.due as f64);
        let age = backlog.oldest_due_at.map_or(0, |at| (self.clock.now() - at).max(0));
        gauge!(OLDEST_DUE_AGE).set(age as f64 / 1000.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_past_the_cap_share_one_label() {
        let labels = TenantLabels::default();
        for n in 0..TENANT_LABEL_CAP {
            assert_eq!(labels.label(&format!("ten_{n}")), format!("ten_{n}"));
        }
        assert_eq!(labels.label("ten_new"), "other");
        assert_eq!(labels.label("ten_7"), "ten_7", "a tenant seen before the cap keeps its label");
    }
}
