//! Recording an attempt: the attempt row, the delivery's next step (retry or done), the
//! endpoint's stats and health (failure streak, at-risk mark, deactivation), and telling the
//! admins when its health changes.

use super::retry::{self, Next, Verdict};
use super::{relaxed_commit, AttemptRecord, Claimed};
use crate::endpoints::EndpointRow;
use crate::error::Result;
use crate::health::{self, FailureClass};
use crate::store::Tx;
use crate::{execute_in, execute_on, ids, on_pool, on_tx, stats, Herald};
use types::{DeliveryKind, DeliveryStatus, StatusFilter};

/// What an attempt changed about its endpoint's health, to tell the admins after the commit.
enum HealthChange {
    Deactivated(String),
    AtRisk(FailureClass),
    Recovered,
}

impl Herald {
    /// Closes the delivery unsent, with why.
    pub(super) async fn skip(&self, claimed: &Claimed, reason: &str) -> Result<()> {
        execute_on!(&self.store, sqlx::query(
            "UPDATE deliveries SET status = 'skipped', next_attempt_at = NULL, lease_until = NULL, last_error = $1, completed_at = $2 WHERE id = $3")
            .bind(reason).bind(self.clock.now()).bind(&claimed.id))?;
        self.count_outcome(&claimed.tenant_id, DeliveryStatus::Skipped, None, None);
        Ok(())
    }

    /// Stores the attempt, schedules the retry or closes the delivery, and keeps the endpoint's
    /// failure streak, deactivating it at 20 (or at once on 410) — all in one transaction.
    pub async fn record_attempt(&self, claimed: &Claimed, endpoint: &EndpointRow, record: AttemptRecord, verdict: Verdict) -> Result<()> {
        let now = self.clock.now();
        let attempts = claimed.attempts + 1;
        // A test is sent once: its result is shown at once, and it never counts against the endpoint.
        let is_test = claimed.kind == DeliveryKind::Test;
        let next = match (is_test, verdict) {
            (true, Verdict::Succeeded) => Next::Done { succeeded: true },
            (true, _) => Next::Done { succeeded: false },
            (false, verdict) => retry::next_step(attempts, verdict, rand::random::<f64>()),
        };
        let (status, due, completed) = match next {
            Next::Done { succeeded: true } => (DeliveryStatus::Succeeded, None, Some(now)),
            Next::Done { succeeded: false } => (DeliveryStatus::Failed, None, Some(now)),
            Next::RetryIn(delay) => (DeliveryStatus::Retrying, Some(now + delay), None),
        };
        let failure = (verdict != Verdict::Succeeded).then(|| FailureClass::of(record.status_code, record.error.as_deref().unwrap_or("")));
        let mut tx = self.store.begin().await?;
        if let Tx::Postgres(t) = &mut tx {
            relaxed_commit(t).await?;
        }
        execute_in!(&mut tx, sqlx::query(
            "INSERT INTO attempts (id, delivery_id, attempted_at, duration_ms, status_code, response_headers, response_body, error, request,
                 failure_class)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(ids::new_id("att")).bind(&claimed.id).bind(now).bind(record.duration_ms).bind(record.status_code)
            .bind(&record.response_headers).bind(&record.response_body).bind(&record.error).bind(&record.request)
            .bind(failure))?;
        execute_in!(
            &mut tx,
            sqlx::query(
                "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL, last_status_code = $4,
                 last_duration_ms = $5, last_error = $6, completed_at = $7
             WHERE id = $8"
            )
            .bind(status)
            .bind(attempts)
            .bind(due)
            .bind(record.status_code)
            .bind(record.duration_ms)
            .bind(&record.error)
            .bind(completed)
            .bind(&claimed.id)
        )?;
        let outcome = stats::Outcome {
            succeeded: verdict == Verdict::Succeeded,
            gave_up: status == DeliveryStatus::Failed,
            duration_ms: record.duration_ms,
        };
        stats::record(&mut tx, &endpoint.id, now, outcome).await?;
        let change = match failure {
            _ if is_test => None,
            None => self.track_success(&mut tx, endpoint).await?,
            Some(class) => self.track_failure(&mut tx, endpoint, verdict, class, record.status_code).await?,
        };
        tx.commit().await?;
        self.count_outcome(&claimed.tenant_id, status, failure, Some(record.duration_ms));
        match change {
            Some(HealthChange::Deactivated(reason)) => {
                tracing::warn!(endpoint_id = %endpoint.id, tenant_id = %endpoint.tenant_id, %reason, "endpoint deactivated");
                self.notify_deactivated(endpoint, &reason).await;
            }
            Some(HealthChange::AtRisk(class)) => self.notify_at_risk(endpoint, class).await,
            Some(HealthChange::Recovered) => self.notify_recovered(endpoint).await,
            None => {}
        }
        Ok(())
    }

