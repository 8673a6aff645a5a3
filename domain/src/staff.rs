//! Platform staff: the operator console (tenants, plans, retention, suspension, usage) and the
//! support console (finding any tenant's deliveries, archived ones included). Every function
//! checks the staff role itself; anyone else gets 404, as if the staff area did not exist.

use serde::Serialize;

use crate::accounts::normalize_email;
use crate::audit::Audit;
use crate::clock::DAY;
use crate::crypto::sha256_hex;
use crate::error::{Error, Result};
use crate::invitations::INVITATION_VALID_FOR;
use crate::roles::{Actor, ActorKind, Role};
use crate::store::query::{keyset_page, page_size, parse_time_cursor, Arg, Conditions};
use crate::tenants::{validate_retention, validate_tenant_name, Plan, Tenant, TenantUsage};
use crate::{execute_in, ids, on_pool, Herald};
use types::AuditAction;

/// A tenant with its usage, for the consoles.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct TenantOverview {
    #[sqlx(flatten)]
    pub tenant: Tenant,
    pub members: i64,
    pub endpoints: i64,
    /// Messages accepted since midnight UTC.
    pub messages_today: i64,
    /// Messages accepted in the last 7 days (today and the 6 days before).
    pub messages_7d: i64,
}

/// What support can search deliveries by; empty fields are ignored.
#[derive(Clone, Debug, Default)]
pub struct DeliverySearch {
    /// A tenant id, or part of a tenant's name.
    pub tenant: Option<String>,
    /// Part of an endpoint URL (or email address).
    pub endpoint_url: Option<String>,
    pub message_id: Option<String>,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// Epoch milliseconds, inclusive.
    pub since: Option<i64>,
    /// Epoch milliseconds, exclusive.
    pub until: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub use types::FoundDelivery;

#[derive(Clone, Debug, Serialize)]
pub struct SearchPage {
    pub data: Vec<FoundDelivery>,
    pub next_cursor: Option<String>,
}

/// What a new tenant starts with (see [`Herald::create_tenant_by`]).
#[derive(Clone, Debug)]
pub struct TenantRequest {
    pub name: String,
    pub plan: Plan,
    /// The first admin (owner); `None` leaves the tenant without members (a platform then
    /// signs its people in with dashboard links).
    pub admin_email: Option<String>,
    /// `None`: the default (60 days).
    pub retention_days: Option<i64>,
    pub allow_private_urls: bool,
}

/// A page of tenants, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct TenantPage {
    pub data: Vec<TenantUsage>,
    pub next_cursor: Option<String>,
}

/// A tenant created by an operator: its id, and the invitation link when the admin had no
/// account yet (shown once, also emailed).
#[derive(Clone, Debug, Serialize)]
pub struct CreatedTenant {
    pub tenant_id: String,
    pub invitation_link: Option<String>,
}

fn text(field: &'static str, value: Option<String>) -> Result<Option<String>> {
    let value = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > 300) {
        return Err(Error::invalid(field, "Search terms can be at most 300 characters."));
    }
    Ok(value)
}

