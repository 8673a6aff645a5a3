//! One-time dashboard links, so a platform can embed Herald in its own admin: a platform key
//! asks for a link for one person (email and role) in one tenant; opening it signs that person
//! in, to that tenant only, creating their account (without a password: they only ever come in
//! through links) and membership if needed. A link works once and for a short time (10 minutes
//! unless asked otherwise, at most an hour); only the SHA-256 digest of its token is stored.

use serde::Serialize;

use crate::accounts::normalize_email;
use crate::audit::Audit;
use crate::clock::{Millis, MINUTE};
use crate::crypto::sha256_hex;
use crate::error::{Error, Result};
use crate::roles::{Actor, Role};
use crate::{execute_in, ids, on_pool, Herald};
use types::AuditAction;

/// How long a link works unless the platform asks otherwise.
pub const DEFAULT_VALID_FOR: Millis = 10 * MINUTE;
/// The longest a link may work, in seconds.
pub const MAX_TTL_SECONDS: i64 = 3600;

/// Where the link leads: `{public_url}{PATH}{token}`.
pub const PATH: &str = "/dashboard-link/";

/// A link just made (its token is in the URL, and nowhere else).
#[derive(Clone, Debug, Serialize)]
pub struct DashboardLink {
    pub url: String,
    pub expires_at: Millis,
}

/// Who a used link signs in, and where.
#[derive(Clone, Debug)]
pub struct LinkSignIn {
    pub user_id: String,
    pub tenant_id: String,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: String,
    tenant_id: String,
    email: String,
    role: Role,
    expires_at: i64,
    used_at: Option<i64>,
    key_name: Option<String>,
}

/// A role a link may give: member or admin (never owner).
fn link_role(role: &str) -> Result<Role> {
    match Role::parse(role.trim()) {
        Some(r @ (Role::Admin | Role::Member)) => Ok(r),
        _ => Err(Error::invalid("role", "role must be admin or member.")),
    }
}

fn valid_for(ttl_seconds: Option<i64>) -> Result<Millis> {
    match ttl_seconds {
        None => Ok(DEFAULT_VALID_FOR),
        Some(s) if (1..=MAX_TTL_SECONDS).contains(&s) => Ok(s * 1000),
        Some(_) => Err(Error::invalid("ttl_seconds", format!("ttl_seconds must be between 1 and {MAX_TTL_SECONDS} (one hour)."))),
    }
}

const SUSPENDED: &str = "This workspace is suspended: nobody new can join it until the suspension is lifted.";

