//! The worker loop: claim what is due, send it concurrently (bounded overall and per endpoint,
//! so a slow or dead endpoint cannot hold up the others), repeat. Each endpoint has a lane: the
//! worker claims up to [`AHEAD`] times the endpoint's limit, sends up to the limit, and the
//! rest waits in the lane, so a finished request hands its slot straight to the next delivery
//! instead of waiting for the next claim's round trip.
//!
//! On shutdown it claims nothing more and starts nothing waiting, lets the deliveries in flight
//! finish for up to `EngineSettings::shutdown_grace`, and hands back the leases of the rest
//! (waiting, or still unanswered), so another worker takes them at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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

/// Claimed ahead of sending: a worker holds up to this many times its limits (overall and per
/// endpoint), sending up to the limits while the rest waits its turn in the endpoint's lane.
pub const AHEAD: usize = 2;

#[derive(Clone)]
pub struct Worker {
    herald: Herald,
    /// Requests in flight at once.
    permits: Arc<Semaphore>,
    /// Deliveries claimed and not yet recorded.
    unrecorded: Arc<Semaphore>,
    /// Rung when a delivery's request is over, so the loop can claim for the freed slot.
    finished: Arc<Notify>,
    /// Claimed by this worker and not yet sent, by endpoint: what counts against each
    /// endpoint's limit, and what a shutdown hands back.
    lanes: Arc<Mutex<Lanes>>,
    sends: TaskTracker,
    /// Cancelled when the shutdown grace is over: requests still unanswered are dropped.
    abandon: CancellationToken,
}

#[derive(Default)]
struct Lanes {
    by_endpoint: HashMap<String, Lane>,
    /// Claimed and not yet sent, in all lanes.
    held: usize,
    /// Shutting down: start nothing more.
    closed: bool,
}

#[derive(Default)]
struct Lane {
    waiting: VecDeque<Waiting>,
    sending: Vec<Claimed>,
}

struct Waiting {
    claimed: Claimed,
    batch: Arc<Batch>,
    /// Its place among the deliveries claimed and not yet recorded.
    unrecorded: OwnedSemaphorePermit,
}

impl Worker {
    pub fn new(herald: Herald) -> Worker {
        let permits = Arc::new(Semaphore::new(herald.engine.concurrency));
        let unrecorded = Arc::new(Semaphore::new(herald.engine.concurrency * UNRECORDED_PER_SLOT));
        Worker {
            herald,
            permits,
            unrecorded,
            finished: Arc::default(),
            lanes: Arc::default(),
            sends: TaskTracker::new(),
            abandon: CancellationToken::new(),
        }
    }

    fn lanes(&self) -> MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One endpoint id per delivery held (waiting or sending), so a claim tops each endpoint up
    /// to its limit and never past it.
    fn held_ids(&self) -> Vec<String> {
        let lanes = self.lanes();
        let mut ids = Vec::with_capacity(lanes.held);
        for (endpoint_id, lane) in &lanes.by_endpoint {
            ids.extend(std::iter::repeat_n(endpoint_id, lane.waiting.len() + lane.sending.len()).cloned());
        }
        ids
    }

    /// Puts claimed deliveries in their endpoints' lanes and starts what their limits allow.
    fn enqueue(&self, claimed: Vec<Claimed>, batch: Arc<Batch>, permits: Vec<OwnedSemaphorePermit>) {
        let mut lanes = self.lanes();
        let mut touched = Vec::new();
        for (claimed, unrecorded) in claimed.into_iter().zip(permits) {
            lanes.held += 1;
            let endpoint_id = claimed.endpoint_id.clone();
            lanes.by_endpoint.entry(endpoint_id.clone()).or_default().waiting.push_back(Waiting {
                claimed,
                batch: batch.clone(),
                unrecorded,
            });
            if !touched.contains(&endpoint_id) {
                touched.push(endpoint_id);
            }
        }
        for endpoint_id in touched {
            self.start_waiting(&mut lanes, &endpoint_id);
        }
    }

    /// Starts an endpoint's waiting deliveries, oldest first, while it has room. A throttled
    /// endpoint's were claimed within its own limits (see [`super::throttle`]): all start.
    fn start_waiting(&self, lanes: &mut Lanes, endpoint_id: &str) {
        if lanes.closed {
            return;
        }
        let Some(lane) = lanes.by_endpoint.get_mut(endpoint_id) else { return };
        while let Some(next) = lane.waiting.front() {
            if !next.claimed.throttled && lane.sending.len() >= self.herald.engine.per_endpoint {
                break;
            }
            let next = lane.waiting.pop_front().expect("a front");
            lane.sending.push(next.claimed.clone());
            self.sends.spawn(self.clone().send(next));
        }
        if lane.waiting.is_empty() && lane.sending.is_empty() {
            lanes.by_endpoint.remove(endpoint_id);
        }
    }

