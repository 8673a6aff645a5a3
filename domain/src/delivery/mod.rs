//! The delivery engine. The `deliveries` table is the queue: a worker claims due rows with a
//! lease, sends them (HTTP or email), records the attempt and schedules what comes next in one
//! transaction. A worker that dies leaves its lease to expire, and the row is claimed again:
//! at-least-once, and nothing accepted is lost.

pub mod http;
pub mod retry;
pub mod sign;
pub mod throttle;
pub mod worker;

use std::time::{Duration, Instant};
use types::{Channel, DeliveryKind, DeliveryStatus, EndpointStatus};

use serde_json::Value;

use crate::clock::Millis;
use crate::endpoints::EndpointRow;
use crate::error::{Error, Result};
use crate::health::{self, FailureClass};
use crate::messages::Message;
use crate::store::{Store, Tx};
use crate::{ids, on_pool, on_tx, stats, Herald};
use retry::{Next, Verdict};

/// What an attempt changed about its endpoint's health, to tell the admins after the commit.
enum HealthChange {
    Deactivated(String),
    AtRisk(FailureClass),
    Recovered,
}

pub const USER_AGENT: &str = concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Response bodies are stored up to this size.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// How the engine behaves; tests shorten the waits.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    pub timeout: Duration,
    /// How long a claim holds before another worker may take the delivery over.
    pub lease: Duration,
    /// Deliveries in flight at once, per worker process.
    pub concurrency: usize,
    /// Deliveries in flight at once to one endpoint, per worker process.
    pub per_endpoint: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings { timeout: Duration::from_secs(10), lease: Duration::from_secs(60), concurrency: 64, per_endpoint: 8 }
    }
}

/// A claimed delivery.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub tenant_id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub kind: DeliveryKind,
    pub attempts: i64,
}

/// What one attempt produced.
#[derive(Clone, Debug, Default)]
pub struct AttemptRecord {
    /// The request as sent (method, URL, headers with secrets masked), as JSON.
    pub request: Option<String>,
    pub status_code: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Candidates come from the due index in time order (bounded, so a large backlog costs no more
/// than a small one), skipping throttled endpoints (see [`throttle`]) and endpoints already at `$3` in flight (`$5` lists one endpoint id
/// per delivery in flight); among them, each endpoint gets what is left of its `$3`.
const CLAIM_SQLITE: &str = "
UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT id FROM (
        SELECT id, endpoint_id, next_attempt_at, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank
        FROM (
            SELECT id, endpoint_id, next_attempt_at FROM deliveries
            WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
              AND endpoint_id NOT IN (SELECT value FROM json_each($5) GROUP BY value HAVING COUNT(*) >= $3)
              AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)
            ORDER BY next_attempt_at LIMIT 1000
        )
    ) ranked LEFT JOIN (SELECT value AS endpoint_id, COUNT(*) AS n FROM json_each($5) GROUP BY value) busy USING (endpoint_id)
    WHERE rank + COALESCE(busy.n, 0) <= $3
    ORDER BY next_attempt_at LIMIT $4)
RETURNING id, tenant_id, endpoint_id, message_id, event_type, kind, attempts";

/// PostgreSQL: `SKIP LOCKED` lets many workers claim side by side; the outer conditions are
/// re-checked on the locked row, so a row claimed meanwhile is not taken twice.
const CLAIM_POSTGRES: &str = "
UPDATE deliveries SET lease_until = $2
WHERE id IN (
    SELECT id FROM deliveries
    WHERE id IN (
        SELECT id FROM (
            SELECT id, endpoint_id, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rank
            FROM (
                SELECT id, endpoint_id, next_attempt_at FROM deliveries
                WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
                  AND NOT (endpoint_id = ANY(ARRAY(SELECT e FROM unnest($5::text[]) e GROUP BY e HAVING COUNT(*) >= $3)))
                  AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL)
                ORDER BY next_attempt_at LIMIT 1000
            ) candidates
        ) ranked LEFT JOIN (SELECT e AS endpoint_id, COUNT(*) AS n FROM unnest($5::text[]) e GROUP BY e) busy USING (endpoint_id)
        WHERE rank + COALESCE(busy.n, 0) <= $3)
      AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at LIMIT $4
    FOR UPDATE SKIP LOCKED)
