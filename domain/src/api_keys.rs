//! Tenant API keys (`hk_…`): random, shown once, stored as SHA-256 digests, revocable. A key
//! acts as an admin of its tenant.

use std::collections::HashMap;

use serde::Serialize;

use crate::crypto::sha256_hex;
use crate::error::{Error, Result};
use crate::roles::{Actor, ActorKind, Role};
use crate::store::Store;
use crate::{execute_on, ids, on_pool, Herald};
use types::AuditAction;

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The first characters of the key, so people can tell their keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct KeyWithTenant {
    #[sqlx(flatten)]
    key: ApiKey,
    key_hash: String,
    suspended: bool,
    revision: i64,
}

/// A key's digest waiting to be looked up, and where to answer.
pub(crate) type KeyLookup = (String, tokio::sync::oneshot::Sender<Result<Option<KeyWithTenant>>>);

/// Lookups answered by one query at most.
const MAX_LOOKUPS: usize = 256;

/// Starts the key lookups: the requests waiting share one query, instead of a query (and a
/// pooled connection) each, which at thousands of events a second cost as much as storing them.
/// Every lookup still reads the key after its request arrived, so a revoked key is refused at
/// once, in every process.
pub(crate) fn spawn_key_lookups(store: Store) -> tokio::sync::mpsc::Sender<KeyLookup> {
    let (queue, mut waiting) = tokio::sync::mpsc::channel::<KeyLookup>(4 * MAX_LOOKUPS);
    tokio::spawn(async move {
        let mut group = Vec::with_capacity(MAX_LOOKUPS);
        while waiting.recv_many(&mut group, MAX_LOOKUPS).await > 0 {
            let mut hashes: Vec<&str> = group.iter().map(|(hash, _)| hash.as_str()).collect();
            hashes.sort_unstable();
            hashes.dedup();
            let select = "SELECT k.id, k.tenant_id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at, k.key_hash,
                              t.suspended, t.revision
                          FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash";
            match crate::store::query::fetch_by_ids::<KeyWithTenant>(&store, select, &hashes).await {
                Ok(found) => {
                    let found: HashMap<&str, &KeyWithTenant> = found.iter().map(|k| (k.key_hash.as_str(), k)).collect();
                    for (hash, reply) in group.drain(..) {
                        let _ = reply.send(Ok(found.get(hash.as_str()).map(|k| (*k).clone())));
                    }
                }
                Err(err) => {
                    tracing::error!(error = ?err, lookups = group.len(), "looking up API keys failed");
                    for (_, reply) in group.drain(..) {
                        let _ = reply.send(Err(Error::Internal("the API key could not be checked".into())));
                    }
                }
            }
        }
    });
    queue
}

/// The name a new key (tenant or platform) is stored under: trimmed, `default` when empty.
pub(crate) fn key_name(name: &str, default: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > 100 {
        return Err(Error::invalid("name", "The key name can be at most 100 characters."));
    }
    Ok(if name.is_empty() { default.to_string() } else { name.to_string() })
}

/// A new random key starting with `prefix`: the plain key (shown once, never stored) and the
/// first `shown` characters people tell keys apart by.
pub(crate) fn mint_key(prefix: &str, shown: usize) -> (String, String) {
    let plain = format!("{prefix}{}", ids::random_string(40));
    let visible = plain[..shown].to_string();
    (plain, visible)
}

impl Herald {
    /// Notes that a key was used, at most once a minute: ingest must not turn every request
    /// into a write. `table` is `api_keys` or `platform_keys`.
    pub(crate) async fn note_key_use(&self, table: &'static str, id: &str, last_used_at: Option<i64>) -> Result<()> {
        let now = self.clock.now();
        if last_used_at.is_none_or(|t| now - t > crate::clock::MINUTE) {
            let _turn = self.store.write_turn().await;
            let sql = format!("UPDATE {table} SET last_used_at = $1 WHERE id = $2");
            execute_on!(&self.store, sqlx::query(&sql).bind(now).bind(id))?;
        }
        Ok(())
    }

