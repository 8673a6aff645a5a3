//! Sending again: replay one delivery, send a test event, download a payload (recovering many
//! is a job: see [`crate::jobs`]).
//! A replay is a new delivery linked to its original, so the log keeps both.

use crate::audit::Audit;
use crate::delivery::Claimed;
use crate::endpoints::{EndpointStatus, PayloadShape};
use crate::error::{Error, Result};
use crate::logs::{archived, DeliveryDetail, DeliveryRow};
use crate::messages::{insert_delivery, NewDelivery};
use crate::roles::Actor;
use crate::{execute_in, ids, Herald};
use types::AuditAction;
use types::{DeliveryKind, DeliveryStatus};

pub use types::RecoverStatus;

/// The `status` a recovery names.
pub fn recover_status(text: &str) -> Result<RecoverStatus> {
    RecoverStatus::parse(text).ok_or_else(|| Error::invalid("status", "status is failed or skipped."))
}

/// A delivery's payload as the endpoint receives it, named for download.
pub struct PayloadFile {
    pub file_name: String,
    pub body: String,
}

impl Herald {
    /// Admins only: queues the delivery again, as a new delivery labelled Replay.
    pub async fn replay(&self, actor: &Actor, delivery_id: &str) -> Result<DeliveryRow> {
        let tenant_id = actor.require_admin()?;
        let original = self.delivery_row(tenant_id, delivery_id).await?;
        crate::logs::require_not_archived(&original)?;
        self.require_active_endpoint(tenant_id, &original.endpoint_id).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let delivery = NewDelivery {
            tenant_id,
            endpoint_id: &original.endpoint_id,
            message_id: &original.message_id,
            event_type: &original.event_type,
            status: DeliveryStatus::Pending,
            kind: DeliveryKind::Replay,
            replay_of: Some(&original.id),
            due: Some(now),
            last_error: None,
            now,
        };
        let id = insert_delivery(&mut tx, &delivery).await?;
        let entry = Audit::new(
            Some(tenant_id),
            AuditAction::DeliveryReplayed,
            format!("Replayed delivery {} ({})", original.id, original.event_type),
        );
        self.audit_in(&mut tx, actor, entry.target(&original.id)).await?;
        tx.commit().await?;
        self.wake_workers();
        self.delivery_row(tenant_id, &id).await
    }

    pub(crate) async fn require_active_endpoint(&self, tenant_id: &str, endpoint_id: &str) -> Result<()> {
        let endpoint = self.endpoint_row(tenant_id, endpoint_id).await?;
        if endpoint.status != EndpointStatus::Active {
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
        let catalog = self.fresh_catalog().await?;
        let event = catalog
            .resolve(event_type.trim())
            .ok_or_else(|| Error::invalid("event_type", format!("\"{}\" is not an event type.", event_type.trim())))?;
        if self.tenant(tenant_id).await?.suspended {
            return Err(Error::Forbidden("This tenant is suspended: nothing is sent.".into()));
        }
        let now = self.clock.now();
        let message_id = ids::new_id("msg");
        let mut tx = self.store.begin().await?;
        execute_in!(
            &mut tx,
            sqlx::query("INSERT INTO messages (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&message_id)
                .bind(tenant_id)
                .bind(&event.name)
                .bind(event.sample.to_string())
                .bind(now)
        )?;
        // Not due: no worker claims it; it is sent right here.
        let delivery = NewDelivery {
            tenant_id,
            endpoint_id: &endpoint.id,
            message_id: &message_id,
            event_type: &event.name,
            status: DeliveryStatus::Pending,
            kind: DeliveryKind::Test,
            replay_of: None,
            due: None,
            last_error: None,
            now,
        };
        let id = insert_delivery(&mut tx, &delivery).await?;
        tx.commit().await?;
        let claimed = Claimed {
            id: id.clone(),
            tenant_id: tenant_id.to_string(),
            endpoint_id: endpoint.id,
            message_id,
            event_type: event.name.clone(),
            kind: DeliveryKind::Test,
            attempts: 0,
            lease_until: 0, // never leased: sent here, not by a worker
            due_at: now,
            throttled: false,
        };
        self.deliver(&claimed).await?;
        self.delivery(tenant_id, &id).await
    }

    /// The payload exactly as the endpoint receives it (the signed bytes), as `<message-id>.json`.
    pub async fn payload_file(&self, tenant_id: &str, delivery_id: &str) -> Result<PayloadFile> {
        let delivery = self.delivery_row(tenant_id, delivery_id).await?;
        crate::logs::require_not_archived(&delivery)?;
        let message = self.message(tenant_id, &delivery.message_id).await?;
        let shape = match self.endpoint_row(tenant_id, &delivery.endpoint_id).await {
            Ok(endpoint) => endpoint.payload_shape,
            Err(Error::NotFound(_)) => PayloadShape::Envelope,
            Err(e) => return Err(e),
        };
        let body = message.body(shape).ok_or_else(archived)?;
        Ok(PayloadFile { file_name: format!("{}.json", message.id), body })
    }
}