RETURNING id, tenant_id, endpoint_id, message_id, event_type, kind, attempts";

impl Herald {
    /// Claims up to `limit` due deliveries, so that no endpoint has more than `per_endpoint` in
    /// flight in this process, counting those already `in_flight` (one endpoint id per delivery).
    /// Throttled endpoints are served first, each within its own limits.
    pub async fn claim_due(&self, limit: usize, per_endpoint: usize, in_flight: &[String]) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let lease_until = now + self.engine.lease.as_millis() as Millis;
        let mut claimed = self.claim_throttled(limit, now, lease_until).await?;
        let limit = limit - claimed.len();
        if limit == 0 {
            return Ok(claimed);
        }
        let general = match &self.store {
            Store::Sqlite(pool) => {
                let in_flight = serde_json::to_string(in_flight).unwrap_or_else(|_| "[]".into());
                let _turn = crate::store::sqlite_write_turn().await;
                sqlx::query_as::<_, Claimed>(CLAIM_SQLITE)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_endpoint as i64)
                    .bind(limit as i64)
                    .bind(in_flight)
                    .fetch_all(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                relaxed_commit(&mut tx).await?;
                let claimed = sqlx::query_as::<_, Claimed>(CLAIM_POSTGRES)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_endpoint as i64)
                    .bind(limit as i64)
                    .bind(in_flight)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                claimed
            }
        };
        claimed.extend(general);
        Ok(claimed)
    }

    /// Sends one claimed delivery and records the outcome.
    pub async fn deliver(&self, claimed: &Claimed) -> Result<()> {
        let endpoint = match self.endpoint_row(&claimed.tenant_id, &claimed.endpoint_id).await {
            Ok(e) => e,
            Err(Error::NotFound(_)) => return Ok(()), // deleted meanwhile; its deliveries went with it
            Err(e) => return Err(e),
        };
        let tenant = self.tenant(&claimed.tenant_id).await?;
        let skip_reason = if !tenant.webhooks_enabled {
            Some("Webhooks are switched off for this workspace")
        } else if tenant.suspended {
            Some("The workspace is suspended")
        } else if endpoint.status != EndpointStatus::Active && claimed.kind != DeliveryKind::Test {
            // A test may check a receiver before the endpoint is reactivated.
            Some("Endpoint inactive")
        } else {
            None
        };
        if let Some(reason) = skip_reason {
            return self.skip(&claimed.id, reason).await;
        }
        let message = self.message(&claimed.tenant_id, &claimed.message_id).await?;
        if message.payload.is_none() {
            return self.skip(&claimed.id, "The payload was archived").await;
        }
        let (record, verdict) = if endpoint.channel == Channel::Email {
            self.send_email(&endpoint, &message).await
        } else {
            self.send_http(&endpoint, &message, tenant.allow_private_urls).await
        };
        self.record_attempt(claimed, &endpoint, record, verdict).await
    }

    async fn skip(&self, delivery_id: &str, reason: &str) -> Result<()> {
        on_pool!(&self.store, pool => sqlx::query(
            "UPDATE deliveries SET status = 'skipped', next_attempt_at = NULL, lease_until = NULL, last_error = $1, completed_at = $2 WHERE id = $3")
            .bind(reason).bind(self.clock.now()).bind(delivery_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The body an endpoint receives, in its payload shape.
    pub fn body_for(endpoint: &EndpointRow, message: &Message) -> String {
        message.body(endpoint.payload_shape).unwrap_or_else(|| "null".into())
    }

    async fn send_http(&self, endpoint: &EndpointRow, message: &Message, allow_private: bool) -> (AttemptRecord, Verdict) {
        let started = Instant::now();
        let timestamp = self.clock.now() / 1000;
        let snapshot = request_snapshot(endpoint, &message.id, &timestamp.to_string()).to_string();
        let failed = |error: String, started: Instant| {
            let record = AttemptRecord {
                request: Some(snapshot.clone()),
                error: Some(error),
                duration_ms: started.elapsed().as_millis() as i64,
                ..Default::default()
            };
            (record, Verdict::Failed { retry_after: None })
        };
        // Literal IP addresses bypass the resolver: check them here.
        if let Ok(url) = url::Url::parse(&endpoint.url) {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = literal.filter(|ip| !crate::net::may_reach(*ip, allow_private)) {
                let what = if crate::net::is_forbidden(ip) {
                    "a link-local, unspecified or cloud metadata address"
                } else {
                    "a private, loopback or link-local address"
                };
                return failed(format!("Refused: the URL points to {what}"), started);
            }
        }
        let body = Self::body_for(endpoint, message);
        let signature = match self.signing_secrets(endpoint).and_then(|s| sign::signature_header(&s, &message.id, timestamp, &body)) {
            Ok(s) => s,
            Err(e) => return failed(format!("Could not sign the request: {e}"), started),
        };
        let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut request = self
            .http
            .for_tenant(allow_private)
            .request(method, &endpoint.url)
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        if let (Some(name), Some(sealed)) = (&endpoint.auth_header_name, &endpoint.auth_header_value) {
            match self.open_for(&endpoint.id, "auth_header_value", sealed) {
                Ok(value) => request = request.header(name.as_str(), value),
                Err(e) => return failed(format!("Could not read the auth header: {e}"), started),
            }
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) => {
                let why = if e.is_timeout() {
                    format!("Timed out: no response within {} s", self.http.timeout.as_secs_f32())
                } else if e.is_connect() {
                    format!("Connection failed: {}", http::root_cause(&e))
                } else {
                    format!("Request failed: {}", http::root_cause(&e))
                };
                return failed(why, started);
            }
        };
        let status = response.status().as_u16();
        let headers: serde_json::Map<String, Value> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
            .collect();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let (body, body_error) = read_capped(response).await;
        let verdict = match status {
            200..=299 => Verdict::Succeeded,
            410 => Verdict::Gone,
            429 | 502 | 503 | 504 => Verdict::Failed { retry_after: retry_after.and_then(|v| retry::retry_after(&v, self.clock.now())) },
            _ => Verdict::Failed { retry_after: None },
        };
        let error = match status {
            200..=299 => body_error,
            300..=399 => Some(format!("HTTP {status}: redirects are not followed; point the endpoint at the final URL")),
            410 => Some("HTTP 410 Gone: the receiver asked not to be called again".into()),
            _ => Some(format!("HTTP {status}")),
        };
        let record = AttemptRecord {
            request: Some(snapshot),
            status_code: Some(status as i64),
            response_headers: Some(Value::Object(headers).to_string()),
            response_body: Some(body),
            error,
            duration_ms: started.elapsed().as_millis() as i64,
        };
        (record, verdict)
    }

    async fn send_email(&self, endpoint: &EndpointRow, message: &Message) -> (AttemptRecord, Verdict) {
        let started = Instant::now();
        let body = Self::body_for(endpoint, message);
        let pretty = serde_json::from_str::<Value>(&body).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or(body);
        let to = endpoint.email.clone().unwrap_or_default();
        let subject = format!("[Herald] {} ({})", message.event_type, message.id);
        let result = self.mailer.send(&to, &subject, &pretty).await;
        let duration_ms = started.elapsed().as_millis() as i64;
        match result {
            Ok(()) => (AttemptRecord { duration_ms, ..Default::default() }, Verdict::Succeeded),
            Err(e) => {
                let why = match e {
                    Error::Internal(detail) => detail,
                    other => other.to_string(),
                };
                (
                    AttemptRecord { error: Some(format!("Email not sent: {why}")), duration_ms, ..Default::default() },
                    Verdict::Failed { retry_after: None },
                )
            }
        }
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
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO attempts (id, delivery_id, attempted_at, duration_ms, status_code, response_headers, response_body, error, request,
                 failure_class)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(ids::new_id("att")).bind(&claimed.id).bind(now).bind(record.duration_ms).bind(record.status_code)
            .bind(&record.response_headers).bind(&record.response_body).bind(&record.error).bind(&record.request)
            .bind(failure)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, lease_until = NULL, last_status_code = $4,
                 last_duration_ms = $5, last_error = $6, completed_at = $7
             WHERE id = $8")
            .bind(status).bind(attempts).bind(due).bind(record.status_code).bind(record.duration_ms).bind(&record.error)
            .bind(completed).bind(&claimed.id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
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
        on_tx!(tx, conn => sqlx::query("UPDATE endpoints SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0")
            .bind(&endpoint.id).execute(conn).await.map(|r| r.rows_affected()))?;
        // The row read before sending says whether there is a mark to clear; one set since
        // is cleared by the next success. This keeps the common path at one statement.
        if endpoint.at_risk_since.is_none() {
            return Ok(None);
        }
        let cleared = on_tx!(tx, conn => sqlx::query("UPDATE endpoints SET at_risk_since = NULL WHERE id = $1 AND at_risk_since IS NOT NULL")
            .bind(&endpoint.id).execute(conn).await.map(|r| r.rows_affected()))?;
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
            let marked = on_tx!(tx, conn => sqlx::query(
                "UPDATE endpoints SET at_risk_since = $1 WHERE id = $2 AND at_risk_since IS NULL AND status = 'active'")
                .bind(now).bind(&endpoint.id).execute(conn).await.map(|r| r.rows_affected()))?;
            return Ok((marked > 0).then_some(HealthChange::AtRisk(class)));
        } else {
            return Ok(None);
        };
        let changed = on_tx!(tx, conn => sqlx::query(
            "UPDATE endpoints SET status = 'inactive', inactive_reason = $1, inactive_since = $2, at_risk_since = NULL
             WHERE id = $3 AND status = 'active'")
            .bind(&reason).bind(now).bind(&endpoint.id).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok((changed > 0).then_some(HealthChange::Deactivated(reason)))
    }

    /// Emails the tenant's admins that an endpoint stopped receiving, with a link to its failures.
    async fn notify_deactivated(&self, endpoint: &EndpointRow, reason: &str) {
        let link = format!("{}/logs?endpoint_id={}&status={}", self.public_url, endpoint.id, types::StatusFilter::Undelivered);
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

/// Claims and attempt records may be lost in a crash without breaking at-least-once (the
/// lease runs out and the delivery is sent again), so they skip waiting for the disk flush.
/// Ingest never does this: an accepted event must be on disk before the 202.
async fn relaxed_commit(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<()> {
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut **tx).await?;
    Ok(())
}

/// The request as the raw view shows it: what was sent, with the signature and the auth header
/// value masked (the body is rebuilt from the message).
pub(crate) fn request_snapshot(endpoint: &EndpointRow, message_id: &str, timestamp: &str) -> Value {
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("user-agent".to_string(), USER_AGENT.to_string()),
        ("webhook-id".to_string(), message_id.to_string()),
        ("webhook-timestamp".to_string(), timestamp.to_string()),
        ("webhook-signature".to_string(), crate::logs::MASKED_SIGNATURE.to_string()),
    ];
    if let Some(name) = &endpoint.auth_header_name {
        headers.push((name.clone(), crate::logs::MASKED.to_string()));
    }
    serde_json::json!({ "method": endpoint.method, "url": endpoint.url, "payload_shape": endpoint.payload_shape, "headers": headers })
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes of a response; returns the text and, if reading
/// failed part-way, why.
async fn read_capped(mut response: reqwest::Response) -> (String, Option<String>) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_RESPONSE_BODY {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                return (
                    String::from_utf8_lossy(&body).into_owned(),
                    Some(format!("Reading the response failed: {}", http::root_cause(&e))),
                )
            }
        }
    }
    (String::from_utf8_lossy(&body).into_owned(), None)
}