/// `%term%` for LIKE, with the wildcards in `term` taken literally (`ESCAPE '\'`).
fn contains(term: &str) -> String {
    let escaped = term.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl Herald {
    /// Every tenant with usage, newest first; `search` matches part of the name or the id.
    pub async fn tenant_overviews(&self, actor: &Actor, search: Option<&str>) -> Result<Vec<TenantOverview>> {
        actor.require_staff()?;
        let search = text("search", search.map(str::to_string))?;
        let now = self.clock.now();
        let today = now - now.rem_euclid(DAY);
        let week = today - 6 * DAY;
        let filter = if search.is_some() { "WHERE LOWER(name) LIKE $3 ESCAPE '\\' OR id = $4" } else { "" };
        let sql = format!(
            "SELECT id, name, plan, retention_days, allow_private_urls, webhooks_enabled, suspended, created_at,
                 (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = tenants.id) AS members,
                 (SELECT COUNT(*) FROM endpoints e WHERE e.tenant_id = tenants.id) AS endpoints,
                 (SELECT COUNT(*) FROM messages g WHERE g.tenant_id = tenants.id AND g.created_at >= $1) AS messages_today,
                 (SELECT COUNT(*) FROM messages g WHERE g.tenant_id = tenants.id AND g.created_at >= $2) AS messages_7d
             FROM tenants {filter} ORDER BY created_at DESC, id LIMIT 500"
        );
        Ok(on_pool!(&self.store, pool => {
            let mut q = sqlx::query_as::<_, TenantOverview>(&sql).bind(today).bind(week);
            if let Some(s) = &search {
                q = q.bind(contains(s)).bind(s.clone());
            }
            q.fetch_all(pool).await
        })?)
    }

    /// One tenant with usage (staff).
    pub async fn tenant_overview(&self, actor: &Actor, tenant_id: &str) -> Result<TenantOverview> {
        actor.require_staff()?;
        let tenant = self.tenant(tenant_id).await?;
        let all = self.tenant_overviews(actor, Some(&tenant.id)).await?;
        all.into_iter().find(|t| t.tenant.id == tenant.id).ok_or(Error::NotFound("tenant"))
    }

    /// Messages per UTC day over the last `days` days, oldest first, zeros included.
    pub async fn messages_per_day(&self, actor: &Actor, tenant_id: &str, days: i64) -> Result<Vec<(i64, i64)>> {
        actor.require_staff()?;
        let now = self.clock.now();
        let first = now - now.rem_euclid(DAY) - (days - 1) * DAY;
        let rows: Vec<(i64, i64)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT (created_at - $2) / 86400000 AS day, COUNT(*) FROM messages WHERE tenant_id = $1 AND created_at >= $2
             GROUP BY (created_at - $2) / 86400000")
            .bind(tenant_id).bind(first).fetch_all(pool).await)?;
        Ok((0..days).map(|d| (first + d * DAY, rows.iter().find(|(day, _)| *day == d).map(|(_, n)| *n).unwrap_or(0))).collect())
    }

    /// Operators and platform keys: a new tenant, with its first admin (as owner) when
    /// `admin_email` is given. An existing account joins at once; a new address gets an
    /// invitation link (7 days) to set its own password.
    pub async fn create_tenant_by(&self, actor: &Actor, request: TenantRequest) -> Result<CreatedTenant> {
        actor.require_tenant_manager()?;
        let name = validate_tenant_name(&request.name)?;
        if let Some(days) = request.retention_days {
            validate_retention(days)?;
        }
        let email = match request.admin_email.as_deref() {
            Some(email) => Some(normalize_email(email).map_err(|e| match e {
                Error::Invalid { message, .. } => Error::invalid("admin_email", message),
                other => other,
            })?),
            None => None,
        };
        let existing = match &email {
            Some(email) => self.user_by_email(email).await?,
            None => None,
        };
        let token = ids::random_string(40);
        let now = self.clock.now();
        let plan = request.plan;
        let mut tx = self.store.begin().await?;
        let tenant_id = self.insert_tenant(&mut tx, &name, plan, request.allow_private_urls).await?;
        if let Some(days) = request.retention_days {
            execute_in!(&mut tx, sqlx::query("UPDATE tenants SET retention_days = $1 WHERE id = $2").bind(days).bind(&tenant_id))?;
        }
        // Only a person is recorded as the one who invited (a platform key is not a user).
        let invited_by = (actor.kind == ActorKind::User).then_some(actor.user_id.as_str());
        match (&email, &existing) {
            (Some(_), Some(user)) => self.insert_membership(&mut tx, &tenant_id, &user.id, Role::Owner).await?,
            (Some(email), None) => {
                execute_in!(
                    &mut tx,
                    sqlx::query(
                        "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at)
                     VALUES ($1, $2, $3, 'owner', $4, $5, $6, $7)"
                    )
                    .bind(ids::new_id("inv"))
                    .bind(&tenant_id)
                    .bind(email)
                    .bind(sha256_hex(&token))
                    .bind(invited_by)
                    .bind(now)
                    .bind(now + INVITATION_VALID_FOR)
                )?;
            }
            (None, _) => {}
        }
        let summary = match (&email, &existing) {
            (Some(email), Some(_)) => format!("Created the workspace \"{name}\" on the {} plan with admin {email} as owner", plan.label()),
            (Some(email), None) => {
                format!("Created the workspace \"{name}\" on the {} plan with admin {email} and invited them as owner", plan.label())
            }
            (None, _) => format!("Created the workspace \"{name}\" on the {} plan", plan.label()),
        };
        let entry = Audit::new(Some(&tenant_id), AuditAction::TenantCreated, summary).target(&tenant_id).details(serde_json::json!({
            "plan": plan.as_str(), "admin_email": email, "allow_private_urls": request.allow_private_urls,
            "retention_days": request.retention_days,
        }));
        self.audit_in(&mut tx, actor, entry).await?;
        tx.commit().await?;
        let invitation_link = (email.is_some() && existing.is_none()).then(|| format!("{}/invite/{token}", self.public_url));
        if let (Some(link), Some(email)) = (&invitation_link, &email) {
            let body =
                format!("You are the admin of {name} on Herald.\n\nSet your password and sign in:\n{link}\n\nThe link works for 7 days.\n");
            if let Err(err) = self.mailer.send(email, &format!("Your Herald workspace {name}"), &body).await {
                tracing::warn!(error = %err, "admin invitation email not sent");
            }
        }
        Ok(CreatedTenant { tenant_id, invitation_link })
    }

    /// Platform keys (and operators): one page of tenants, newest first, with their member and
    /// endpoint counts; `search` matches part of the name, or the id.
    pub async fn tenant_page(&self, actor: &Actor, search: Option<&str>, cursor: Option<&str>, limit: Option<i64>) -> Result<TenantPage> {
        actor.require_tenant_manager()?;
        let limit = page_size(limit)?;
        let mut conditions = Conditions::default();
        if let Some(s) = text("search", search.map(str::to_string))? {
            conditions.push("(LOWER(t.name) LIKE ? ESCAPE '\\' OR t.id = ?)", [Arg::Text(contains(&s)), Arg::Text(s)]);
        }
        if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
            let (at, id) = parse_time_cursor(cursor)?;
            conditions.push("(t.created_at, t.id) < (?, ?)", [Arg::Int(at), Arg::Text(id)]);
        }
        let sql = format!(
            "SELECT t.id, t.name, t.plan, t.retention_days, t.allow_private_urls, t.webhooks_enabled, t.suspended, t.created_at,
                 (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id) AS members,
                 (SELECT COUNT(*) FROM endpoints e WHERE e.tenant_id = t.id) AS endpoints
             FROM tenants t {} ORDER BY t.created_at DESC, t.id DESC LIMIT {}",
            conditions.where_clause(),
            limit + 1
        );
        let rows = conditions.fetch_all::<TenantUsage>(&self.store, &sql).await?;
        let (data, next_cursor) = keyset_page(rows, limit, |r| format!("{}.{}", r.tenant.created_at, r.tenant.id));
        Ok(TenantPage { data, next_cursor })
    }

    /// Platform keys (and operators): one tenant with its member and endpoint counts.
    pub async fn managed_tenant(&self, actor: &Actor, tenant_id: &str) -> Result<TenantUsage> {
        actor.require_tenant_manager()?;
        let sql = "SELECT t.id, t.name, t.plan, t.retention_days, t.allow_private_urls, t.webhooks_enabled, t.suspended, t.created_at,
                 (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id) AS members,
                 (SELECT COUNT(*) FROM endpoints e WHERE e.tenant_id = t.id) AS endpoints
             FROM tenants t WHERE t.id = $1";
        on_pool!(&self.store, pool => sqlx::query_as::<_, TenantUsage>(sql).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("tenant"))
    }

    /// Support: deliveries of every tenant, newest first, archived ones included.
    pub async fn search_deliveries(&self, actor: &Actor, search: DeliverySearch) -> Result<SearchPage> {
        actor.require_staff()?;
        let limit = page_size(search.limit)?;
        let mut conditions = Conditions::default();
        let mut push = |sql: &str, values: Vec<Arg>| conditions.push(sql, values);
        if let Some(t) = text("tenant", search.tenant)? {
            push("(d.tenant_id = ? OR LOWER(t.name) LIKE ? ESCAPE '\\')", vec![Arg::Text(t.clone()), Arg::Text(contains(&t))]);
        }
        if let Some(u) = text("endpoint_url", search.endpoint_url)? {
            push(
                "(LOWER(e.url) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(e.email, '')) LIKE ? ESCAPE '\\')",
                vec![Arg::Text(contains(&u)), Arg::Text(contains(&u))],
            );
        }
        if let Some(v) = text("message_id", search.message_id)? {
            push("d.message_id = ?", vec![Arg::Text(v)]);
        }
        if let Some(v) = text("event_id", search.event_id)? {
            push("m.event_id = ?", vec![Arg::Text(v)]);
        }
        if let Some(v) = text("event_type", search.event_type)? {
            push("d.event_type = ?", vec![Arg::Text(v.to_lowercase())]);
        }
        if let Some(v) = search.since {
            push("d.created_at >= ?", vec![Arg::Int(v)]);
        }
        if let Some(v) = search.until {
            push("d.created_at < ?", vec![Arg::Int(v)]);
        }
        if let Some(cursor) = search.cursor.filter(|c| !c.is_empty()) {
            let (at, id) = parse_time_cursor(&cursor)?;
            push("(d.created_at, d.id) < (?, ?)", vec![Arg::Int(at), Arg::Text(id)]);
        }
        let filter = conditions.where_clause();
        let sql = format!(
            "SELECT d.id, d.tenant_id, t.name AS tenant_name, d.endpoint_id, e.name AS endpoint_name,
                    CASE WHEN e.channel = 'email' THEN COALESCE(e.email, '') ELSE e.url END AS endpoint_url,
                    d.message_id, m.event_id, d.event_type, d.status, d.kind, d.attempts, d.last_status_code, d.last_duration_ms,
                    d.created_at, d.archived_at
             FROM deliveries d
             JOIN tenants t ON t.id = d.tenant_id
             JOIN endpoints e ON e.id = d.endpoint_id
             JOIN messages m ON m.id = d.message_id
             {filter}
             ORDER BY d.created_at DESC, d.id DESC LIMIT {}",
            limit + 1
        );
        let rows = conditions.fetch_all::<FoundDelivery>(&self.store, &sql).await?;
        let (data, next_cursor) = keyset_page(rows, limit, |r| format!("{}.{}", r.created_at, r.id));
        Ok(SearchPage { data, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::contains("50%_Off"), "%50\\%\\_off%");
    }
}
