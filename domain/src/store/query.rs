//! Listing queries assembled from the filters in use (so every query can use an index), with
//! numbered binds that both databases understand, and keyset pages.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::{Error, Result};
use crate::store::{Store, Tx};

/// A bind value.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    /// Typed even when NULL: PostgreSQL types a `VALUES` column by its binds.
    MaybeText(Option<String>),
    MaybeInt(Option<i64>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::MaybeText(v.map(str::to_string))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::MaybeInt(v)
    }
}

/// Binds `$args` (`Arg`s) to `$query` in order.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::MaybeText(v) => query.bind(v),
                Arg::MaybeInt(v) => query.bind(v),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// Statements sent in one round trip, their placeholders numbered across all of them. SQLite
/// runs them in order from one string: one hand-off to its connection's thread instead of one
/// per statement, each of which held the write turn while the thread was scheduled. PostgreSQL
/// prepares one statement at a time, so there all but the last become data-modifying `WITH`
/// parts of the last: on PostgreSQL they must not depend on each other's effects (one snapshot).
#[derive(Default)]
pub(crate) struct Statements {
    parts: Vec<String>,
    args: Vec<Arg>,
}

impl Statements {
    /// Adds `sql(first)`, a statement whose placeholders are numbered from `$first`, and its binds.
    pub fn push(&mut self, sql: impl FnOnce(usize) -> String, args: impl IntoIterator<Item = Arg>) {
        self.parts.push(sql(self.args.len() + 1));
        self.args.extend(args);
    }

    /// Binds so far.
    pub fn binds(&self) -> usize {
        self.args.len()
    }

    /// Whether the connection keeps them prepared: not when large. Multi-row writes come in many
    /// sizes (and, across many endpoints, in many shapes), each a statement of its own; a hundred
    /// large ones kept per connection took 30 MiB with a thousand endpoints, and preparing one
    /// costs little beside running it.
    fn kept(&self) -> bool {
        self.args.len() <= 1_000
    }

    fn sql(&self, postgres: bool) -> String {
        match self.parts.split_last() {
            Some((last, before)) if postgres && !before.is_empty() => {
                let parts: Vec<String> = before.iter().enumerate().map(|(i, part)| format!("s{i} AS ({part})")).collect();
                format!("WITH {} {last}", parts.join(", "))
            }
            _ => self.parts.join(";\n"),
        }
    }

    /// Runs them in the open transaction.
    pub async fn execute_in(self, tx: &mut Tx) -> Result<()> {
        self.fetch_all_in::<()>(tx).await.map(|_| ())
    }

    /// Runs them in the open transaction; the rows they return.
    pub async fn fetch_all_in<T>(self, tx: &mut Tx) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        if self.parts.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = matches!(tx, Tx::Postgres(_));
        let sql = if postgres { self.sql(true) } else { sqlite_placeholders(self.sql(false)) };
        Ok(crate::on_tx!(tx, conn => bind_args!(sqlx::query_as::<_, T>(&sql).persistent(self.kept()), self.args).fetch_all(conn).await)?)
    }

    /// SQLite: runs them as a transaction of their own, in this process's write turn, with its
    /// `BEGIN IMMEDIATE` and `COMMIT` in the same call: one hand-off to the connection's thread
    /// for the whole turn instead of three. The rows they return.
    pub async fn commit_sqlite<T>(self, pool: &sqlx::SqlitePool, writer: &'static str) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
    {
        let sql = sqlite_placeholders(format!("BEGIN IMMEDIATE;\n{};\nCOMMIT", self.sql(false)));
        let _turn = crate::store::sqlite_write_turn(writer).await;
        let mut conn = ClosedUnlessDone(Some(pool.acquire().await?));
        let connection = conn.0.as_mut().expect("just acquired");
        let result = bind_args!(sqlx::query_as::<_, T>(&sql).persistent(self.kept()), self.args).fetch_all(&mut **connection).await;
        match result {
            Ok(rows) => {
                conn.0.take();
                Ok(rows)
            }
            Err(err) => {
                // Whatever failed, nothing stays half-written; the connection is then closed
                // (see `ClosedUnlessDone`) in case the rollback did not go through either.
                let _ = sqlx::query("ROLLBACK").execute(&mut **connection).await;
                Err(err.into())
            }
        }
    }
}

/// A connection that may have a transaction open: closed when dropped, unless taken out once
/// the transaction is over (a cancelled or failed call must not leave one open for the next).
struct ClosedUnlessDone(Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>);

impl Drop for ClosedUnlessDone {
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            conn.close_on_drop();
        }
    }
}

/// `($first, …), (…)`: `rows` groups of `columns` numbered placeholders.
pub(crate) fn value_rows(first: usize, rows: usize, columns: usize) -> String {
    (0..rows).map(|r| format!("({})", value_list(first + r * columns, columns))).collect::<Vec<_>>().join(", ")
}

