//! Sending again: replay one delivery, recover many, send a test event, download a payload.
//! A replay is a new delivery linked to its original, so the log keeps both.

use serde::Serialize;

use crate::audit::Audit;
use crate::catalog;
use crate::clock::Millis;
use crate::delivery::Claimed;
use crate::error::{Error, Result};
use crate::logs::{archived, DeliveryDetail, DeliveryRow};
use crate::messages::insert_delivery;
use crate::roles::Actor;
use crate::{ids, on_pool, on_tx, Herald};

/// Which deliveries a bulk recover sends again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecoverStatus {
    /// Ran out of retries.
    Failed,
    /// Recorded while the endpoint was inactive.
    Skipped,
}

impl RecoverStatus {
    pub fn parse(value: &str) -> Result<RecoverStatus> {
        match value {
            "failed" => Ok(RecoverStatus::Failed),
            "skipped" => Ok(RecoverStatus::Skipped),
            _ => Err(Error::invalid("status", "status is failed or skipped.")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RecoverStatus::Failed => "failed",
            RecoverStatus::Skipped => "skipped",
        }
    }
}

/// A delivery's payload as the endpoint receives it, named for download.
pub struct PayloadFile {
    pub file_name: String,
    pub body: String,
}

/// A recover commits this many replays at a time, so that it never holds SQLite's write lock
/// (every tenant's) for long.
pub const RECOVER_BATCH: usize = 500;

/// Deliveries a recover would send: not archived, not tests, not already replayed.
const RECOVERABLE: &str = "FROM deliveries d WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.status = $3 AND d.created_at >= $4
    AND d.archived_at IS NULL AND d.kind <> 'test'
    AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.replay_of = d.id)";

impl Herald {
    /// Admins only: queues the delivery again, as a new delivery labelled Replay.
    pub async fn replay(&self, actor: &Actor, delivery_id: &str) -> Result<DeliveryRow> {
        let tenant_id = actor.require_admin()?;
        let original = self.delivery_row(tenant_id, delivery_id).await?;
        original.require_not_archived()?;
        self.require_active_endpoint(tenant_id, &original.endpoint_id).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let id = insert_delivery(
            &mut tx,
            tenant_id,
            &original.endpoint_id,
            &original.message_id,
            &original.event_type,
            "pending",
            "replay",
            Some(&original.id),
            Some(now),
            None,
            now,
        )
        .await?;
        let entry =
            Audit::new(Some(tenant_id), "delivery.replayed", format!("Replayed delivery {} ({})", original.id, original.event_type));
        self.audit_in(&mut tx, actor, entry.target(&original.id)).await?;
        tx.commit().await?;
        self.wake_workers();
        self.delivery_row(tenant_id, &id).await
    }

    /// How many deliveries [`Herald::recover`] would send, for the confirmation.
    pub async fn recover_count(&self, actor: &Actor, endpoint_id: &str, status: RecoverStatus, since: Millis) -> Result<i64> {
        let tenant_id = actor.require_admin()?;
        self.endpoint_row(tenant_id, endpoint_id).await?;
        let sql = format!("SELECT COUNT(*) {RECOVERABLE}");
        let (count,): (i64,) = on_pool!(&self.store, pool => sqlx::query_as(&sql)
            .bind(tenant_id).bind(endpoint_id).bind(status.as_str()).bind(since).fetch_one(pool).await)?;
        Ok(count)
    }

