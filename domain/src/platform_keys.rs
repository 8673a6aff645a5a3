//! Platform keys (`hkp_…`): the booking platform's one credential for all its businesses. A
//! platform key creates and changes tenants, and acts as an admin of any one tenant it names
//! (`/api/v1/tenants/{tenant_id}/…`), so the platform need not hold a key per business. Like
//! tenant keys they are random, shown once, stored as SHA-256 digests and revocable at once.
//! Operators and the command line make and revoke them; both are recorded in the audit log.

use serde::Serialize;

use crate::api_keys::{key_name, mint_key};
use crate::audit::Audit;
use crate::crypto::sha256_hex;
use crate::error::{Error, Result};
use crate::roles::{Actor, ActorKind, Role};
use crate::{ids, on_pool, Herald};
use types::AuditAction;

/// What every platform key starts with (tenant keys start with `hk_`).
pub const PREFIX: &str = "hkp_";

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct PlatformKey {
    pub id: String,
    pub name: String,
    /// The first characters of the key, so operators can tell keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, name, prefix, created_at, last_used_at, revoked_at";

impl Herald {
    /// Operators and the command line: a new platform key; the plain key is returned once and
    /// never stored.
    pub async fn create_platform_key(&self, actor: &Actor, name: &str) -> Result<(PlatformKey, String)> {
        if actor.kind != ActorKind::System {
            actor.require_operator()?;
        }
        let name = key_name(name, "Platform key")?;
        let (plain, prefix) = mint_key(PREFIX, 12);
        let key = PlatformKey { id: ids::new_id("pkey"), name, prefix, created_at: self.clock.now(), last_used_at: None, revoked_at: None };
        let created_by = (actor.kind == ActorKind::User).then_some(actor.user_id.as_str());
        let mut tx = self.store.begin().await?;
        crate::execute_in!(
            &mut tx,
            sqlx::query("INSERT INTO platform_keys (id, name, prefix, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&key.id)
                .bind(&key.name)
                .bind(&key.prefix)
                .bind(sha256_hex(&plain))
                .bind(created_by)
                .bind(key.created_at)
        )?;
        let entry = Audit::new(None, AuditAction::PlatformKeyCreated, format!("Created platform key \"{}\" ({}…)", key.name, key.prefix));
        self.audit_in(&mut tx, actor, entry.target(&key.id)).await?;
        tx.commit().await?;
        Ok((key, plain))
    }

    /// Operators: every platform key, newest first, revoked ones included (never the keys).
    pub async fn platform_keys(&self, actor: &Actor) -> Result<Vec<PlatformKey>> {
        actor.require_operator()?;
        let sql = format!("SELECT {COLUMNS} FROM platform_keys ORDER BY created_at DESC, id");
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, PlatformKey>(&sql).fetch_all(pool).await)?)
    }

    /// Operators: stops a platform key from working, at once (the next request is refused).
    pub async fn revoke_platform_key(&self, actor: &Actor, key_id: &str) -> Result<()> {
        if actor.kind != ActorKind::System {
            actor.require_operator()?;
        }
        let mut tx = self.store.begin().await?;
        let name: Option<(String,)> = crate::on_tx!(&mut tx, conn => sqlx::query_as(
            "UPDATE platform_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING name")
            .bind(self.clock.now()).bind(key_id).fetch_optional(conn).await)?;
        let Some((name,)) = name else { return Err(Error::NotFound("platform key")) };
        let entry = Audit::new(None, AuditAction::PlatformKeyRevoked, format!("Revoked platform key \"{name}\""));
        self.audit_in(&mut tx, actor, entry.target(key_id)).await?;
        tx.commit().await
    }

    /// The actor behind a platform key: the platform, in no tenant yet (see
    /// [`Herald::platform_in_tenant`]). The audit log names it by the key's name.
    pub async fn authenticate_platform_key(&self, plain: &str) -> Result<Actor> {
        let unauthorized = || Error::Unauthorized { code: "invalid_api_key", message: "The platform key is unknown or revoked.".into() };
        if !plain.starts_with(PREFIX) {
            return Err(unauthorized());
        }
        let sql = format!("SELECT {COLUMNS} FROM platform_keys WHERE key_hash = $1");
        let found = on_pool!(&self.store, pool => sqlx::query_as::<_, PlatformKey>(&sql)
            .bind(sha256_hex(plain)).fetch_optional(pool).await)?;
        let key = found.filter(|k| k.revoked_at.is_none()).ok_or_else(unauthorized)?;
        self.note_key_use("platform_keys", &key.id, key.last_used_at).await?;
        Ok(Actor { kind: ActorKind::PlatformKey, ..Actor::user(key.id, key.name) })
    }

    /// The platform acting as an admin of `tenant_id` (404 when there is no such tenant); a
    /// suspended tenant stays read-only for it too.
    pub async fn platform_in_tenant(&self, platform: Actor, tenant_id: &str) -> Result<Actor> {
        if !platform.is_platform_key() {
            return Err(Error::Forbidden("Only a platform key acts in a tenant it names.".into()));
        }
        let tenant = self.tenant(tenant_id).await?;
        Ok(Actor {
            tenant: Some((tenant.id, Role::Admin)),
            suspended: tenant.suspended,
            tenant_revision: Some(tenant.revision),
            ..platform
        })
    }
}