/// `$first, $first+1, …` for `n` values.
pub(crate) fn value_list(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// SQLite: `sql` with `$1, $2, …` made anonymous (`?`) when they appear in that order, each
/// once (as multi-row writes number them), else unchanged. SQLite looks each named placeholder
/// up by name, in a list, while it prepares the statement and again while sqlx binds it: a
/// statement of a few thousand binds cost millions of string compares (`strncmp` and
/// `sqlite3_bind_parameter_name` were a fifth of Herald's CPU with 1,000 endpoints). sqlx binds
/// anonymous ones in order, across the statements of one call.
pub(crate) fn sqlite_placeholders(sql: String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut next = 1;
    let mut rest = sql.as_str();
    while let Some(at) = rest.find('$') {
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if rest[at + 1..at + 1 + digits].parse::<usize>().ok() != Some(next) {
            return sql;
        }
        out.push_str(&rest[..at]);
        out.push('?');
        rest = &rest[at + 1 + digits..];
        next += 1;
    }
    out.push_str(rest);
    out
}

/// `WHERE` conditions and their binds.
#[derive(Default)]
pub(crate) struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// Adds a condition; each `?` in it becomes the next `$n`, bound to the next of `values`.
    pub fn push(&mut self, sql: &str, values: impl IntoIterator<Item = Arg>) {
        let mut sql = sql.to_string();
        for value in values {
            self.args.push(value);
            sql = sql.replacen('?', &format!("${}", self.args.len()), 1);
        }
        self.sql.push(sql);
    }

    /// `WHERE a AND b`, or nothing.
    pub fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    /// Runs `sql` (which embeds [`Conditions::where_clause`]) with the binds.
    pub async fn fetch_all<T>(self, store: &Store, sql: &str) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(crate::on_pool!(store, pool => bind_args!(sqlx::query_as::<_, T>(sql), self.args).fetch_all(pool).await)?)
    }
}

/// The rows of `select` (a query ending in `WHERE <id column>`) whose id is one of `ids`, in
/// one query per 500 ids.
pub(crate) async fn fetch_by_ids<T>(store: &Store, select: &str, ids: &[&str]) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = format!("{select} IN ({})", value_list(1, chunk.len()));
        if !store.is_postgres() {
            sql = sqlite_placeholders(sql);
        }
        let rows = crate::on_pool!(store, pool => {
            let mut query = sqlx::query_as::<_, T>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        found.extend(rows);
    }
    Ok(found)
}

/// A page size from the request: 50 by default, 1 to 200.
pub(crate) fn page_size(limit: Option<i64>) -> Result<i64> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit", "limit must be between 1 and 200."));
    }
    Ok(limit)
}

/// Cuts the `limit + 1` rows fetched down to `limit`; the cursor of the next page, if any, is
/// the last row's.
pub(crate) fn keyset_page<T>(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// A `created_at.id` cursor, as [`keyset_page`] makes them for time-ordered lists.
pub(crate) fn parse_time_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || Error::invalid("cursor", "The cursor is not one this API returned.");
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_the_first_free_number() {
        assert_eq!(value_list(2, 3), "$2, $3, $4");
        assert_eq!(value_rows(3, 2, 2), "($3, $4), ($5, $6)");
    }

    #[test]
    fn statements_number_their_binds_across_all_of_them() {
        let mut statements = Statements::default();
        statements.push(|first| format!("INSERT INTO a VALUES {}", value_rows(first, 2, 1)), [Arg::from(1), Arg::from(2)]);
        statements.push(|first| format!("UPDATE b SET x = ${first}"), [Arg::from("x")]);
        assert_eq!(statements.binds(), 3);
        assert_eq!(statements.sql(false), "INSERT INTO a VALUES ($1), ($2);\nUPDATE b SET x = $3");
        assert_eq!(statements.sql(true), "WITH s0 AS (INSERT INTO a VALUES ($1), ($2)) UPDATE b SET x = $3");
    }

    #[test]
    fn sqlite_placeholders_become_anonymous_only_when_in_order_and_used_once() {
        let in_order = "BEGIN;\nINSERT INTO a VALUES ($1, $2), ($3, $4);\nUPDATE b SET x = $5 WHERE y = $6;\nCOMMIT";
        assert_eq!(
            sqlite_placeholders(in_order.into()),
            "BEGIN;\nINSERT INTO a VALUES (?, ?), (?, ?);\nUPDATE b SET x = ? WHERE y = ?;\nCOMMIT"
        );
        assert_eq!(sqlite_placeholders("SELECT 1".into()), "SELECT 1");
        // Reused, out of order (`$1, $3` and `$1, $10` skip `$2`), or beside a literal `$`: left as they are.
        for kept in ["SELECT $1 WHERE a = $1", "SELECT $2, $1", "SELECT $1, $3", "SELECT '$' || $1", "SELECT $1, $10"] {
            assert_eq!(sqlite_placeholders(kept.into()), kept);
        }
        let many = value_list(1, 12);
        assert_eq!(sqlite_placeholders(many), ["?"; 12].join(", "));
    }
}
