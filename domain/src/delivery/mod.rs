//! The delivery engine. The `deliveries` table is the queue: a worker claims due rows with a
//! lease, sends them (HTTP or email), records the attempt and schedules what comes next in one
//! transaction. A worker that dies leaves its lease to expire, and the row is claimed again:
//! at-least-once, and nothing accepted is lost.
//!
//! [`Herald::deliver`] takes a claimed delivery through the steps, one submodule each: `claim`
//! (due rows, leased), `send` (HTTP or email) and `record` (the attempt, the next step, the
//! endpoint's stats and health). `snapshot` is the masked request both this and the log show.

mod claim;
pub mod http;
pub(crate) mod record;
pub mod retry;
mod send;
pub mod sign;
pub mod snapshot;
pub mod throttle;
pub mod wake;
pub mod worker;

use std::collections::HashMap;
use std::time::Duration;
use types::{Channel, DeliveryKind, EndpointStatus};

use crate::endpoints::EndpointRow;
use crate::error::{Error, Result};
use crate::messages::Message;
use crate::tenants::Tenant;
use crate::Herald;

pub use claim::{ClaimCursor, Claimed};
pub use send::AttemptRecord;

pub const USER_AGENT: &str = concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Response bodies are stored up to this size.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// How the engine behaves; tests shorten the waits.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub timeout: Duration,
    /// How long a claim holds before another worker may take the delivery over.
    pub lease: Duration,
    /// Deliveries in flight at once, per worker process.
    pub concurrency: usize,
    /// Deliveries in flight at once to one endpoint, per worker process.
    pub per_endpoint: usize,
    /// How long a stopping worker lets deliveries in flight finish before handing them back.
    pub shutdown_grace: Duration,
    /// How long an idle worker waits before looking again, when nothing wakes it (ingest in
    /// this process, or another process's commit: see [`wake`]).
    pub idle_poll: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            concurrency: 64,
            per_endpoint: types::DEFAULT_IN_FLIGHT,
            shutdown_grace: Duration::from_secs(10),
            idle_poll: Duration::from_millis(250),
        }
    }
}

/// What one claim's deliveries need, read once for the whole claim (often many deliveries to a
/// few endpoints): their endpoints, tenants and messages.
#[derive(Default)]
pub struct Batch {
    endpoints: HashMap<String, EndpointRow>,
    tenants: HashMap<String, Tenant>,
    messages: HashMap<String, Message>,
}

impl Herald {
    /// Reads what `claimed` needs: its endpoints, tenants and messages, one query each (an
    /// endpoint deleted meanwhile is missing, and its deliveries went with it).
    pub async fn load_batch(&self, claimed: &[Claimed]) -> Result<Batch> {
        let distinct = |id: fn(&Claimed) -> &str| {
            let mut ids: Vec<&str> = claimed.iter().map(id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let endpoints: Vec<EndpointRow> = self.endpoint_rows_by_id(&distinct(|c| &c.endpoint_id)).await?;
        let tenants: Vec<Tenant> = self.tenants_by_id(&distinct(|c| &c.tenant_id)).await?;
        let messages = self.messages_by_id(&distinct(|c| &c.message_id)).await?;
        Ok(Batch {
            // Each delivery checks its endpoint's tenant against its own below.
            endpoints: endpoints.into_iter().map(|e| (e.id.clone(), e)).collect(),
            tenants: tenants.into_iter().map(|t| (t.id.clone(), t)).collect(),
            messages: messages.into_iter().map(|m| (m.id.clone(), m)).collect(),
        })
    }

    /// Sends one claimed delivery and records the outcome.
    pub async fn deliver(&self, claimed: &Claimed) -> Result<()> {
        let batch = self.load_batch(std::slice::from_ref(claimed)).await?;
        self.deliver_in(claimed, &batch, || {}).await
    }

    /// Sends one delivery of a claim whose [`Batch`] was read, and records the outcome.
    /// `sent` is called once the request is over (answered, failed, or not needed), before the
    /// outcome is recorded: the endpoint no longer has it in flight, though its lease holds
    /// until the record is committed.
    pub async fn deliver_in(&self, claimed: &Claimed, batch: &Batch, sent: impl FnOnce()) -> Result<()> {
        let attempted = self.attempt(claimed, batch).await;
        sent();
        match attempted? {
            Attempted::Gone => Ok(()),
            Attempted::Skipped(reason) => self.skip(claimed, reason).await,
            Attempted::Sent { endpoint, record, verdict, created_at } => {
                self.record_attempt(claimed, endpoint, record, verdict).await?;
                if verdict == retry::Verdict::Succeeded && claimed.kind == DeliveryKind::Event {
                    self.observe_ingest_to_delivery(created_at);
                }
                Ok(())
            }
        }
    }

    /// Sends the delivery, unless it is to be skipped.
    async fn attempt<'a>(&self, claimed: &Claimed, batch: &'a Batch) -> Result<Attempted<'a>> {
        let Some(endpoint) = batch.endpoints.get(&claimed.endpoint_id).filter(|e| e.tenant_id == claimed.tenant_id) else {
            return Ok(Attempted::Gone);
        };
        let tenant = batch.tenants.get(&claimed.tenant_id).ok_or(Error::NotFound("tenant"))?;
        let skip_reason = if !tenant.webhooks_enabled {
            Some("Webhooks are switched off for this workspace")
        } else if tenant.suspended {
            Some("The workspace is suspended")
        } else if endpoint.status != EndpointStatus::Active && claimed.kind != DeliveryKind::Test {
            // A test may check a receiver before the endpoint is reactivated.
            Some("Endpoint inactive")
        } else {
            None
        };
        if let Some(reason) = skip_reason {
            return Ok(Attempted::Skipped(reason));
        }
        let message =
            batch.messages.get(&claimed.message_id).filter(|m| m.tenant_id == claimed.tenant_id).ok_or(Error::NotFound("message"))?;
        if message.payload.is_none() {
            return Ok(Attempted::Skipped("The payload was archived"));
        }
        let (record, verdict) = if endpoint.channel == Channel::Email {
            self.send_email(endpoint, message).await
        } else {
            self.send_http(endpoint, message, tenant.allow_private_urls).await
        };
        Ok(Attempted::Sent { endpoint, record, verdict, created_at: message.created_at })
    }
}

/// What became of a claimed delivery before its outcome is recorded.
enum Attempted<'a> {
    /// Its endpoint was deleted meanwhile; its deliveries went with it.
    Gone,
    Skipped(&'static str),
    Sent {
        endpoint: &'a EndpointRow,
        record: AttemptRecord,
        verdict: retry::Verdict,
        created_at: i64,
    },
}
