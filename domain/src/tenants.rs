//! Tenants (the businesses using Herald), their plans and their memberships.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::roles::Role;
use crate::{execute_in, ids, on_pool, Herald};
use types::AuditAction;

pub use types::Plan;

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub retention_days: i64,
    pub allow_private_urls: bool,
    pub webhooks_enabled: bool,
    pub suspended: bool,
    pub created_at: i64,
    /// Bumped by the database on every change to the tenant or to what ingest reads of its
    /// endpoints (migration 0019; see [`crate::tenant_view`]).
    #[serde(skip)]
    #[sqlx(default)]
    pub revision: i64,
}

/// A tenant with how much of it is in use.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct TenantUsage {
    #[sqlx(flatten)]
    pub tenant: Tenant,
    pub members: i64,
    pub endpoints: i64,
}

/// A tenant as seen by one of its users.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub tenant_id: String,
    pub tenant_name: String,
    pub plan: Plan,
    pub role: Role,
}

pub use types::Member;

/// What an operator may change on a tenant; `None` leaves a value as it is.
#[derive(Clone, Debug, Default)]
pub struct TenantUpdate {
    pub plan: Option<Plan>,
    pub retention_days: Option<i64>,
    pub allow_private_urls: Option<bool>,
    /// A suspended tenant accepts no events, delivers nothing, and its dashboard is read-only.
    pub suspended: Option<bool>,
}

pub fn validate_tenant_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("tenant_name", "Enter the name of your business."));
    }
    if name.chars().count() > 100 {
        return Err(Error::invalid("tenant_name", "The business name can be at most 100 characters."));
    }
    Ok(name.to_string())
}

/// How long a tenant's delivery payloads are kept before archival.
pub fn validate_retention(days: i64) -> Result<i64> {
    if !(1..=3650).contains(&days) {
        return Err(Error::invalid("retention_days", "Retention must be between 1 and 3650 days."));
    }
    Ok(days)
}

const TENANT_COLUMNS: &str = "id, name, plan, retention_days, allow_private_urls, webhooks_enabled, suspended, created_at, revision";