impl Herald {
    /// A platform key: a link that signs `email` into `tenant_id` once, as `role` if they are
    /// not a member yet. Recorded in the tenant's audit log.
    pub async fn create_dashboard_link(
        &self,
        actor: &Actor,
        tenant_id: &str,
        email: &str,
        role: &str,
        ttl_seconds: Option<i64>,
    ) -> Result<DashboardLink> {
        if !actor.is_platform_key() {
            return Err(Error::Forbidden("Only a platform key can make dashboard links.".into()));
        }
        let tenant = self.tenant(tenant_id).await?;
        let email = normalize_email(email)?;
        let role = link_role(role)?;
        let valid_for = valid_for(ttl_seconds)?;
        let user = self.user_by_email(&email).await?;
        let member = match &user {
            Some(u) => self.role_in(&u.id, &tenant.id).await?.is_some(),
            None => false,
        };
        if tenant.suspended && !member {
            return Err(Error::Forbidden(SUSPENDED.into()));
        }
        let token = ids::random_string(40);
        let now = self.clock.now();
        let link = DashboardLink { url: format!("{}{PATH}{token}", self.public_url), expires_at: now + valid_for };
        let id = ids::new_id("dln");
        let mut tx = self.store.begin().await?;
        // Links are short-lived: forget the ones that ended a day ago.
        execute_in!(&mut tx, sqlx::query("DELETE FROM dashboard_links WHERE expires_at < $1").bind(now - crate::clock::DAY))?;
        execute_in!(
            &mut tx,
            sqlx::query(
                "INSERT INTO dashboard_links (id, tenant_id, email, role, token_hash, created_by, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )
            .bind(&id)
            .bind(&tenant.id)
            .bind(&email)
            .bind(role)
            .bind(sha256_hex(&token))
            .bind(&actor.user_id)
            .bind(now)
            .bind(link.expires_at)
        )?;
        let summary = format!(
            "Created a one-time dashboard link for {email} ({}), valid {}",
            if member { "already a member".to_string() } else { format!("joins as {role}") },
            if valid_for % MINUTE == 0 { format!("{} minutes", valid_for / MINUTE) } else { format!("{} seconds", valid_for / 1000) }
        );
        let entry = Audit::new(Some(&tenant.id), AuditAction::DashboardLinkCreated, summary)
            .target(&email)
            .details(serde_json::json!({ "link_id": id, "role": role, "expires_at": crate::clock::rfc3339(link.expires_at) }));
        self.audit_in(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(link)
    }

    /// Opens a link: once, before it expires. Creates the person (no password) and their
    /// membership if needed, and records the sign-in in the tenant's audit log. The caller
    /// starts a session pinned to the tenant.
    pub async fn use_dashboard_link(&self, token: &str, ip: Option<String>) -> Result<LinkSignIn> {
        let token = token.trim();
        if token.is_empty() || token.len() > 100 {
            return Err(Error::NotFound("dashboard link"));
        }
        let link: LinkRow = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT l.id, l.tenant_id, l.email, l.role, l.expires_at, l.used_at, k.name AS key_name
             FROM dashboard_links l LEFT JOIN platform_keys k ON k.id = l.created_by WHERE l.token_hash = $1")
            .bind(sha256_hex(token)).fetch_optional(pool).await)?
        .ok_or(Error::NotFound("dashboard link"))?;
        let used = || Error::conflict("dashboard_link_used", None, "This dashboard link has already been used. Links work once.");
        if link.used_at.is_some() {
            return Err(used());
        }
        let now = self.clock.now();
        if link.expires_at <= now {
            return Err(Error::conflict("dashboard_link_expired", None, "This dashboard link has expired."));
        }
        let tenant = self.tenant(&link.tenant_id).await?;
        let user = self.user_by_email(&link.email).await?;
        let role = match &user {
            Some(u) => self.role_in(&u.id, &tenant.id).await?,
            None => None,
        };
        if tenant.suspended && role.is_none() {
            return Err(Error::Forbidden(SUSPENDED.into()));
        }
        let mut tx = self.store.begin().await?;
        // Only one use wins, even if two arrive at once.
        let taken = execute_in!(
            &mut tx,
            sqlx::query("UPDATE dashboard_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL").bind(now).bind(&link.id)
        )?;
        if taken == 0 {
            return Err(used());
        }
        let user_id = match user {
            Some(u) => u.id,
            // No password: the account only ever signs in through links (or a reset, later).
            None => self.insert_user(&mut tx, &link.email, "", "", None).await?.id,
        };
        let person = Actor::user(&user_id, link.email.clone()).with_ip(ip);
        let role = match role {
            Some(role) => role,
            None => {
                self.insert_membership(&mut tx, &tenant.id, &user_id, link.role).await?;
                let entry = Audit::new(
                    Some(&tenant.id),
                    AuditAction::MemberJoined,
                    format!("{} joined as {} through a dashboard link", link.email, link.role),
                )
                .target(&link.email);
                self.audit_in(&mut tx, &person, entry).await?;
                link.role
            }
        };
        let by = link.key_name.map(|name| format!(" from platform key \"{name}\"")).unwrap_or_default();
        let entry = Audit::new(
            Some(&tenant.id),
            AuditAction::DashboardLinkUsed,
            format!("{} signed in as {role} with a one-time dashboard link{by}", link.email),
        )
        .target(&link.email)
        .details(serde_json::json!({ "link_id": link.id }));
        self.audit_in(&mut tx, &person, entry).await?;
        tx.commit().await?;
        Ok(LinkSignIn { user_id, tenant_id: tenant.id })
    }

    /// The actor of a session a dashboard link opened: the person in that tenant only, never
    /// as staff (a link must not carry a staff role into a session), and signed out (401) once
    /// they are no longer a member.
    pub async fn pinned_actor(&self, user_id: &str, tenant_id: &str) -> Result<Actor> {
        let user = self.user(user_id).await.map_err(|_| Error::Unauthenticated)?;
        let role = self.role_in(user_id, tenant_id).await?.ok_or(Error::Unauthenticated)?;
        let tenant = self.tenant(tenant_id).await.map_err(|_| Error::Unauthenticated)?;
        Ok(Actor { tenant: Some((tenant.id, role)), suspended: tenant.suspended, ..Actor::user(user.id, user.email) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_last_ten_minutes_unless_asked_and_at_most_an_hour() {
        assert_eq!(valid_for(None).unwrap(), 10 * MINUTE);
        assert_eq!(valid_for(Some(1)).unwrap(), 1000);
        assert_eq!(valid_for(Some(3600)).unwrap(), 60 * MINUTE);
        for bad in [0, -5, 3601] {
            assert_eq!(valid_for(Some(bad)).unwrap_err().field(), Some("ttl_seconds"), "{bad}");
        }
        assert!(link_role("owner").is_err());
        assert_eq!(link_role(" admin ").unwrap(), Role::Admin);
    }
}
