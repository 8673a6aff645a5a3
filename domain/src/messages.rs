//! Ingest: an accepted event becomes a message and one delivery per subscribed endpoint, in
//! one transaction, so nothing accepted is ever lost or half-recorded.

use serde::Serialize;
use serde_json::Value;

use crate::catalog::envelope;
use crate::clock::rfc3339;
use crate::endpoints::EndpointRow;
use crate::endpoints::{EndpointStatus, PayloadShape};
use crate::error::{Error, Result};
use crate::roles::Actor;
use crate::store::query::{bind_args, value_rows, Arg, Statements};
use crate::store::{Store, Tx};
use crate::{execute_in, ids, on_pool, Herald};
use types::{DeliveryKind, DeliveryStatus};

pub const MAX_BODY: usize = 256 * 1024;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Message {
    pub id: String,
    pub tenant_id: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub payload: Option<String>,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

/// The answer to an ingest: the message id, and whether this call created it.
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    pub id: String,
    #[serde(skip)]
    pub created: bool,
}

impl Message {
    /// The body an endpoint receives in its payload shape (`data` or `envelope`); `None` once
    /// archived.
    pub fn body(&self, payload_shape: PayloadShape) -> Option<String> {
        let payload = self.payload.as_ref()?;
        Some(if payload_shape == PayloadShape::Data { payload.clone() } else { self.envelope().to_string() })
    }

    /// The Standard envelope (`id` equals the `webhook-id` header, so receivers can deduplicate).
    pub fn envelope(&self) -> Value {
        let data: Value = self.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
        let event_id = self.event_id.as_deref().unwrap_or(&self.id);
        envelope(&self.id, event_id, &self.event_type, &rfc3339(self.created_at), &self.tenant_id, data)
    }
}

pub(crate) const MESSAGE_COLUMNS: &str = "id, tenant_id, event_id, event_type, payload, created_at, archived_at";

impl Herald {
    /// Records an event for the actor's tenant and queues its deliveries. A repeated
    /// `event_id` returns the first message and creates nothing. Staff viewing the tenant and
    /// suspended tenants are refused, like every other write.
    pub async fn ingest(&self, actor: &Actor, event_type: &str, data: Value, event_id: Option<String>) -> Result<Accepted> {
        let tenant_id = actor.require_writer()?.to_string();
        // An alias (a deprecated or a source platform's name) is stored and sent under its
        // catalog name, which subscriptions match on.
        // A type this process does not know yet may have been defined a moment ago in another
        // one: look at the database's catalog before refusing.
        let asked = event_type.trim();
        let known = match self.catalog().resolve(asked) {
            Some(known) => Some(known.name.clone()),
            None => self.fresh_catalog().await?.resolve(asked).map(|t| t.name.clone()),
        };
        let Some(event_type) = known else {
            return Err(Error::invalid("event_type", format!("\"{asked}\" is not an event type. See GET /api/v1/event-types.")));
        };
        let event_type = event_type.as_str();
        if !data.is_object() {
            return Err(Error::invalid("data", "data must be a JSON object."));
        }
        let event_id = event_id.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if event_id.as_ref().is_some_and(|e| e.len() > 200) {
            return Err(Error::invalid("event_id", "event_id can be at most 200 characters."));
        }
        // A repeated event_id is found by the writer (its insert does nothing), not read first.
        let view = self.tenant_view(&tenant_id, actor.tenant_revision).await?;
        let (tenant, endpoints) = (&view.tenant, &view.endpoints);
        if tenant.suspended {
            return Err(Error::Forbidden("This tenant is suspended: events are not accepted.".into()));
        }
        let now = self.clock.now();
        let message_id = ids::new_id("msg");
        // An endpoint whose payload filter the event does not match gets no delivery at all.
        let receivers: Vec<&EndpointRow> = {
            // Built only if some endpoint has a filter.
            let built = std::cell::OnceCell::new();
            let built_envelope = || {
                built.get_or_init(|| {
                    let event_id = event_id.as_deref().unwrap_or(&message_id);
                    envelope(&message_id, event_id, event_type, &rfc3339(now), &tenant_id, data.clone())
                })
            };
            endpoints.iter().filter(|e| e.subscribes_to(event_type) && e.filter().is_none_or(|f| f.matches(built_envelope()))).collect()
        };
        // Nothing is lost while an endpoint or all webhooks are off: the delivery is recorded as
        // skipped, with why, and bulk recover sends it once things are on again.
        let deliveries = receivers
            .into_iter()
            .map(|endpoint| {
                let off = if !tenant.webhooks_enabled {
                    Some("Webhooks were turned off when the event arrived")
                } else if endpoint.status != EndpointStatus::Active {
                    Some("Endpoint inactive when the event arrived")
                } else {
                    None
                };
                QueuedDelivery { id: ids::new_id("dlv"), endpoint_id: endpoint.id.clone(), off }
            })
            .collect();
        let message = NewMessage {
            id: message_id,
            tenant_id: tenant_id.clone(),
            event_id: event_id.clone(),
            event_type: event_type.to_string(),
            payload: data.to_string(),
            created_at: now,
            deliveries,
        };
        let (reply, written) = tokio::sync::oneshot::channel();
        self.ingest_queue.send((message, reply)).await.map_err(|_| Error::Internal("the ingest writer stopped".into()))?;
        let written = written.await.map_err(|_| Error::Internal("the ingest writer stopped".into()))??;
        let Some(message_id) = written else {
            // Another request with the same event_id won the race: answer with its message.
            let existing = self.message_by_event_id(&tenant_id, event_id.as_deref()).await?;
            return existing.map(|id| Accepted { id, created: false }).ok_or_else(|| Error::internal("idempotency", "lost message"));
        };
        self.count_ingested(&tenant_id);
        self.wake_workers();
        Ok(Accepted { id: message_id, created: true })
    }

