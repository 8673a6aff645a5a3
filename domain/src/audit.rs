//! The audit log: every change made by tenant admins, members and staff — who, when, what and
//! from which address. Tenant admins read their tenant's entries; staff read all of them.
//!
//! Recording: call [`Herald::audit`] after a change succeeded (it never fails the caller: a
//! write error is logged), or [`Herald::audit_in`] inside the change's own transaction when the
//! entry must commit or roll back with it. Never put secrets (auth header values, signing
//! secrets, API keys) into `summary` or `details`.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::roles::{Actor, ActorKind};
use crate::store::query::{keyset_page, page_size, Arg, Conditions};
use crate::store::Tx;
use crate::{execute_in, ids, Herald};
pub use types::{AuditAction, AuditGroup};

/// One change to record.
#[derive(Clone, Debug)]
pub struct Audit {
    pub tenant_id: Option<String>,
    pub action: AuditAction,
    /// The id (or email) of what changed.
    pub target: Option<String>,
    /// One sentence for people: `Created endpoint "Booking sync"`.
    pub summary: String,
    pub details: Option<Value>,
}

impl Audit {
    pub fn new(tenant_id: Option<&str>, action: AuditAction, summary: impl Into<String>) -> Audit {
        Audit { tenant_id: tenant_id.map(str::to_string), action, target: None, summary: summary.into(), details: None }
    }

    pub fn target(mut self, target: impl Into<String>) -> Audit {
        self.target = Some(target.into());
        self
    }

    pub fn details(mut self, details: Value) -> Audit {
        self.details = Some(details);
        self
    }
}

pub use types::AuditEntry;

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// `None`: every tenant the reader may read (see [`Herald::audit_log`]).
    pub tenant_id: Option<String>,
    /// An exact action, or a prefix ending in `.` (`endpoint.`).
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// Who did it, as the log shows it.
fn actor_fields(actor: &Actor) -> (Option<String>, String, ActorKind) {
    let id = (!actor.user_id.is_empty()).then(|| actor.user_id.clone());
    match (actor.kind, actor.staff) {
        (ActorKind::User, Some(role)) => (id, format!("{} ({})", actor.email, role.as_str()), ActorKind::Staff),
        (kind, _) => (id, actor.email.clone(), kind),
    }
}

const INSERT: &str =
    "INSERT INTO audit_log (id, tenant_id, actor_id, actor_label, actor_kind, action, target, summary, details, ip, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

impl Herald {
    /// Records a change that already happened. Never fails: a lost entry is logged loudly.
    /// Do not call it while holding a SQLite transaction (use [`Herald::audit_in`] there).
    pub async fn audit(&self, actor: &Actor, entry: Audit) {
        let action = entry.action;
        let tenant_id = entry.tenant_id.clone();
        let written = async {
            let mut tx = self.store.begin().await?;
            self.audit_in(&mut tx, actor, entry).await?;
            tx.commit().await
        };
        if let Err(err) = written.await {
            tracing::error!(error = %err, action = %action, ?tenant_id, "audit entry not recorded");
        }
    }

    /// Records a change inside its own transaction: both commit, or neither.
    pub async fn audit_in(&self, tx: &mut Tx, actor: &Actor, entry: Audit) -> Result<()> {
        let (actor_id, label, kind) = actor_fields(actor);
        let details = entry.details.as_ref().map(Value::to_string);
        execute_in!(
            tx,
            sqlx::query(INSERT)
                .bind(ids::new_id("aud"))
                .bind(&entry.tenant_id)
                .bind(&actor_id)
                .bind(&label)
                .bind(kind)
                .bind(entry.action)
                .bind(&entry.target)
                .bind(&entry.summary)
                .bind(&details)
                .bind(&actor.ip)
                .bind(self.clock.now())
        )?;
        Ok(())
    }

    /// One page of the audit log, newest first, of what `actor` may read: staff and the command
    /// line every tenant's (narrowed to `filter.tenant_id` if given), everyone else their own
    /// tenant's, as an admin (another tenant's id answers 404).
    pub async fn audit_log(&self, actor: &Actor, mut filter: AuditFilter) -> Result<AuditPage> {
        if !actor.reads_every_tenant() {
            let own = actor.require_admin_read()?;
            if filter.tenant_id.as_deref().is_some_and(|t| t != own) {
                return Err(Error::NotFound("tenant"));
            }
            filter.tenant_id = Some(own.to_string());
        }
        let limit = page_size(filter.limit)?;
        let mut conditions = Conditions::default();
        let mut push = |sql: &str, arg: Arg| conditions.push(sql, [arg]);
        if let Some(t) = filter.tenant_id {
            push("a.tenant_id = ?", Arg::Text(t));
        }
        if let Some(action) = filter.action.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()) {
            if action.len() > 100 {
                return Err(Error::invalid("action", "action can be at most 100 characters."));
            }
            if let Some(prefix) = action.strip_suffix('.') {
                // Wildcards in the prefix are taken literally (`api_key.`, `event_type.`).
                let literal = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                push("a.action LIKE ? ESCAPE '\\'", Arg::Text(format!("{literal}.%")));
            } else {
                push("a.action = ?", Arg::Text(action));
            }
        }
        if let Some(v) = filter.since {
            push("a.created_at >= ?", Arg::Int(v));
        }
        if let Some(v) = filter.until {
            push("a.created_at < ?", Arg::Int(v));
        }
        if let Some(cursor) = filter.cursor.filter(|c| !c.is_empty()) {
            let seq: i64 = cursor.parse().map_err(|_| Error::invalid("cursor", "The cursor is not one this API returned."))?;
            push("a.seq < ?", Arg::Int(seq));
        }
        let filter_sql = conditions.where_clause();
        let sql = format!(
            "SELECT a.seq, a.id, a.tenant_id, t.name AS tenant_name, a.actor_id, a.actor_label, a.actor_kind, a.action, a.target,
                    a.summary, a.details, a.ip, a.created_at
             FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id {filter_sql}
             ORDER BY a.seq DESC LIMIT {}",
            limit + 1
        );
        let rows = conditions.fetch_all::<AuditEntry>(&self.store, &sql).await?;
        let (data, next_cursor) = keyset_page(rows, limit, |r| r.seq.to_string());
        Ok(AuditPage { data, next_cursor })
    }
}