    /// Admins only: replays every failed (or skipped) delivery of an endpoint since a time, oldest
    /// first, committing [`RECOVER_BATCH`] at a time. Returns how many were queued.
    pub async fn recover(&self, actor: &Actor, endpoint_id: &str, status: RecoverStatus, since: Millis) -> Result<i64> {
        let tenant_id = actor.require_admin()?;
        let now = self.clock.now();
        if since > now {
            return Err(Error::invalid("since", "since must be in the past."));
        }
        self.require_active_endpoint(tenant_id, endpoint_id).await?;
        let total = self.recover_count(actor, endpoint_id, status, since).await?;
        // Keyset pagination; deliveries recorded after the start are left for another recover.
        let sql = format!(
            "SELECT d.id, d.message_id, d.event_type, d.created_at {RECOVERABLE} AND d.created_at <= $5
             AND (d.created_at > $6 OR (d.created_at = $6 AND d.id > $7)) ORDER BY d.created_at, d.id LIMIT {RECOVER_BATCH}"
        );
        let (mut after_at, mut after_id) = (Millis::MIN, String::new());
        let mut queued: i64 = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let batch: Vec<(String, String, String, Millis)> = on_tx!(&mut tx, conn => sqlx::query_as(&sql)
                .bind(tenant_id).bind(endpoint_id).bind(status.as_str()).bind(since).bind(now).bind(after_at).bind(&after_id)
                .fetch_all(conn).await)?;
            for (id, message_id, event_type, _) in &batch {
                // A millisecond apart and all due by now, so the queue takes them in their original order.
                let due = (now - total + queued).min(now);
                insert_delivery(
                    &mut tx,
                    tenant_id,
                    endpoint_id,
                    message_id,
                    event_type,
                    "pending",
                    "replay",
                    Some(id),
                    Some(due),
                    None,
                    now,
                )
                .await?;
                queued += 1;
            }
            let done = batch.len() < RECOVER_BATCH;
            if done {
                let summary = format!("Recovered {queued} {} deliveries since {}", status.as_str(), crate::clock::rfc3339(since));
                self.audit_in(&mut tx, actor, Audit::new(Some(tenant_id), "deliveries.recovered", summary).target(endpoint_id)).await?;
            }
            tx.commit().await?;
            self.wake_workers();
            match batch.last() {
                Some((id, _, _, at)) if !done => (after_at, after_id) = (*at, id.clone()),
                _ => return Ok(queued),
            }
        }
    }

    async fn require_active_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<()> {
        let endpoint = self.endpoint_row(tenant_id, endpoint_id).await?;
        if endpoint.status != "active" {
            return Err(Error::conflict(
                "endpoint_inactive",
                None,
                format!("\"{}\" is inactive. Reactivate it first, then send again.", endpoint.name),
            ));
        }
        if !self.tenant(tenant_id).await?.webhooks_enabled {
            return Err(Error::conflict(
                "webhooks_off",
                None,
                "Webhooks are turned off for this workspace. Turn them on in Settings, then send again.",
            ));
        }
        Ok(())
    }

    /// Sends the catalog sample of `event_type` to the endpoint now (even an inactive one, to
    /// check a fix before reactivating), once, without retries; the result comes back at once.
    pub async fn send_test(&self, actor: &Actor, endpoint_id: &str, event_type: &str) -> Result<DeliveryDetail> {
        let tenant_id = actor.require_writer()?;
        let endpoint = self.endpoint_row(tenant_id, endpoint_id).await?;
        let event = catalog::resolve(event_type.trim())
            .ok_or_else(|| Error::invalid("event_type", format!("\"{}\" is not an event type.", event_type.trim())))?;
        if self.tenant(tenant_id).await?.suspended {
            return Err(Error::Forbidden("This tenant is suspended: nothing is sent.".into()));
        }
        let now = self.clock.now();
        let message_id = ids::new_id("msg");
        let mut tx = self.store.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO messages (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&message_id).bind(tenant_id).bind(event.name).bind(event.sample.to_string()).bind(now)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        // Not due: no worker claims it; it is sent right here.
        let id =
            insert_delivery(&mut tx, tenant_id, &endpoint.id, &message_id, event.name, "pending", "test", None, None, None, now).await?;
        tx.commit().await?;
        let claimed = Claimed {
            id: id.clone(),
            tenant_id: tenant_id.to_string(),
            endpoint_id: endpoint.id,
            message_id,
            event_type: event.name.to_string(),
            kind: "test".into(),
            attempts: 0,
        };
        self.deliver(&claimed).await?;
        self.delivery(tenant_id, &id).await
    }

    /// The payload exactly as the endpoint receives it (the signed bytes), as `<message-id>.json`.
    pub async fn payload_file(&self, tenant_id: &str, delivery_id: &str) -> Result<PayloadFile> {
        let delivery = self.delivery_row(tenant_id, delivery_id).await?;
        delivery.require_not_archived()?;
        let message = self.message(tenant_id, &delivery.message_id).await?;
        let shape = match self.endpoint_row(tenant_id, &delivery.endpoint_id).await {
            Ok(endpoint) => endpoint.payload_shape,
            Err(Error::NotFound(_)) => "envelope".into(),
            Err(e) => return Err(e),
        };
        let body = message.body(&shape).ok_or_else(archived)?;
        Ok(PayloadFile { file_name: format!("{}.json", message.id), body })
    }
}
