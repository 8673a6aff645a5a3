//! Recording an attempt: the attempt row, the delivery's next step (retry or done), the
//! endpoint's stats and health (failure streak, at-risk mark, deactivation), and telling the
//! admins when its health changes.

use super::retry::{self, Next, Verdict};
use super::{AttemptRecord, Claimed};
use crate::endpoints::EndpointRow;
use crate::error::Error;
use crate::error::Result;
use crate::health::{self, FailureClass};
use crate::store::query::{value_list, value_rows, Arg, Statements};
use crate::store::Tx;
use crate::{execute_in, execute_on, ids, on_pool, on_tx, stats, Herald};
use types::{DeliveryKind, DeliveryStatus, StatusFilter};

/// What an attempt changed about its endpoint's health, to tell the admins after the commit.
enum HealthChange {
    Deactivated(String),
    AtRisk(FailureClass),
    Recovered,
}

/// A sent attempt waiting to be recorded.
pub(crate) struct Finished {
    claimed: Claimed,
    endpoint: EndpointRow,
    record: AttemptRecord,
    verdict: Verdict,
}

/// An attempt to record, and where to answer once it is committed.
pub(crate) type RecordJob = (Finished, tokio::sync::oneshot::Sender<Result<()>>);

/// Attempts recorded by one transaction at most.
const MAX_GROUP: usize = 256;

/// How long the recorder lets more attempts finish before it records what has come in. A turn
/// costs SQLite about the same for 7 attempts as for 24 (it writes whole pages of every index
/// touched): gathering for 2 ms measured 2 to 8 % more delivered end to end on SQLite, and no
/// change on PostgreSQL. The request is already over, so the wait delays only the row.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// Starts the attempt recorder: it takes every finished attempt waiting and records them in
/// one transaction (group commit). One transaction per attempt, each queueing for SQLite's one
/// writer or waiting its turn for a pooled PostgreSQL connection, is what held delivery back.
pub(crate) fn spawn_recorder(herald: std::sync::Weak<crate::Inner>) -> tokio::sync::mpsc::Sender<RecordJob> {
    let (queue, mut waiting) = tokio::sync::mpsc::channel::<RecordJob>(4 * MAX_GROUP);
    tokio::spawn(async move {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
            if group.len() < MAX_GROUP {
                tokio::time::sleep(GATHER).await;
                while group.len() < MAX_GROUP {
                    let Ok(job) = waiting.try_recv() else { break };
                    group.push(job);
                }
            }
            let Some(inner) = herald.upgrade() else { break };
            let finished: Vec<&Finished> = group.iter().map(|(f, _)| f).collect();
            let herald = Herald(inner);
            match herald.record_group(&finished).await {
                Ok(changes) => {
                    for ((_, reply), change) in group.drain(..).zip(changes) {
                        let Some((endpoint, change)) = change else {
                            let _ = reply.send(Ok(()));
                            continue;
                        };
                        // Mail is slow: it must not hold up the next group, only this attempt.
                        let herald = herald.clone();
                        tokio::spawn(async move {
                            herald.tell_admins(&endpoint, change).await;
                            let _ = reply.send(Ok(()));
                        });
                    }
                }
                Err(err) => {
                    tracing::error!(error = ?err, attempts = group.len(), "recording attempts failed; their leases run out and they are sent again");
                    for (_, reply) in group.drain(..) {
                        let _ = reply.send(Err(Error::Internal("the attempt was not recorded".into())));
                    }
                }
            }
        }
    });
    queue
}

/// What recording decides for one attempt.
struct Step {
    status: DeliveryStatus,
    /// When it is tried again (a retry) or `None`.
    retry_in: Option<i64>,
    failure: Option<FailureClass>,
}

impl Step {
    fn of(f: &Finished) -> Step {
        // A test is sent once: its result is shown at once, and it never counts against the endpoint.
        let next = match (f.claimed.kind == DeliveryKind::Test, f.verdict) {
            (true, verdict) => Next::Done { succeeded: verdict == Verdict::Succeeded },
            (false, verdict) => retry::next_step(f.claimed.attempts + 1, verdict, rand::random::<f64>()),
        };
        let (status, retry_in) = match next {
            Next::Done { succeeded: true } => (DeliveryStatus::Succeeded, None),
            Next::Done { succeeded: false } => (DeliveryStatus::Failed, None),
            Next::RetryIn(delay) => (DeliveryStatus::Retrying, Some(delay)),
        };
        let failure =
            (f.verdict != Verdict::Succeeded).then(|| FailureClass::of(f.record.status_code, f.record.error.as_deref().unwrap_or("")));
        Step { status, retry_in, failure }
    }

