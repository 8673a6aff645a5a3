//! Wakes this process's worker when another process (a `--role web` server, say) queues
//! deliveries, so a split deployment has no polling delay. On PostgreSQL, a process that queued
//! deliveries sends `NOTIFY herald_due` after its commit, and workers LISTEN. The notifications
//! are sent from one task, outside the ingest transactions: a transaction that notifies takes a
//! global lock at commit, which would serialize every ingest; here one notification covers all
//! the commits made while the previous one was being sent, or in the short gap after it.
//! SQLite has no notifications; `PRAGMA data_version` changes when another connection commits,
//! and reading it touches no disk, so a dedicated connection checks it every few milliseconds.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use sqlx::ConnectOptions;
use tokio::sync::{watch, Notify};

use crate::store::Store;
use crate::Herald;

/// The PostgreSQL channel that says deliveries were queued.
pub const DUE_CHANNEL: &str = "herald_due";
/// How often SQLite's change counter is read.
const SQLITE_CHECK: Duration = Duration::from_millis(5);
/// The least time between two notifications. Each is a transaction of its own that takes a
/// global lock at commit: sent back to back under a steady stream of events, there was one per
/// event, and they cost PostgreSQL as much as the events. This caps them at 500 a second, and
/// a wake-up at 2 ms late.
const ANNOUNCE_GAP: Duration = Duration::from_millis(2);
/// How long to wait before listening again after the database went away.
const RETRY: Duration = Duration::from_secs(1);

/// PostgreSQL: sends one notification after each ring of `announce` (rings while it is sending
/// fold into the next one), until the pool is closed. Needs a Tokio runtime; without one (or on
/// SQLite) it does nothing.
pub fn spawn_announcer(store: &Store, announce: Arc<Notify>) {
    let (Store::Postgres(pool), Ok(runtime)) = (store, tokio::runtime::Handle::try_current()) else { return };
    runtime.spawn(announce_queued(pool.clone(), announce));
}

async fn announce_queued(pool: PgPool, announce: Arc<Notify>) {
    while !pool.is_closed() {
        tokio::select! {
            _ = announce.notified() => {}
            // Look at the pool now and then, so the task ends when it is closed.
            _ = tokio::time::sleep(RETRY) => continue,
        }
        if let Err(err) = sqlx::query("SELECT pg_notify($1, '')").bind(DUE_CHANNEL).execute(&pool).await {
            tracing::debug!(error = %err, "could not notify other workers; they find the deliveries at their next poll");
        }
        // Rings meanwhile are kept (one permit) and sent as one notification after the gap.
        tokio::time::sleep(ANNOUNCE_GAP).await;
    }
}

/// Rings `herald.wake` on every change another process commits, until `shutdown` turns true.
pub async fn listen(herald: Herald, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        let stopped = tokio::select! {
            result = watch_changes(&herald) => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "listening for queued deliveries failed; the worker polls meanwhile");
                }
                false
            }
            _ = shutdown.changed() => true,
        };
        if stopped {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Returns only on an error.
async fn watch_changes(herald: &Herald) -> Result<(), sqlx::Error> {
    match &herald.store {
        Store::Postgres(pool) => {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(DUE_CHANNEL).await?;
            loop {
                listener.recv().await?;
                herald.wake_workers();
            }
        }
        Store::Sqlite(pool) => {
            let mut connection = pool.connect_options().connect().await?;
            let mut seen: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(&mut connection).await?;
            loop {
                tokio::time::sleep(SQLITE_CHECK).await;
                let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(&mut connection).await?;
                if version != seen {
                    seen = version;
                    herald.wake_workers();
                }
            }
        }
    }
}