    async fn message_by_event_id(&self, tenant_id: &str, event_id: Option<&str>) -> Result<Option<String>> {
        let Some(event_id) = event_id else { return Ok(None) };
        let row: Option<(String,)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT id FROM messages WHERE tenant_id = $1 AND event_id = $2")
            .bind(tenant_id).bind(event_id).fetch_optional(pool).await)?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn message(&self, tenant_id: &str, id: &str) -> Result<Message> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND tenant_id = $2");
        on_pool!(&self.store, pool => sqlx::query_as::<_, Message>(&sql).bind(id).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("message"))
    }

    /// The messages with these ids (of any tenant: callers check).
    pub(crate) async fn messages_by_id(&self, ids: &[&str]) -> Result<Vec<Message>> {
        crate::store::query::fetch_by_ids(&self.store, &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id"), ids).await
    }
}

/// One delivery to queue with [`insert_delivery`].
pub(crate) struct NewDelivery<'a> {
    pub tenant_id: &'a str,
    pub endpoint_id: &'a str,
    pub message_id: &'a str,
    pub event_type: &'a str,
    pub status: DeliveryStatus,
    pub kind: DeliveryKind,
    /// The delivery this one replays.
    pub replay_of: Option<&'a str>,
    /// When it is due (`next_attempt_at`); `None`: no worker claims it.
    pub due: Option<i64>,
    pub last_error: Option<&'a str>,
    pub now: i64,
}

