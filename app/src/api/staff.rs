//! Server functions for the staff consoles (operator and support) and the audit log.
//! Everything staff-only answers 404 to anyone else.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use types::{AuditEntry, FoundDelivery};

use super::TenantSummary;
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantDetail {
    pub tenant: TenantSummary,
    /// (day, messages) for the last 7 days, oldest first.
    pub per_day: Vec<(String, i64)>,
    pub webhooks_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTenant {
    pub tenant_id: String,
    pub name: String,
    pub invitation_link: Option<String>,
}

/// A delivery the support search found, and whether it is archived (for scripts that read the
/// reply: the page reads `archived_at`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoundRow {
    #[serde(flatten)]
    pub delivery: FoundDelivery,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub rows: Vec<FoundRow>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub rows: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
    /// True when the rows span every tenant (staff).
    pub all_tenants: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    pub fn summary(u: domain::staff::TenantOverview) -> TenantSummary {
        TenantSummary {
            endpoint_limit: u.tenant.plan.endpoint_limit(),
            plan: u.tenant.plan,
            id: u.tenant.id,
            name: u.tenant.name,
            members: u.members,
            endpoints: u.endpoints,
            created: super::super::ssr::date(u.tenant.created_at),
            retention_days: u.tenant.retention_days,
            allow_private_urls: u.tenant.allow_private_urls,
            suspended: u.tenant.suspended,
            messages_today: u.messages_today,
            messages_7d: u.messages_7d,
        }
    }

    /// `2026-01-01`, `2026-01-01T10:00` (from a datetime-local input) or RFC 3339; UTC.
    pub fn time(field: &'static str, value: &str) -> Result<Option<i64>, domain::Error> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        domain::clock::parse_utc(value)
            .map(Some)
            .ok_or_else(|| domain::Error::invalid(field, "Enter a date and time such as 2026-01-01 10:00 (UTC)."))
    }
}

/// Staff: every tenant with its usage, newest first; `search` matches the name or the id.
#[server(prefix = "/rpc", endpoint = "staff_tenants")]
pub async fn staff_tenants(#[server(default)] search: String) -> Result<Vec<TenantSummary>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let search = Some(search).filter(|s| !s.trim().is_empty());
    Ok(herald.tenant_overviews(&actor, search.as_deref()).await?.into_iter().map(convert::summary).collect())
}

#[server(prefix = "/rpc", endpoint = "staff_tenant")]
pub async fn staff_tenant(tenant_id: String) -> Result<TenantDetail, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let overview = herald.tenant_overview(&actor, &tenant_id).await?;
    let per_day = herald.messages_per_day(&actor, &tenant_id, 7).await?.into_iter().map(|(day, n)| (super::ssr::date(day), n)).collect();
    let webhooks_enabled = overview.tenant.webhooks_enabled;
    Ok(TenantDetail { tenant: convert::summary(overview), per_day, webhooks_enabled })
}

/// Operator: plan, retention and URL policy in one form.
#[server(prefix = "/rpc", endpoint = "update_tenant_settings")]
pub async fn update_tenant_settings(
    tenant_id: String,
    plan: String,
    retention_days: String,
    #[server(default)] allow_private_urls: Option<String>,
) -> Result<TenantSummary, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_operator()?;
    let plan = super::ssr::plan_field(&plan)?;
    let retention_days: i64 = retention_days
        .trim()
        .parse()
        .map_err(|_| domain::Error::invalid("retention_days", "Enter the retention as a whole number of days, e.g. 60."))?;
    let update = domain::tenants::TenantUpdate {
        plan: Some(plan),
        retention_days: Some(retention_days),
        allow_private_urls: Some(allow_private_urls.is_some_and(|v| !v.is_empty() && v != "false")),
        suspended: None,
    };
    herald.change_tenant(&actor, &tenant_id, update).await?;
    Ok(convert::summary(herald.tenant_overview(&actor, &tenant_id).await?))
}

/// Operator: suspend (no ingest, no delivery, read-only dashboard) or lift the suspension.
#[server(prefix = "/rpc", endpoint = "set_tenant_suspended")]
pub async fn set_tenant_suspended(tenant_id: String, suspended: bool) -> Result<bool, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_operator()?;
    let update = domain::tenants::TenantUpdate { suspended: Some(suspended), ..Default::default() };
    Ok(herald.change_tenant(&actor, &tenant_id, update).await?.suspended)
}