impl Herald {
    pub async fn tenant(&self, tenant_id: &str) -> Result<Tenant> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        on_pool!(&self.store, pool => sqlx::query_as::<_, Tenant>(&sql).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("tenant"))
    }

    pub(crate) async fn tenants_by_id(&self, ids: &[&str]) -> Result<Vec<Tenant>> {
        crate::store::query::fetch_by_ids(&self.store, &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id"), ids).await
    }

    /// Inserts a tenant inside an open transaction.
    pub(crate) async fn insert_tenant(
        &self,
        tx: &mut crate::store::Tx,
        name: &str,
        plan: Plan,
        allow_private_urls: bool,
    ) -> Result<String> {
        let id = ids::new_id("ten");
        let now = self.clock.now();
        execute_in!(
            tx,
            sqlx::query("INSERT INTO tenants (id, name, plan, allow_private_urls, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id)
                .bind(name)
                .bind(plan.as_str())
                .bind(allow_private_urls)
                .bind(now)
        )?;
        Ok(id)
    }

    pub(crate) async fn insert_membership(&self, tx: &mut crate::store::Tx, tenant_id: &str, user_id: &str, role: Role) -> Result<()> {
        let now = self.clock.now();
        let inserted = execute_in!(
            tx,
            sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(tenant_id)
                .bind(user_id)
                .bind(role.as_str())
                .bind(now)
        );
        match inserted {
            Err(e) if crate::error::is_unique_violation(&e) => {
                Err(Error::conflict("already_member", Some("email"), "This person is already on the team."))
            }
            other => other.map(|_| ()).map_err(Error::from),
        }
    }

    /// Every tenant with its member and endpoint counts, newest first (staff consoles).
    pub async fn all_tenants(&self) -> Result<Vec<TenantUsage>> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS},
                 (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = tenants.id) AS members,
                 (SELECT COUNT(*) FROM endpoints e WHERE e.tenant_id = tenants.id) AS endpoints
             FROM tenants ORDER BY created_at DESC, id"
        );
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, TenantUsage>(&sql).fetch_all(pool).await)?)
    }

    /// Operator: changes a tenant's plan, retention or URL policy. A plan that allows fewer
    /// endpoints than the tenant has is refused, saying how many must go first.
    pub(crate) async fn update_tenant(&self, tenant_id: &str, update: TenantUpdate) -> Result<Tenant> {
        let current = self.tenant(tenant_id).await?;
        if let Some(days) = update.retention_days {
            validate_retention(days)?;
        }
        let plan = update.plan.unwrap_or(current.plan);
        let mut tx = self.store.begin().await?;
        self.lock_tenant(&mut tx, tenant_id).await?;
        // The plan only changes if the tenant's endpoints still fit, checked in the same statement.
        let changed = execute_in!(
            &mut tx,
            sqlx::query(
                "UPDATE tenants SET plan = $1, retention_days = $2, allow_private_urls = $3, suspended = $6 WHERE id = $4
             AND (SELECT COUNT(*) FROM endpoints WHERE tenant_id = $4) <= $5"
            )
            .bind(plan.as_str())
            .bind(update.retention_days.unwrap_or(current.retention_days))
            .bind(update.allow_private_urls.unwrap_or(current.allow_private_urls))
            .bind(tenant_id)
            .bind(plan.endpoint_limit())
            .bind(update.suspended.unwrap_or(current.suspended))
        )?;
        tx.commit().await?;
        if changed == 0 {
            let count = self.endpoint_count(tenant_id).await?;
            let excess = count - plan.endpoint_limit();
            return Err(Error::conflict(
                "plan_below_usage",
                Some("plan"),
                format!(
                    "{} has {count} endpoints, and the {} plan allows {}. Remove {excess} endpoint{} first.",
                    current.name,
                    plan.label(),
                    plan.endpoint_limit(),
                    if excess == 1 { "" } else { "s" }
                ),
            ));
        }
        self.tenant(tenant_id).await
    }

    /// Changes a tenant, by an operator or the command line (`Actor::system`), with an audit
    /// entry per change, visible to the tenant's admins too.
    pub async fn change_tenant(&self, actor: &crate::Actor, tenant_id: &str, update: TenantUpdate) -> Result<Tenant> {
        actor.require_tenant_manager()?;
        let before = self.tenant(tenant_id).await?;
        let after = self.update_tenant(tenant_id, update).await?;
        use crate::audit::Audit;
        let t = Some(tenant_id);
        let mut entries = Vec::new();
        if before.plan != after.plan {
            entries.push(
                Audit::new(
                    t,
                    AuditAction::TenantPlanChanged,
                    format!(
                        "Changed the plan from {} to {} (up to {} endpoints)",
                        before.plan.label(),
                        after.plan.label(),
                        after.plan.endpoint_limit()
                    ),
                )
                .details(serde_json::json!({ "from": before.plan, "to": after.plan })),
            );
        }
        if before.retention_days != after.retention_days {
            entries.push(
                Audit::new(
                    t,
                    AuditAction::TenantRetentionChanged,
                    format!("Changed log retention from {} to {} days", before.retention_days, after.retention_days),
                )
                .details(serde_json::json!({ "from": before.retention_days, "to": after.retention_days })),
            );
        }
        if before.allow_private_urls != after.allow_private_urls {
            let summary =
                if after.allow_private_urls { "Allowed http and private endpoint URLs" } else { "Required public https endpoint URLs" };
            entries.push(Audit::new(t, AuditAction::TenantPrivateUrlsChanged, summary));
        }
        if before.suspended != after.suspended {
            entries.push(if after.suspended {
                Audit::new(t, AuditAction::TenantSuspended, "Suspended the workspace: no ingest, no delivery, read-only dashboard")
            } else {
                Audit::new(t, AuditAction::TenantUnsuspended, "Lifted the suspension")
            });
        }
        for entry in entries {
            self.audit(actor, entry.target(tenant_id)).await;
        }
        Ok(after)
    }

    /// The tenants a user belongs to, by name.
    pub async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>> {
        let sql = "SELECT t.id AS tenant_id, t.name AS tenant_name, t.plan, m.role
                   FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                   WHERE m.user_id = $1 ORDER BY t.name, t.id";
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, Membership>(sql).bind(user_id).fetch_all(pool).await)?)
    }

    /// The user's role in a tenant, if they belong to it.
    pub async fn role_in(&self, user_id: &str, tenant_id: &str) -> Result<Option<Role>> {
        let row: Option<(Role,)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT role FROM memberships WHERE user_id = $1 AND tenant_id = $2")
            .bind(user_id).bind(tenant_id).fetch_optional(pool).await)?;
        Ok(row.map(|(role,)| role))
    }

    pub async fn members(&self, tenant_id: &str) -> Result<Vec<Member>> {
        let sql = "SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at
                   FROM memberships m JOIN users u ON u.id = m.user_id
                   WHERE m.tenant_id = $1 ORDER BY m.created_at, u.email";
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, Member>(sql).bind(tenant_id).fetch_all(pool).await)?)
    }

    /// Removes someone from the actor's tenant. Owners stay: a tenant always keeps its owner.
    pub async fn remove_member(&self, actor: &crate::Actor, user_id: &str) -> Result<()> {
        let tenant_id = actor.require_admin()?;
        match self.role_in(user_id, tenant_id).await? {
            None => Err(Error::NotFound("member")),
            Some(Role::Owner) => Err(Error::Forbidden("The owner cannot be removed from the team.".into())),
            Some(_) => {
                let email = self.user(user_id).await.map(|u| u.email).unwrap_or_default();
                let mut tx = self.store.begin().await?;
                crate::execute_in!(
                    &mut tx,
                    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2").bind(tenant_id).bind(user_id)
                )?;
                let entry = crate::audit::Audit::new(Some(tenant_id), AuditAction::MemberRemoved, format!("Removed {email} from the team"));
                self.audit_in(&mut tx, actor, entry.target(email)).await?;
                tx.commit().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;

    #[test]
    fn plans_allow_1_3_5_10_endpoints() {
        let limits: Vec<i64> = Plan::ALL.iter().map(|p| p.endpoint_limit()).collect();
        assert_eq!(limits, [1, 3, 5, 10]);
        assert_eq!(Plan::Basic.next_up(), Some(Plan::Professional));
        assert_eq!(Plan::Enterprise.next_up(), None);
        assert_eq!(Plan::from_input(" Business "), Some(Plan::Business));
        assert_eq!(Plan::from_input("gold"), None);
    }
}
