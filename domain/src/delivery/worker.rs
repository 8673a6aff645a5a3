//! The worker loop: claim what is due, send it concurrently (bounded overall and per endpoint,
//! so a slow or dead endpoint cannot hold up the others), repeat. On shutdown it claims nothing
//! more, lets the deliveries in flight finish for up to `EngineSettings::shutdown_grace`, and
//! hands back the leases of any still unfinished, so another worker takes them at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::{Batch, Claimed};
use crate::Herald;

/// How often recovery jobs are looked at (each queues a second's worth when due).
const JOB_POLL: Duration = Duration::from_millis(250);
/// How long a worker lets finished slots gather before claiming again.
const CLAIM_COALESCE: Duration = Duration::from_millis(3);

/// Deliveries sent and not yet recorded, per slot for sending: the recorder commits them in
/// groups, so a slot is freed once its request is over, and this bounds how far sending may
/// run ahead of recording (a lease must not run out before its attempt is recorded).
const UNRECORDED_PER_SLOT: usize = 4;

#[derive(Clone)]
pub struct Worker {
    herald: Herald,
    /// Requests in flight at once.
    permits: Arc<Semaphore>,
    /// Deliveries claimed and not yet recorded.
    unrecorded: Arc<Semaphore>,
    /// Rung when a delivery finishes, so the loop can claim for the freed slot at once.
    finished: Arc<tokio::sync::Notify>,
    /// Claimed by this worker and not yet finished, by delivery id: what counts against each
    /// endpoint's limit, and what a shutdown hands back.
    claims: Arc<Mutex<HashMap<String, Claimed>>>,
}

impl Worker {
    pub fn new(herald: Herald) -> Worker {
        let permits = Arc::new(Semaphore::new(herald.engine.concurrency));
        let unrecorded = Arc::new(Semaphore::new(herald.engine.concurrency * UNRECORDED_PER_SLOT));
        Worker { herald, permits, unrecorded, finished: Arc::default(), claims: Arc::default() }
    }

    /// One endpoint id per delivery in flight in this process, so a claim tops each endpoint
    /// up to its limit and never past it.
    fn in_flight_ids(&self) -> Vec<String> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner()).values().map(|c| c.endpoint_id.clone()).collect()
    }

    /// Sends and records one delivery; its slot (`permit`, and its place in the endpoint's
    /// limit) is given back as soon as the request is over.
    async fn deliver(&self, claimed: Claimed, batch: &Batch, permit: Option<OwnedSemaphorePermit>) {
        let sent = || {
            self.claims.lock().unwrap_or_else(|p| p.into_inner()).remove(&claimed.id);
            drop(permit);
            self.finished.notify_one();
        };
        if let Err(err) = self.herald.deliver_in(&claimed, batch, sent).await {
            // The lease runs out and the delivery is claimed again: nothing is lost.
            tracing::error!(delivery_id = %claimed.id, error = ?err, "delivery not recorded; will be retried after its lease");
        }
    }

    fn hold(&self, claimed: &Claimed) {
        self.claims.lock().unwrap_or_else(|p| p.into_inner()).insert(claimed.id.clone(), claimed.clone());
    }

    /// Runs until `shutdown` turns true; then claims nothing more, waits up to the engine's
    /// `shutdown_grace` for the deliveries in flight, and hands back the leases of the rest.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let pacer = tokio::spawn(pace_jobs(self.herald.clone(), shutdown.clone()));
        let listener = tokio::spawn(super::wake::listen(self.herald.clone(), shutdown.clone()));
        let mut tasks = JoinSet::new();
        while !*shutdown.borrow() {
            while tasks.try_join_next().is_some() {}
            let free = self.permits.available_permits().min(self.unrecorded.available_permits());
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match self.herald.claim_due(free, self.herald.engine.per_endpoint, &self.in_flight_ids()).await {
                    Ok(c) => c,
                    Err(err) => {
                        tracing::error!(error = ?err, "claiming deliveries failed");
                        Vec::new()
                    }
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = self.herald.wake.notified() => {}
                    _ = self.finished.notified() => {
                        // Let a few more deliveries finish, so one claim refills several slots.
                        tokio::time::sleep(CLAIM_COALESCE).await;
                    }
                    _ = tokio::time::sleep(self.herald.engine.idle_poll) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let batch = match self.herald.load_batch(&claimed).await {
                Ok(batch) => Arc::new(batch),
                Err(err) => {
                    // Their leases run out and they are claimed again.
                    tracing::error!(error = ?err, "reading what claimed deliveries need failed");
                    continue;
                }
            };
            for delivery in claimed {
                let (Ok(permit), Ok(unrecorded)) =
                    (self.permits.clone().acquire_owned().await, self.unrecorded.clone().acquire_owned().await)
                else {
                    break;
                };
                self.hold(&delivery);
                let (worker, batch) = (self.clone(), batch.clone());
                tasks.spawn(async move {
                    worker.deliver(delivery, &batch, Some(permit)).await;
                    drop(unrecorded);
                });
            }
        }
        let grace = self.herald.engine.shutdown_grace;
        tracing::info!(in_flight = tasks.len(), ?grace, "worker stopping: claiming nothing more, finishing deliveries in flight");
        let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            let unfinished: Vec<Claimed> = self.claims.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
            match self.herald.release(&unfinished).await {
                Ok(released) => tracing::warn!(released, ?grace, "deliveries unfinished at shutdown handed back: due again at once"),
                Err(err) => tracing::error!(error = ?err, "could not hand back unfinished deliveries; their leases run out instead"),
            }
        }
        let _ = pacer.await;
        let _ = listener.await;
    }

    /// Delivers everything due now, concurrently, until nothing is due (tests and tools).
    pub async fn run_until_idle(&self) -> usize {
        let mut total = 0;
        loop {
            let claimed = match self.herald.claim_due(1000, 1000, &[]).await {
                Ok(c) if !c.is_empty() => c,
                _ => return total,
            };
            total += claimed.len();
            let Ok(batch) = self.herald.load_batch(&claimed).await.map(Arc::new) else { return total };
            let mut tasks = JoinSet::new();
            for delivery in claimed {
                let (worker, batch) = (self.clone(), batch.clone());
                self.hold(&delivery);
                tasks.spawn(async move { worker.deliver(delivery, &batch, None).await });
            }
            while tasks.join_next().await.is_some() {}
        }
    }
}

/// Moves the running recovery jobs along until `shutdown` turns true.
async fn pace_jobs(herald: Herald, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(err) = herald.advance_jobs().await {
            tracing::error!(error = ?err, "advancing recovery jobs failed; trying again");
        }
        tokio::select! {
            _ = tokio::time::sleep(JOB_POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}
