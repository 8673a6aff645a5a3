//! Listing queries assembled from the filters in use (so every query can use an index), with
//! numbered binds that both databases understand, and keyset pages.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::{Error, Result};
use crate::store::Store;

/// A bind value.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
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
        Ok(crate::on_pool!(store, pool => {
            let mut query = sqlx::query_as::<_, T>(sql);
            for arg in self.args {
                query = match arg {
                    Arg::Text(v) => query.bind(v),
                    Arg::Int(v) => query.bind(v),
                };
            }
            query.fetch_all(pool).await
        })?)
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
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{select} IN ({})", placeholders.join(", "));
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