    /// Sends and records one delivery. Its slot (`permits`, and its place in the endpoint's
    /// lane) goes to the next waiting delivery as soon as the request is over.
    async fn send(self, waiting: Waiting) {
        let Waiting { claimed, batch, unrecorded } = waiting;
        let Ok(permit) = self.permits.clone().acquire_owned().await else { return };
        if self.lanes().closed {
            // Shutting down while it waited for a slot: it stays in `sending`, handed back.
            return;
        }
        let sent = || {
            drop(permit);
            let mut lanes = self.lanes();
            lanes.held -= 1;
            if let Some(lane) = lanes.by_endpoint.get_mut(&claimed.endpoint_id) {
                lane.sending.retain(|c| c.id != claimed.id);
            }
            self.start_waiting(&mut lanes, &claimed.endpoint_id);
            drop(lanes);
            self.finished.notify_one();
        };
        let half_lease = self.herald.engine.lease.as_millis() as crate::clock::Millis / 2;
        if self.herald.clock.now() + half_lease >= claimed.lease_until {
            // It waited in its lane for half its lease: the rest may run out mid-request, and
            // another worker send it too. Hand it back instead.
            sent();
            if let Err(err) = self.herald.release(std::slice::from_ref(&claimed)).await {
                tracing::error!(error = ?err, "could not hand back a delivery; its lease runs out instead");
            }
            return;
        }
        tokio::select! {
            delivered = self.herald.deliver_in(&claimed, &batch, sent) => if let Err(err) = delivered {
                // The lease runs out and the delivery is claimed again: nothing is lost.
                tracing::error!(delivery_id = %claimed.id, error = ?err, "delivery not recorded; will be retried after its lease");
            },
            // Still in its lane's `sending`: handed back below.
            _ = self.abandon.cancelled() => {}
        }
        drop(unrecorded);
    }

    /// Runs until `shutdown` turns true; then claims nothing more, waits up to the engine's
    /// `shutdown_grace` for the deliveries in flight, and hands back the leases of the rest.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let pacer = tokio::spawn(pace_jobs(self.herald.clone(), shutdown.clone()));
        let listener = tokio::spawn(super::wake::listen(self.herald.clone(), shutdown.clone()));
        let engine = &self.herald.engine;
        while !*shutdown.borrow() {
            let held = self.lanes().held;
            let room = (AHEAD * engine.concurrency).saturating_sub(held).min(self.unrecorded.available_permits());
            let claimed = if room == 0 {
                Vec::new()
            } else {
                match self.herald.claim_due(room, AHEAD * engine.per_endpoint, &self.held_ids()).await {
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
                    _ = tokio::time::sleep(engine.idle_poll) => {}
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
            let mut permits = Vec::with_capacity(claimed.len());
            for _ in 0..claimed.len() {
                // At once: the claim took no more than were free.
                let Ok(permit) = self.unrecorded.clone().acquire_owned().await else { return };
                permits.push(permit);
            }
            self.enqueue(claimed, batch, permits);
        }
        let grace = engine.shutdown_grace;
        // Nothing waiting starts now; it is handed back below with whatever outlives the grace.
        self.lanes().closed = true;
        self.sends.close();
        tracing::info!(in_flight = self.sends.len(), ?grace, "worker stopping: claiming nothing more, finishing deliveries in flight");
        if tokio::time::timeout(grace, self.sends.wait()).await.is_err() {
            self.abandon.cancel();
            self.sends.wait().await;
        }
        let unfinished: Vec<Claimed> = {
            let mut lanes = self.lanes();
            let lanes = std::mem::take(&mut lanes.by_endpoint);
            lanes.into_values().flat_map(|lane| lane.sending.into_iter().chain(lane.waiting.into_iter().map(|w| w.claimed))).collect()
        };
        if !unfinished.is_empty() {
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
                let (herald, batch) = (self.herald.clone(), batch.clone());
                tasks.spawn(async move {
                    if let Err(err) = herald.deliver_in(&delivery, &batch, || {}).await {
                        tracing::error!(delivery_id = %delivery.id, error = ?err, "delivery not recorded; will be retried after its lease");
                    }
                });
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