    /// Creates a key for `tenant_id`, unchecked and unaudited (see [`Herald::create_api_key`]);
    /// the plain key is returned once and never stored.
    async fn insert_api_key(&self, tenant_id: &str, name: &str, created_by: Option<&str>) -> Result<(ApiKey, String)> {
        let name = key_name(name, "API key")?;
        self.tenant(tenant_id).await?;
        let (plain, prefix) = mint_key("hk_", 10);
        let key = ApiKey {
            id: ids::new_id("key"),
            tenant_id: tenant_id.to_string(),
            name,
            prefix,
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        execute_on!(
            &self.store,
            sqlx::query(
                "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )
            .bind(&key.id)
            .bind(&key.tenant_id)
            .bind(&key.name)
            .bind(&key.prefix)
            .bind(sha256_hex(&plain))
            .bind(created_by)
            .bind(key.created_at)
        )?;
        Ok((key, plain))
    }

    /// The actor behind a bearer key: an admin of the key's tenant.
    pub async fn authenticate_api_key(&self, plain: &str) -> Result<Actor> {
        let unauthorized = || Error::Unauthorized { code: "invalid_api_key", message: "The API key is unknown or revoked.".into() };
        if !plain.starts_with("hk_") {
            return Err(unauthorized());
        }
        let (reply, found) = tokio::sync::oneshot::channel();
        let stopped = || Error::Internal("the API key lookups stopped".into());
        self.key_lookups.send((sha256_hex(plain), reply)).await.map_err(|_| stopped())?;
        let found = found.await.map_err(|_| stopped())??;
        let KeyWithTenant { key, suspended, revision, .. } = found.filter(|k| k.key.revoked_at.is_none()).ok_or_else(unauthorized)?;
        self.note_key_use("api_keys", &key.id, key.last_used_at).await?;
        Ok(Actor {
            tenant: Some((key.tenant_id, Role::Admin)),
            suspended,
            kind: ActorKind::ApiKey,
            tenant_revision: Some(revision),
            ..Actor::user(key.id, format!("API key \"{}\"", key.name))
        })
    }
}

impl Herald {
    /// The tenant's keys, newest first (never the keys themselves).
    pub async fn api_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>> {
        if actor.staff_view {
            return Err(Error::Forbidden("Support staff cannot see a tenant's API keys.".into()));
        }
        // Admins of a suspended tenant may still see (and not change) their keys.
        let tenant_id = actor.require_admin_read()?;
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, ApiKey>(
            "SELECT id, tenant_id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id")
            .bind(tenant_id).fetch_all(pool).await)?)
    }

    /// Admins, API keys and the command line ([`Actor::in_tenant`]) create a key for their
    /// tenant; recorded in the audit log.
    pub async fn create_api_key(&self, actor: &Actor, name: &str) -> Result<(ApiKey, String)> {
        let tenant_id = actor.require_admin()?;
        let created_by = (actor.kind == ActorKind::User).then_some(actor.user_id.as_str());
        let (key, plain) = self.insert_api_key(tenant_id, name, created_by).await?;
        let entry = crate::audit::Audit::new(
            Some(tenant_id),
            AuditAction::ApiKeyCreated,
            format!("Created API key \"{}\" ({}…)", key.name, key.prefix),
        )
        .target(&key.id);
        self.audit(actor, entry).await;
        Ok((key, plain))
    }

    /// Stops a key from working, at once.
    pub async fn revoke_api_key(&self, actor: &Actor, key_id: &str) -> Result<()> {
        let tenant_id = actor.require_admin()?;
        let mut tx = self.store.begin().await?;
        let name: Option<(String,)> = crate::on_tx!(&mut tx, conn => sqlx::query_as(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL RETURNING name")
            .bind(self.clock.now()).bind(key_id).bind(tenant_id).fetch_optional(conn).await)?;
        let Some((name,)) = name else { return Err(Error::NotFound("API key")) };
        let entry = crate::audit::Audit::new(Some(tenant_id), AuditAction::ApiKeyRevoked, format!("Revoked API key \"{name}\""));
        self.audit_in(&mut tx, actor, entry.target(key_id)).await?;
        tx.commit().await
    }
}
