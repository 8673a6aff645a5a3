//! Archival: once a message is older than its tenant's retention (60 days unless an operator
//! set another), its payload and the response bodies of its deliveries' attempts are deleted;
//! the metadata stays (time, event type, status, code, attempts, duration, the masked request
//! line and headers), and so does the hourly `endpoint_stats` rollup.
//!
//! It runs in small batches, each in its own short transaction (on SQLite that is one write
//! turn, so deliveries and the dashboard interleave with it), with a pause between batches.
//! Every statement only touches rows not archived yet, so it is idempotent and several
//! processes may run it at once. Messages with a delivery still due are left for a later run.
//!
//! Space: new SQLite databases are created with `auto_vacuum = INCREMENTAL` (see
//! `store::Store::connect`), and each batch hands up to `vacuum_pages` free pages back to the
//! file system with `PRAGMA incremental_vacuum`. A database created before that setting keeps
//! `auto_vacuum = NONE` (switching needs a full `VACUUM`, which locks the database for its
//! whole run, so Herald does not do it on its own): there, freed pages go to SQLite's free
//! list and are reused by new rows, the file just does not shrink. PostgreSQL's dead tuples
//! are left to autovacuum.

use std::time::Duration;

use serde::Serialize;

use crate::clock::DAY;
use crate::error::Result;
use crate::store::Store;
use crate::{execute_in, on_pool, on_tx, Herald};

#[derive(Clone, Debug)]
pub struct ArchiveSettings {
    /// Messages per batch (their deliveries and attempts go with them).
    pub batch: i64,
    /// Rest between two batches, so other writers get their turn.
    pub pause: Duration,
    /// SQLite pages freed per batch.
    pub vacuum_pages: i64,
}

impl Default for ArchiveSettings {
    fn default() -> Self {
        ArchiveSettings { batch: 200, pause: Duration::from_millis(50), vacuum_pages: 2000 }
    }
}

/// What one run archived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ArchiveReport {
    pub messages: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub batches: u64,
}

impl Herald {
    /// Archives everything past retention now, with the default batches and pauses.
    pub async fn archive_once(&self) -> Result<ArchiveReport> {
        self.archive_with(&ArchiveSettings::default()).await
    }

    pub async fn archive_with(&self, settings: &ArchiveSettings) -> Result<ArchiveReport> {
        let now = self.clock.now();
        let tenants: Vec<(String, i64)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT id, retention_days FROM tenants ORDER BY id").fetch_all(pool).await)?;
        let mut report = ArchiveReport::default();
        for (tenant_id, days) in tenants {
            let cutoff = now - days.max(1) * DAY;
            loop {
                let batch = self.archive_batch(&tenant_id, cutoff, now, settings.batch.max(1)).await?;
                if batch.messages == 0 {
                    break;
                }
                report.messages += batch.messages;
                report.deliveries += batch.deliveries;
                report.attempts += batch.attempts;
                report.batches += 1;
                self.reclaim_space(settings.vacuum_pages).await;
                if (batch.messages as i64) < settings.batch {
                    break;
                }
                tokio::time::sleep(settings.pause).await;
            }
        }
        if report.messages > 0 {
            tracing::info!(messages = report.messages, deliveries = report.deliveries, batches = report.batches, "archived");
        }
        Ok(report)
    }

    /// Archives up to `limit` of the tenant's oldest messages created before `cutoff`.
    async fn archive_batch(&self, tenant_id: &str, cutoff: i64, now: i64, limit: i64) -> Result<ArchiveReport> {
        let mut tx = self.store.begin().await?;
        let ids: Vec<(String,)> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT m.id FROM messages m
             WHERE m.tenant_id = $1 AND m.archived_at IS NULL AND m.created_at < $2
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.next_attempt_at IS NOT NULL)
             ORDER BY m.created_at LIMIT $3")
            .bind(tenant_id).bind(cutoff).bind(limit).fetch_all(conn).await)?;
        if ids.is_empty() {
            return Ok(ArchiveReport::default());
        }
        let list = crate::store::query::value_list(2, ids.len());
        let messages_sql = format!("UPDATE messages SET payload = NULL, archived_at = $1 WHERE archived_at IS NULL AND id IN ({list})");
        let deliveries_sql = format!("UPDATE deliveries SET archived_at = $1 WHERE archived_at IS NULL AND message_id IN ({list})");
        let attempts_sql = format!(
            "UPDATE attempts SET response_body = NULL WHERE response_body IS NOT NULL
             AND delivery_id IN (SELECT id FROM deliveries WHERE message_id IN ({}))",
            crate::store::query::value_list(1, ids.len())
        );
        let messages = execute_in!(&mut tx, ids.iter().fold(sqlx::query(&messages_sql).bind(now), |q, (id,)| q.bind(id)))?;
        let deliveries = execute_in!(&mut tx, ids.iter().fold(sqlx::query(&deliveries_sql).bind(now), |q, (id,)| q.bind(id)))?;
        let attempts = execute_in!(&mut tx, ids.iter().fold(sqlx::query(&attempts_sql), |q, (id,)| q.bind(id)))?;
        tx.commit().await?;
        Ok(ArchiveReport { messages, deliveries, attempts, batches: 1 })
    }

    /// SQLite: gives freed pages back to the file system (a no-op unless the database uses
    /// incremental auto-vacuum). PostgreSQL: autovacuum's job.
    async fn reclaim_space(&self, pages: i64) {
        if let Store::Sqlite(pool) = &self.store {
            let _turn = crate::store::sqlite_write_turn("other").await;
            let sql = format!("PRAGMA incremental_vacuum({})", pages.max(1));
            if let Err(err) = sqlx::query(&sql).fetch_all(pool).await {
                tracing::warn!(error = %err, "incremental vacuum failed");
            }
        }
    }

    /// `auto_vacuum` of a SQLite database: 0 none, 1 full, 2 incremental (`None` on PostgreSQL).
    pub async fn sqlite_auto_vacuum(&self) -> Result<Option<i64>> {
        match &self.store {
            Store::Sqlite(pool) => {
                let (mode,): (i64,) = sqlx::query_as("PRAGMA auto_vacuum").fetch_one(pool).await?;
                Ok(Some(mode))
            }
            Store::Postgres(_) => Ok(None),
        }
    }
}
