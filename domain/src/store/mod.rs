//! Storage: one API over SQLite (embedded default) and PostgreSQL (production).
//!
//! Why a concrete enum and not generics or `sqlx::Any`: server functions and handlers cannot be
//! generic over a backend, and `Any` loses types (booleans, 64-bit integers) and compile-time
//! checks. Both databases use the same portable schema (text ids, integer epoch-millisecond
//! times, text JSON) and sqlx binds `$1, $2…` on both, so one SQL string usually serves both:
//! [`on_pool!`] and [`on_tx!`] expand the same code once per backend. Only where the dialects
//! really differ (row locks, upserts) does a module write two statements. Migrations live in
//! `migrations/sqlite` and `migrations/postgres`, with matching names, and run on start.

pub(crate) mod query;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either backend. SQLite transactions also hold this process's write turn.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>, WriteTurn),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// SQLite lets one writer in at a time and makes the others poll with growing sleeps, which
/// wrecks throughput under load. Writers of this process queue here instead, in order.
static SQLITE_WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This process's SQLite write turn; how long it was held goes to
/// [`crate::telemetry::SQLITE_WRITE_TURN_SECONDS`] when it ends.
pub struct WriteTurn {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    since: std::time::Instant,
    writer: &'static str,
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        metrics::histogram!(crate::telemetry::SQLITE_WRITE_TURN_SECONDS, "writer" => self.writer)
            .record(self.since.elapsed().as_secs_f64());
    }
}

/// Waits for this process's SQLite write turn (use around hot single-statement writes);
/// `writer` names what it is for in the metric: `ingest`, `claim`, `record` or `other`.
pub async fn sqlite_write_turn(writer: &'static str) -> WriteTurn {
    let turn = SQLITE_WRITES.lock().await;
    WriteTurn { _turn: turn, since: std::time::Instant::now(), writer }
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$store`.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the open transaction's connection (`&mut *$conn`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Executes `$query` (a `sqlx::query(…)` with its binds) in the open transaction `$tx` and
/// gives the number of rows it changed, as one type whichever the backend.
#[macro_export]
macro_rules! execute_in {
    ($tx:expr, $query:expr) => {
        $crate::on_tx!($tx, conn => $query.execute(conn).await.map(|done| done.rows_affected()))
    };
}

/// [`execute_in!`] on the pool of `$store`, outside a transaction.
#[macro_export]
macro_rules! execute_on {
    ($store:expr, $query:expr) => {
        $crate::on_pool!($store, pool => $query.execute(pool).await.map(|done| done.rows_affected()))
    };
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| Error::internal("DATABASE_URL", e))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| Error::internal("connect to PostgreSQL", e))?;
            Store::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::internal("DATABASE_URL", e))?
                .create_if_missing(true)
                // Takes effect on a new database only (see `archive`): archival then hands
                // freed pages back with `PRAGMA incremental_vacuum`.
                .auto_vacuum(SqliteAutoVacuum::Incremental)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // sqlx's SQLite thread hands rows over through a channel of this size and
                // waits when it is full: claims and ingest groups return hundreds of rows,
                // and each wait is another round of thread hand-offs inside the write turn.
                .row_buffer_size(1024);
            // No ping before each use: a file does not drop connections, and each ping was one
            // more hand-off to the connection's thread for every query (inside the write turn too).
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(|e| Error::internal("open SQLite", e))?;
            Store::Sqlite(pool)
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        let result = match self {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| Error::internal("migrate", e))
    }

    /// What keeps this database from serving this binary, in words for an operator (empty when
    /// ready): unreachable, or a migration this binary ships that is not applied, failed, or was
    /// applied in another form.
    pub async fn readiness_problems(&self) -> Vec<String> {
        let migrator = if self.is_postgres() { &POSTGRES_MIGRATIONS } else { &SQLITE_MIGRATIONS };
        let applied = on_pool!(self, pool => sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
            "SELECT version, success, checksum FROM _sqlx_migrations").fetch_all(pool).await);
        let applied: std::collections::HashMap<i64, (bool, Vec<u8>)> = match applied {
            Ok(rows) => rows.into_iter().map(|(version, success, checksum)| (version, (success, checksum))).collect(),
            Err(_) if !self.ping().await => return vec!["database unreachable".into()],
            Err(_) => return vec!["no migrations applied: run `herald migrate`".into()],
        };
        let mut problems = Vec::new();
        for migration in migrator.iter().filter(|m| !m.migration_type.is_down_migration()) {
            let name = format!("migration {} ({})", migration.version, migration.description);
            match applied.get(&migration.version) {
                None => problems.push(format!("{name} is not applied: run `herald migrate`")),
                Some((false, _)) => problems.push(format!("{name} failed part-way: fix the database, then run `herald migrate`")),
                Some((true, checksum)) if checksum.as_slice() != &*migration.checksum => {
                    problems.push(format!("{name} was applied from a different file than this release ships"))
                }
                Some(_) => {}
            }
        }
        problems
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    pub async fn begin(&self) -> Result<Tx> {
        self.begin_for("other").await
    }

    /// [`Store::begin`], naming the writer in the write-turn metric (see [`sqlite_write_turn`]).
    pub async fn begin_for(&self, writer: &'static str) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(pool) => {
                let turn = sqlite_write_turn(writer).await;
                // IMMEDIATE: take the write lock now. A deferred transaction that reads first
                // fails with "database is locked" if anyone else (another process, or a write
                // outside the turn) commits before its first write.
                Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// [`Store::begin`], for writes that may be lost in a crash without breaking at-least-once
    /// (claims and attempt records: the lease runs out and the delivery is sent again): on
    /// PostgreSQL their commit skips waiting for the disk flush, set in the same round trip as
    /// the `BEGIN`. Ingest never uses this: an accepted event is on disk before the 202.
    pub async fn begin_relaxed(&self, writer: &'static str) -> Result<Tx> {
        match self {
            Store::Postgres(pool) => Ok(Tx::Postgres(begin_relaxed(pool).await?)),
            Store::Sqlite(_) => self.begin_for(writer).await,
        }
    }

    /// On SQLite, this process's write turn, for a write outside a transaction: queued in
    /// order with the others instead of polling for the lock (and losing to a busy writer).
    pub async fn write_turn(&self) -> Option<WriteTurn> {
        match self {
            Store::Sqlite(_) => Some(sqlite_write_turn("other").await),
            Store::Postgres(_) => None,
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// See [`Store::begin_relaxed`].
pub(crate) async fn begin_relaxed(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    Ok(pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await?)
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