    /// A success ends a failure streak; if admins were told the endpoint was at risk, or it was
    /// reactivated, this is its recovery (reported once: the worker that clears the mark).
    async fn track_success(&self, tx: &mut Tx, endpoint: &EndpointRow) -> Result<Option<HealthChange>> {
        execute_in!(
            tx,
            sqlx::query("UPDATE endpoints SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0").bind(&endpoint.id)
        )?;
        // The row read before sending says whether there is a mark to clear; one set since
        // is cleared by the next success. This keeps the common path at one statement.
        if endpoint.at_risk_since.is_none() {
            return Ok(None);
        }
        let cleared = execute_in!(
            tx,
            sqlx::query("UPDATE endpoints SET at_risk_since = NULL WHERE id = $1 AND at_risk_since IS NOT NULL").bind(&endpoint.id)
        )?;
        Ok((cleared > 0).then_some(HealthChange::Recovered))
    }

    /// Counts the failure and remembers it as the endpoint's last; deactivates at 20 (or at once
    /// on 410), and marks the endpoint at risk when 5 failures are left.
    async fn track_failure(
        &self,
        tx: &mut Tx,
        endpoint: &EndpointRow,
        verdict: Verdict,
        class: FailureClass,
        code: Option<i64>,
    ) -> Result<Option<HealthChange>> {
        let now = self.clock.now();
        let (failures,): (i64,) = on_tx!(tx, conn => sqlx::query_as(
            "UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, last_failure_at = $2, last_failure_class = $3,
                 last_failure_code = $4
             WHERE id = $1 RETURNING consecutive_failures")
            .bind(&endpoint.id).bind(now).bind(class.as_str()).bind(code).fetch_one(conn).await)?;
        let reason = if verdict == Verdict::Gone {
            "The receiver answered 410 Gone".to_string()
        } else if failures >= retry::DEACTIVATE_AFTER {
            format!("{} consecutive failed attempts", retry::DEACTIVATE_AFTER)
        } else if failures >= retry::DEACTIVATE_AFTER - health::AT_RISK_LEFT {
            // Once per episode: the mark stays until a success or a reactivation clears it.
            let marked = execute_in!(
                tx,
                sqlx::query("UPDATE endpoints SET at_risk_since = $1 WHERE id = $2 AND at_risk_since IS NULL AND status = 'active'")
                    .bind(now)
                    .bind(&endpoint.id)
            )?;
            return Ok((marked > 0).then_some(HealthChange::AtRisk(class)));
        } else {
            return Ok(None);
        };
        let changed = execute_in!(
            tx,
            sqlx::query(
                "UPDATE endpoints SET status = 'inactive', inactive_reason = $1, inactive_since = $2, at_risk_since = NULL
             WHERE id = $3 AND status = 'active'"
            )
            .bind(&reason)
            .bind(now)
            .bind(&endpoint.id)
        )?;
        Ok((changed > 0).then_some(HealthChange::Deactivated(reason)))
    }

    /// Emails the tenant's admins that an endpoint stopped receiving, with a link to its failures.
    async fn notify_deactivated(&self, endpoint: &EndpointRow, reason: &str) {
        let link = format!("{}/logs?endpoint_id={}&status={}", self.public_url, endpoint.id, StatusFilter::Undelivered);
        let target = endpoint.target();
        let body = format!(
            "Herald stopped delivering to your endpoint \"{}\" ({target}).\n\nReason: {reason}.\n\n\
             New events for it are recorded as skipped, so they can be sent again once it works.\n\
             See the deliveries that failed:\n{link}\n\nWhen the receiver is fixed, reactivate the endpoint in the dashboard.\n",
            endpoint.name
        );
        let subject = format!("Endpoint \"{}\" was deactivated", endpoint.name);
        self.email_admins(endpoint, &subject, &body).await;
    }

    /// Warns the admins before deactivation, with the reason and the fix.
    async fn notify_at_risk(&self, endpoint: &EndpointRow, class: FailureClass) {
        let link = format!("{}/endpoints/{}", self.public_url, endpoint.id);
        let body = format!(
            "Deliveries to your endpoint \"{}\" ({}) keep failing: {} more failed attempts in a row and Herald \
             deactivates it.\n\nWhy: {}\nWhat to do: {}\n\nSee its health and failures:\n{link}\n",
            endpoint.name,
            endpoint.target(),
            health::AT_RISK_LEFT,
            class.sentence(),
            class.fix()
        );
        let subject = format!("Endpoint \"{}\" is at risk of being deactivated", endpoint.name);
        self.email_admins(endpoint, &subject, &body).await;
    }

    async fn notify_recovered(&self, endpoint: &EndpointRow) {
        let link = format!("{}/endpoints/{}", self.public_url, endpoint.id);
        let body = format!(
            "Your endpoint \"{}\" ({}) accepted a delivery again. Nothing more to do.\n\nIts deliveries:\n{link}\n",
            endpoint.name,
            endpoint.target()
        );
        self.email_admins(endpoint, &format!("Endpoint \"{}\" has recovered", endpoint.name), &body).await;
    }

    async fn email_admins(&self, endpoint: &EndpointRow, subject: &str, body: &str) {
        let admins: Vec<(String,)> = match on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.role IN ('owner', 'admin') ORDER BY u.email")
            .bind(&endpoint.tenant_id).fetch_all(pool).await)
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the admins to email");
                return;
            }
        };
        for (email,) in admins {
            if let Err(e) = self.mailer.send(&email, subject, body).await {
                tracing::error!(error = ?e, subject, "email to an admin not sent");
            }
        }
    }
}