/// Operator: a new tenant with its first admin.
#[server(prefix = "/rpc", endpoint = "create_tenant")]
pub async fn create_tenant(
    name: String,
    plan: String,
    admin_email: String,
    #[server(default)] allow_private_urls: Option<String>,
) -> Result<NewTenant, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_operator()?;
    let plan = super::ssr::plan_field(&plan)?;
    let allow = allow_private_urls.is_some_and(|v| !v.is_empty() && v != "false");
    let request =
        domain::staff::TenantRequest { name, plan, admin_email: Some(admin_email), retention_days: None, allow_private_urls: allow };
    let created = herald.create_tenant_by(&actor, request).await?;
    Ok(NewTenant {
        name: herald.tenant(&created.tenant_id).await?.name,
        tenant_id: created.tenant_id,
        invitation_link: created.invitation_link,
    })
}

/// Support: deliveries of every tenant (archived ones too); empty fields mean "any".
#[server(prefix = "/rpc", endpoint = "search_deliveries")]
#[allow(clippy::too_many_arguments)]
pub async fn search_deliveries(
    tenant: String,
    endpoint_url: String,
    message_id: String,
    event_id: String,
    event_type: String,
    since: String,
    until: String,
    cursor: String,
) -> Result<SearchResults, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let some = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    let search = domain::staff::DeliverySearch {
        tenant: some(tenant),
        endpoint_url: some(endpoint_url),
        message_id: some(message_id),
        event_id: some(event_id),
        event_type: some(event_type),
        since: convert::time("since", &since)?,
        until: convert::time("until", &until)?,
        cursor: some(cursor),
        limit: Some(50),
    };
    let page = herald.search_deliveries(&actor, search).await?;
    let rows = page.data.into_iter().map(|delivery| FoundRow { archived: delivery.archived_at.is_some(), delivery }).collect();
    Ok(SearchResults { rows, next_cursor: page.next_cursor })
}

/// Staff: open a tenant's dashboard read-only (no changes, no secrets).
#[server(prefix = "/rpc", endpoint = "view_tenant")]
pub async fn view_tenant(tenant_id: String) -> Result<(), AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    actor.require_staff()?;
    herald.tenant(&tenant_id).await?;
    crate::session::switch_tenant(&super::ssr::session().await?, &tenant_id).await?;
    Ok(())
}

/// Staff: leave the tenant being viewed, back to the console.
#[server(prefix = "/rpc", endpoint = "stop_viewing")]
pub async fn stop_viewing() -> Result<(), AppError> {
    let (_, actor) = super::ssr::actor().await?;
    actor.require_staff()?;
    crate::session::clear_tenant(&super::ssr::session().await?).await?;
    Ok(())
}

/// The audit log: a tenant admin's own tenant, or for staff every tenant (`all`, narrowed to
/// `tenant_id` if given) or the one they are viewing.
#[server(prefix = "/rpc", endpoint = "audit_entries")]
pub async fn audit_entries(
    all: bool,
    #[server(default)] tenant_id: String,
    #[server(default)] action: String,
    #[server(default)] cursor: String,
    #[server(default)] limit: Option<i64>,
) -> Result<AuditView, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let tenant_id = if all {
        actor.require_staff()?;
        Some(tenant_id).filter(|t| !t.is_empty())
    } else {
        Some(actor.require_admin_read()?.to_string())
    };
    let filter = domain::audit::AuditFilter {
        tenant_id,
        action: Some(action).filter(|a| !a.is_empty()),
        cursor: Some(cursor).filter(|c| !c.is_empty()),
        limit: Some(limit.unwrap_or(50)),
        ..Default::default()
    };
    let page = herald.audit_log(&actor, filter).await?;
    Ok(AuditView { rows: page.data, next_cursor: page.next_cursor, all_tenants: all })
}

/// A platform key as the operator console lists it (never the key itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A platform key just made: the key itself, shown once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPlatformKey {
    pub name: String,
    pub key: String,
}

/// Operator: every platform key, newest first.
#[server(prefix = "/rpc", endpoint = "platform_keys")]
pub async fn platform_keys() -> Result<Vec<PlatformKeyRow>, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald
        .platform_keys(&actor)
        .await?
        .into_iter()
        .map(|k| PlatformKeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        })
        .collect())
}

/// Operator: a new platform key, returned once.
#[server(prefix = "/rpc", endpoint = "create_platform_key")]
pub async fn create_platform_key(#[server(default)] name: String) -> Result<NewPlatformKey, AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    let (key, plain) = herald.create_platform_key(&actor, &name).await?;
    Ok(NewPlatformKey { name: key.name, key: plain })
}

/// Operator: a platform key stops working at once.
#[server(prefix = "/rpc", endpoint = "revoke_platform_key")]
pub async fn revoke_platform_key(id: String) -> Result<(), AppError> {
    let (herald, actor) = super::ssr::actor().await?;
    Ok(herald.revoke_platform_key(&actor, &id).await?)
}