/// Queues one delivery inside an open transaction.
pub(crate) async fn insert_delivery(tx: &mut Tx, new: &NewDelivery<'_>) -> Result<String> {
    let id = ids::new_id("dlv");
    execute_in!(tx, sqlx::query(
        "INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, replay_of, next_attempt_at, last_error, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(&id).bind(new.tenant_id).bind(new.endpoint_id).bind(new.message_id).bind(new.event_type).bind(new.status).bind(new.kind)
        .bind(new.replay_of).bind(new.due).bind(new.last_error).bind(new.now))?;
    Ok(id)
}

/// An accepted event's rows, ready for the ingest writer.
pub(crate) struct NewMessage {
    id: String,
    tenant_id: String,
    event_id: Option<String>,
    event_type: String,
    payload: String,
    created_at: i64,
    deliveries: Vec<QueuedDelivery>,
}

struct QueuedDelivery {
    id: String,
    endpoint_id: String,
    /// Why it is recorded as skipped instead of queued.
    off: Option<&'static str>,
}

/// A message to write, and where to answer: its id once committed, `None` if its `event_id`
/// was already taken.
pub(crate) type IngestJob = (NewMessage, tokio::sync::oneshot::Sender<Result<Option<String>>>);

/// Messages written by one transaction at most.
const MAX_GROUP: usize = 256;

/// PostgreSQL writers at once: while one group waits for its commit to be flushed, the next
/// one gathers and is written. SQLite has one writer whatever Herald does, so it gets one.
const POSTGRES_WRITERS: usize = 3;

/// Starts the ingest writers: each takes every message waiting and writes them in one
/// transaction (group commit), then answers each. A 202 still comes only after its event is
/// committed; a commit per request is what capped ingest (on SQLite every writer queues for one
/// lock, on PostgreSQL each commit waits for its own flush).
pub(crate) fn spawn_ingest_writer(store: Store) -> tokio::sync::mpsc::Sender<IngestJob> {
    let (queue, waiting) = tokio::sync::mpsc::channel::<IngestJob>(4 * MAX_GROUP);
    let waiting = std::sync::Arc::new(tokio::sync::Mutex::new(waiting));
    let writers = if matches!(store, Store::Postgres(_)) { POSTGRES_WRITERS } else { 1 };
    for _ in 0..writers {
        tokio::spawn(write_groups(store.clone(), waiting.clone()));
    }
    queue
}

/// One writer: the next group is taken while holding `waiting`, so writers take turns gathering.
async fn write_groups(store: Store, waiting: std::sync::Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<IngestJob>>>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    loop {
        if waiting.lock().await.recv_many(&mut group, MAX_GROUP).await == 0 {
            return;
        }
        // In one order, so that writers inserting the same event_id at once cannot deadlock.
        group.sort_by(|(a, _), (b, _)| (&a.tenant_id, &a.event_id).cmp(&(&b.tenant_id, &b.event_id)));
        let messages: Vec<&NewMessage> = group.iter().map(|(m, _)| m).collect();
        match write_group(&store, &messages).await {
            Ok(written) => {
                for (message, reply) in group.drain(..) {
                    let _ = reply.send(Ok(written.contains(&message.id).then_some(message.id)));
                }
            }
            Err(err) => {
                tracing::error!(error = ?err, messages = group.len(), "ingest transaction failed");
                for (_, reply) in group.drain(..) {
                    let _ = reply.send(Err(Error::Internal("the event could not be stored".into())));
                }
            }
        }
    }
}

/// Writes the messages and their deliveries; the ids of the messages written (one whose
/// `event_id` is taken is not, nor are its deliveries). Each message is written with its
/// deliveries or not at all.
async fn write_group(store: &Store, messages: &[&NewMessage]) -> Result<std::collections::HashSet<String>> {
    match store {
        Store::Postgres(pool) => write_group_postgres(pool, messages).await,
        Store::Sqlite(pool) => write_group_sqlite(store, pool, messages).await,
    }
}

/// Binds per row of [`insert_messages_sql`] and of [`insert_deliveries_sql`].
const MESSAGE_BINDS: usize = 6;
const DELIVERY_BINDS: usize = 10;

/// `INSERT INTO messages` for `n` messages, numbering its placeholders from `$first`.
fn insert_messages_sql(first: usize, n: usize) -> String {
    format!(
        "INSERT INTO messages (id, tenant_id, event_id, event_type, payload, created_at) VALUES {} ON CONFLICT DO NOTHING RETURNING id",
        value_rows(first, n, MESSAGE_BINDS)
    )
}

/// `INSERT INTO deliveries` of `n` rows (placeholders from `$first`), keeping only the rows whose
/// message meets `message_written` (`v.column4` is its id) and whose endpoint still exists (one
/// deleted since it was read would take its deliveries with it).
fn insert_deliveries_sql(first: usize, n: usize, message_written: &str) -> String {
    format!(
        "INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, next_attempt_at, last_error, created_at)
         SELECT v.* FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM endpoints e WHERE e.id = v.column3) AND {message_written}",
        value_rows(first, n, DELIVERY_BINDS)
    )
}

/// The binds of [`insert_messages_sql`].
fn message_args<'a>(messages: &'a [&NewMessage]) -> impl Iterator<Item = Arg> + 'a {
    messages.iter().flat_map(|m| -> [Arg; MESSAGE_BINDS] {
        [
            m.id.as_str().into(),
            m.tenant_id.as_str().into(),
            m.event_id.as_deref().into(),
            m.event_type.as_str().into(),
            m.payload.as_str().into(),
            m.created_at.into(),
        ]
    })
}