    fn is_test(&self, f: &Finished) -> bool {
        f.claimed.kind == DeliveryKind::Test
    }

    /// `next_attempt_at` and `completed_at`.
    fn times(&self, now: i64) -> (Option<i64>, Option<i64>) {
        match self.retry_in {
            Some(delay) => (Some(now + delay), None),
            None => (None, Some(now)),
        }
    }
}

/// The statements that record a group: its attempts, its deliveries' next steps, one rollup row
/// per endpoint, and the streak resets of `plain_resets`. A delivery whose endpoint was deleted
/// while it was being sent is gone with it: its rows are left out rather than failing the group
/// (the others would then be sent again when their leases ran out).
fn group_statements(
    rows: &[(&Finished, &Step)],
    tallies: &std::collections::BTreeMap<&str, stats::Tally>,
    plain_resets: &std::collections::BTreeSet<&str>,
    now: i64,
) -> Statements {
    let mut statements = Statements::default();
    let attempts = rows.iter().flat_map(|(f, step)| {
        let r = &f.record;
        [
            Arg::Text(ids::new_id("att")),
            f.claimed.id.as_str().into(),
            now.into(),
            r.duration_ms.into(),
            r.status_code.into(),
            r.response_headers.as_deref().into(),
            r.response_body.as_deref().into(),
            r.error.as_deref().into(),
            r.request.as_deref().into(),
            step.failure.map(|c| c.as_str()).into(),
        ]
    });
    statements.push(
        |first| {
            format!(
                "INSERT INTO attempts (id, delivery_id, attempted_at, duration_ms, status_code, response_headers, response_body, error,
                     request, failure_class)
                 SELECT v.* FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = v.column2)",
                value_rows(first, rows.len(), 10)
            )
        },
        attempts,
    );
    let deliveries = rows.iter().flat_map(|(f, step)| {
        let (due, completed) = step.times(now);
        let r = &f.record;
        [
            f.claimed.id.as_str().into(),
            step.status.as_str().into(),
            (f.claimed.attempts + 1).into(),
            due.into(),
            r.status_code.into(),
            r.duration_ms.into(),
            r.error.as_deref().into(),
            completed.into(),
        ]
    });
    statements.push(
        |first| {
            format!(
                "UPDATE deliveries SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4, lease_until = NULL,
                     last_status_code = v.column5, last_duration_ms = v.column6, last_error = v.column7, completed_at = v.column8
                 FROM (VALUES {}) AS v WHERE deliveries.id = v.column1",
                value_rows(first, rows.len(), 8)
            )
        },
        deliveries,
    );
    let hour = stats::hour_of(now);
    let rollups = tallies
        .iter()
        .flat_map(|(endpoint_id, tally)| [Arg::from(*endpoint_id), hour.into()].into_iter().chain(tally.counts().map(Arg::from)));
    statements.push(|first| stats::upsert_sql(first, tallies.len()), rollups);
    if !plain_resets.is_empty() {
        statements.push(
            |first| {
                format!(
                    "UPDATE endpoints SET consecutive_failures = 0 WHERE consecutive_failures <> 0 AND id IN ({})",
                    value_list(first, plain_resets.len())
                )
            },
            plain_resets.iter().map(|id| Arg::from(*id)),
        );
    }
    statements
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
    /// failure streak, deactivating it at 20 (or at once on 410) — in one transaction, shared
    /// with the other attempts finishing at the same time (see [`spawn_recorder`]).
    pub async fn record_attempt(&self, claimed: &Claimed, endpoint: &EndpointRow, record: AttemptRecord, verdict: Verdict) -> Result<()> {
        let (reply, recorded) = tokio::sync::oneshot::channel();
        let finished = Finished { claimed: claimed.clone(), endpoint: endpoint.clone(), record, verdict };
        let stopped = || Error::Internal("the attempt recorder stopped".into());
        self.record_queue.send((finished, reply)).await.map_err(|_| stopped())?;
        recorded.await.map_err(|_| stopped())?
    }

    /// Records a group of attempts in one transaction: multi-row statements for the attempts and
    /// the deliveries, one rollup row per endpoint and hour, the health of each endpoint in the
    /// order its attempts finished. Then counts them; gives the health change each caused.
    async fn record_group(&self, group: &[&Finished]) -> Result<Vec<Option<(EndpointRow, HealthChange)>>> {
        let now = self.clock.now();
        let steps: Vec<Step> = group.iter().map(|f| Step::of(f)).collect();
        let rows: Vec<(&Finished, &Step)> = group.iter().copied().zip(&steps).collect();
        let mut tallies: std::collections::BTreeMap<&str, stats::Tally> = Default::default();
        for (f, step) in &rows {
            let outcome = stats::Outcome {
                succeeded: step.failure.is_none(),
                gave_up: step.status == DeliveryStatus::Failed,
                duration_ms: f.record.duration_ms,
            };
            tallies.entry(f.endpoint.id.as_str()).or_default().add(&outcome);
        }
        // Health, attempt by attempt where an endpoint also failed in this group (the order
        // decides the streak); an endpoint that only succeeded needs its streak reset once,
        // with the other statements unless it was at risk when read (a recovery to report).
        let failing: std::collections::HashSet<&str> =
            rows.iter().filter(|(f, s)| !s.is_test(f) && s.failure.is_some()).map(|(f, _)| f.endpoint.id.as_str()).collect();
        let plain_resets: std::collections::BTreeSet<&str> = rows
            .iter()
            .filter(|(f, s)| !s.is_test(f) && f.endpoint.at_risk_since.is_none() && !failing.contains(f.endpoint.id.as_str()))
            .map(|(f, _)| f.endpoint.id.as_str())
            .collect();

        let statements = group_statements(&rows, &tallies, &plain_resets, now);
        debug_assert!(statements.binds() < 32_000, "SQLite's limit on binds in one call");

        // Most groups need nothing more: on SQLite they are sent with their BEGIN and COMMIT.
        let tracked = |(f, step): &(&Finished, &Step)| !step.is_test(f) && !plain_resets.contains(f.endpoint.id.as_str());
        if let (crate::store::Store::Sqlite(pool), false) = (&self.store, rows.iter().any(tracked)) {
            statements.commit_sqlite::<()>(pool, "record").await?;
            return Ok(self.counted(&rows, rows.iter().map(|_| None).collect()));
        }
        let mut tx = self.store.begin_relaxed("record").await?;
        statements.execute_in(&mut tx).await?;
        let mut reset = std::collections::HashSet::new();
        let mut changes = Vec::with_capacity(rows.len());
        for (f, step) in &rows {
            let endpoint = &f.endpoint;
            let id = endpoint.id.as_str();
            let change = match step.failure {
                _ if step.is_test(f) => None,
                None if plain_resets.contains(id) => None,
                None if !failing.contains(id) && !reset.insert(id) => None,
                None => self.track_success(&mut tx, endpoint).await?,
                Some(class) => self.track_failure(&mut tx, endpoint, f.verdict, class, f.record.status_code).await?,
            };
            changes.push(change.map(|c| (endpoint.clone(), c)));
        }
        tx.commit().await?;
        Ok(self.counted(&rows, changes))
    }

    /// Counts the recorded attempts in the metrics; gives back `changes`.
    fn counted<T>(&self, rows: &[(&Finished, &Step)], changes: Vec<T>) -> Vec<T> {
        for (f, step) in rows {
            self.count_outcome(&f.claimed.tenant_id, step.status, step.failure, Some(f.record.duration_ms));
        }
        changes
    }

    /// Emails the tenant's admins about a change in an endpoint's health.
    async fn tell_admins(&self, endpoint: &EndpointRow, change: HealthChange) {
        match change {
            HealthChange::Deactivated(reason) => {
                tracing::warn!(endpoint_id = %endpoint.id, tenant_id = %endpoint.tenant_id, %reason, "endpoint deactivated");
                self.notify_deactivated(endpoint, &reason).await;
            }
            HealthChange::AtRisk(class) => self.notify_at_risk(endpoint, class).await,
            HealthChange::Recovered => self.notify_recovered(endpoint).await,
        }
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
        let failures: Option<(i64,)> = on_tx!(tx, conn => sqlx::query_as(
            "UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, last_failure_at = $2, last_failure_class = $3,
                 last_failure_code = $4
             WHERE id = $1 RETURNING consecutive_failures")
            .bind(&endpoint.id).bind(now).bind(class.as_str()).bind(code).fetch_optional(conn).await)?;
        // Deleted while its attempt was in flight: no health left to keep.
        let Some((failures,)) = failures else { return Ok(None) };
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
