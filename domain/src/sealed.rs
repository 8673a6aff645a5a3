//! Checking the server key against what the database holds, on every start.
//!
//! A known value (the canary) is sealed at the first start. A start with another key cannot open
//! it and refuses to run, instead of failing secret by secret later (or, as before, dropping an
//! auth header on the next save). Values sealed by releases before row binding (`v1:`) are
//! re-sealed bound to their row and column on the way.

use crate::crypto::{context, UNBOUND};
use crate::{execute_in, execute_on, on_pool, Herald};

const CANARY: &str = "Herald secret key canary";
const CANARY_CONTEXT: &str = "secret_canary.sealed:1";
/// Endpoint columns that hold sealed values.
const SEALED_COLUMNS: [&str; 3] = ["auth_header_value", "secret", "previous_secret"];

/// What the operator reads when the key does not fit the data.
pub const KEY_MISMATCH: &str = "HERALD_SECRET_KEY is not the key this database's secrets were sealed with. Start Herald with the \
    original key (without HERALD_SECRET_KEY: the secret.key file of the data directory it was created with); a new key cannot \
    read the stored auth headers and signing secrets.";

#[derive(sqlx::FromRow)]
struct SealedRow {
    id: String,
    auth_header_value: Option<String>,
    secret: Option<String>,
    previous_secret: Option<String>,
}

impl Herald {
    /// Refuses to start (with [`KEY_MISMATCH`]) when the configured key cannot open what is
    /// stored; seals the canary on the first start and upgrades unbound values.
    pub async fn check_secret_key(&self) -> Result<(), String> {
        let failed = |e: crate::Error| format!("checking the secret key: {e:?}");
        let canary = self.canary().await.map_err(failed)?;
        if let Some(sealed) = &canary {
            if self.cipher.open(sealed, CANARY_CONTEXT).ok().as_deref() != Some(CANARY) {
                return Err(KEY_MISMATCH.into());
            }
        }
        self.upgrade_unbound_values().await?;
        if canary.is_none() {
            let sealed = self.cipher.seal(CANARY, CANARY_CONTEXT).map_err(failed)?;
            execute_on!(
                &self.store,
                sqlx::query("INSERT INTO secret_canary (id, sealed, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
                    .bind(&sealed)
                    .bind(self.clock.now())
            )
            .map_err(|e| failed(e.into()))?;
            // Another process may have sealed its own at the same moment, with its own key.
            let stored = self.canary().await.map_err(failed)?.unwrap_or_default();
            if self.cipher.open(&stored, CANARY_CONTEXT).ok().as_deref() != Some(CANARY) {
                return Err(KEY_MISMATCH.into());
            }
        }
        Ok(())
    }

    async fn canary(&self) -> crate::Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(&self.store, pool => sqlx::query_as("SELECT sealed FROM secret_canary WHERE id = 1")
            .fetch_optional(pool).await)?;
        Ok(row.map(|(sealed,)| sealed))
    }

    /// Re-seals `v1:` values bound to their row and column, in one transaction. A value that
    /// does not open means the key changed: refuse.
    async fn upgrade_unbound_values(&self) -> Result<(), String> {
        let failed = |e: crate::Error| format!("upgrading sealed values: {e:?}");
        let unbound = format!("{UNBOUND}%");
        let rows: Vec<SealedRow> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT id, auth_header_value, secret, previous_secret FROM endpoints
             WHERE auth_header_value LIKE $1 OR secret LIKE $1 OR previous_secret LIKE $1")
            .bind(&unbound).fetch_all(pool).await)
        .map_err(|e| failed(e.into()))?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await.map_err(failed)?;
        let mut upgraded = 0;
        for row in &rows {
            let values = [&row.auth_header_value, &row.secret, &row.previous_secret];
            for (column, value) in SEALED_COLUMNS.iter().zip(values) {
                let Some(old) = value.as_deref().filter(|v| v.starts_with(UNBOUND)) else { continue };
                let plain = self.cipher.open_unbound(old).map_err(|_| KEY_MISMATCH.to_string())?;
                let sealed = self.cipher.seal(&plain, &context("endpoints", column, &row.id)).map_err(failed)?;
                // Only if unchanged: another process starting now may have upgraded it already.
                let sql = format!("UPDATE endpoints SET {column} = $1 WHERE id = $2 AND {column} = $3");
                execute_in!(&mut tx, sqlx::query(&sql).bind(&sealed).bind(&row.id).bind(old)).map_err(|e| failed(e.into()))?;
                upgraded += 1;
            }
        }
        tx.commit().await.map_err(failed)?;
        tracing::info!(upgraded, "re-sealed stored secrets bound to their endpoint and column");
        Ok(())
    }
}