/// The binds of [`insert_deliveries_sql`]: a message and one of its deliveries per row.
fn delivery_args<'a>(rows: &'a [(&NewMessage, &QueuedDelivery)]) -> impl Iterator<Item = Arg> + 'a {
    rows.iter().flat_map(|(m, d)| -> [Arg; DELIVERY_BINDS] {
        let status = if d.off.is_none() { DeliveryStatus::Pending } else { DeliveryStatus::Skipped };
        let due = d.off.is_none().then_some(m.created_at);
        [
            d.id.as_str().into(),
            m.tenant_id.as_str().into(),
            d.endpoint_id.as_str().into(),
            m.id.as_str().into(),
            m.event_type.as_str().into(),
            status.as_str().into(),
            DeliveryKind::Event.as_str().into(),
            due.into(),
            d.off.into(),
            m.created_at.into(),
        ]
    })
}

fn delivery_rows<'a>(messages: &[&'a NewMessage]) -> Vec<(&'a NewMessage, &'a QueuedDelivery)> {
    messages.iter().flat_map(|m| m.deliveries.iter().map(move |d| (*m, d))).collect()
}

/// PostgreSQL: each chunk of messages and their deliveries in one statement (a data-modifying
/// `WITH`), which commits on its own: one round trip instead of four (begin, two inserts,
/// commit), each of which had the group wait.
async fn write_group_postgres(pool: &sqlx::PgPool, messages: &[&NewMessage]) -> Result<std::collections::HashSet<String>> {
    let mut written = std::collections::HashSet::with_capacity(messages.len());
    // 100 messages with up to 10 deliveries each stay well under 65,535 binds.
    for chunk in messages.chunks(100) {
        let rows = delivery_rows(chunk);
        let sql = if rows.is_empty() {
            insert_messages_sql(1, chunk.len())
        } else {
            format!(
                "WITH m AS ({}), d AS ({}) SELECT id FROM m",
                insert_messages_sql(1, chunk.len()),
                insert_deliveries_sql(MESSAGE_BINDS * chunk.len() + 1, rows.len(), "v.column4 IN (SELECT id FROM m)")
            )
        };
        let args = message_args(chunk).chain(delivery_args(&rows));
        let ids: Vec<(String,)> = bind_args!(sqlx::query_as(&sql), args).fetch_all(pool).await?;
        written.extend(ids.into_iter().map(|(id,)| id));
    }
    Ok(written)
}

/// SQLite: the messages, then their deliveries, in one transaction, with multi-row INSERTs sent
/// together (see [`Statements`]); a group of the usual size in one call, `BEGIN` to `COMMIT`.
async fn write_group_sqlite(store: &Store, pool: &sqlx::SqlitePool, messages: &[&NewMessage]) -> Result<std::collections::HashSet<String>> {
    let mut chunks = Vec::new();
    let mut rest = messages;
    while !rest.is_empty() {
        // As many messages as stay under SQLite's 32,766 binds in one call.
        let mut binds = 0;
        let taken = rest.iter().take_while(|m| {
            binds += MESSAGE_BINDS + DELIVERY_BINDS * m.deliveries.len();
            binds <= 30_000
        });
        let (chunk, next) = rest.split_at(taken.count().max(1));
        chunks.push(chunk);
        rest = next;
    }
    let ids: Vec<(String,)> = if let [chunk] = chunks[..] {
        ingest_statements(chunk).commit_sqlite(pool, "ingest").await?
    } else {
        let mut tx = store.begin_for("ingest").await?;
        let mut ids = Vec::new();
        for chunk in chunks {
            ids.extend(ingest_statements(chunk).fetch_all_in::<(String,)>(&mut tx).await?);
        }
        tx.commit().await?;
        ids
    };
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// SQLite: inserts the messages, and the deliveries of those written (their ids come back).
fn ingest_statements(messages: &[&NewMessage]) -> Statements {
    let rows = delivery_rows(messages);
    let mut statements = Statements::default();
    statements.push(|first| insert_messages_sql(first, messages.len()), message_args(messages));
    if !rows.is_empty() {
        // A message not written (its event_id was taken) has no row with its new id.
        let written = "EXISTS (SELECT 1 FROM messages m WHERE m.id = v.column4)";
        statements.push(|first| insert_deliveries_sql(first, rows.len(), written), delivery_args(&rows));
    }
    statements
}
