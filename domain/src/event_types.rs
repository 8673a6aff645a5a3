//! Event types the platform defines, beside the built-in catalog: created, changed and
//! deprecated by operators, the command line and the platform's key ([`Actor::may_edit_catalog`]),
//! each change in the operator-level audit log (no tenant).
//!
//! Every caller reads the catalog from a snapshot held by [`Herald`] ([`Herald::catalog`], no
//! database round trip), loaded at start and replaced after each change this process makes.
//! Herald runs as several processes, so the snapshot also carries the database's catalog
//! version: rows are never deleted (a type is deprecated instead) and every change bumps its
//! row's `revision`, so `SUM(revision)` only grows. A process compares it (one tiny query)
//! before the reads that must be exact — endpoint subscriptions, test events, the catalog
//! pages and `GET /event-types` — and at most every [`CHECK_EVERY`] when it hands out its
//! snapshot; ingest checks on a miss, so an event of a type created a moment ago in another
//! process is accepted at once.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::audit::Audit;
use crate::catalog::{self, Catalog, EventType};
use crate::error::{is_unique_violation, Error, Result};
use crate::roles::Actor;
use crate::{execute_in, on_pool, schema, Herald};
use types::AuditAction;

/// How stale a process's snapshot may get before it looks at the version again.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 500;
/// The most a sample or a schema may weigh, as JSON.
pub const MAX_JSON: usize = 64 * 1024;

/// What a client sends to create (`type`, `description`, `sample`, `schema`?) or change
/// (any of `description`, `schema`, `sample`, `deprecated`) a type. `schema: null` goes back
/// to the schema derived from the sample.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventTypeInput {
    /// Creation only: lowercase words joined by dots, e.g. `invoice.closed`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "utoipa", schema(example = "invoice.closed"))]
    pub name: Option<String>,
    pub description: Option<String>,
    /// A JSON Schema of the event's `data`; `null` or left out: derived from `sample`.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub schema: Option<Option<Value>>,
    /// A realistic `data` object (required on creation).
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub sample: Option<Value>,
    /// Changes only: `false` offers a deprecated type to new subscriptions again.
    pub deprecated: Option<bool>,
}

/// Tells a field that is present but null (`Some(None)`) from one that is absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct Row {
    name: String,
    description: String,
    #[sqlx(rename = "json_schema")]
    schema: Option<String>,
    sample: String,
    deprecated_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    revision: i64,
}

impl Row {
    fn event_type(&self) -> EventType {
        let sample: Value = serde_json::from_str(&self.sample).unwrap_or_default();
        let given: Option<Value> = self.schema.as_deref().and_then(|s| serde_json::from_str(s).ok());
        EventType {
            resource: self.name.split('.').next().unwrap_or_default().to_string(),
            description: self.description.clone(),
            schema: given.clone().unwrap_or_else(|| catalog::derived_schema(&self.name, &sample)),
            schema_given: given.is_some(),
            sample,
            custom: true,
            deprecated: self.deprecated_at.is_some(),
            created_at: Some(self.created_at),
            updated_at: Some(self.updated_at),
            name: self.name.clone(),
        }
    }
}

/// The snapshot a process hands out, and when it last compared it with the database.
pub struct CatalogCache {
    current: RwLock<Arc<Catalog>>,
    checked: Mutex<Option<Instant>>,
    checking: std::sync::atomic::AtomicBool,
}

impl Default for CatalogCache {
    fn default() -> Self {
        CatalogCache { current: RwLock::new(Arc::new(Catalog::default())), checked: Mutex::new(None), checking: Default::default() }
    }
}

impl CatalogCache {
    fn get(&self) -> Arc<Catalog> {
        self.current.read().map(|c| c.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Keeps the newer of the two: a slow reload never replaces a fresher snapshot.
    fn put(&self, catalog: Catalog) -> Arc<Catalog> {
        let mut current = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if catalog.version >= current.version {
            *current = Arc::new(catalog);
        }
        current.clone()
    }

    fn mark_checked(&self) {
        *self.checked.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn due(&self) -> bool {
        self.checked.lock().map(|c| c.is_none_or(|at| at.elapsed() >= CHECK_EVERY)).unwrap_or(true)
    }
}

/// Dotted lower-case words like the built-ins' (`voucher.redeemed`, `appointment.reminder.sent`):
/// 2 to 5 segments of `a-z`, `0-9` and `_`, each starting with a letter.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    const SHAPE: &str = "Use dotted lower-case words like the built-in types, e.g. voucher.redeemed: 2 to 5 parts of a–z, 0–9 and _, each starting with a letter.";
    if name.is_empty() {
        return Err(Error::invalid("type", format!("Enter the event type's name. {SHAPE}")));
    }
    if name.len() > MAX_NAME {
        return Err(Error::invalid("type", format!("The name can be at most {MAX_NAME} characters.")));
    }
    let segments: Vec<&str> = name.split('.').collect();
    let segment_ok = |s: &&str| {
        s.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    };
    if !(2..=5).contains(&segments.len()) || !segments.iter().all(segment_ok) {
        return Err(Error::invalid("type", format!("\"{name}\" is not a valid name. {SHAPE}")));
    }
    Ok(name.to_string())
}

fn validate_description(description: &str) -> Result<String> {
    let description = description.trim();
    if description.is_empty() {
        return Err(Error::invalid("description", "Describe when this event happens, e.g. \"A gift voucher was redeemed.\""));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(Error::invalid("description", format!("The description can be at most {MAX_DESCRIPTION} characters.")));
    }
    Ok(description.to_string())
}

fn validate_sample(sample: &Value) -> Result<()> {
    if !sample.is_object() {
        return Err(Error::invalid("sample", "The sample must be a JSON object: the data an event of this type carries."));
    }
    if sample.to_string().len() > MAX_JSON {
        return Err(Error::invalid("sample", format!("The sample can be at most {} KiB of JSON.", MAX_JSON / 1024)));
    }
    Ok(())
}

/// A given schema must be a well-formed JSON Schema (see [`crate::schema`]) that the sample fits.
fn validate_schema(schema: &Value, sample: &Value) -> Result<()> {
    if !schema.is_object() {
        return Err(Error::invalid("schema", "The schema must be a JSON object (a JSON Schema), or null to derive it from the sample."));
    }
    if schema.to_string().len() > MAX_JSON {
        return Err(Error::invalid("schema", format!("The schema can be at most {} KiB of JSON.", MAX_JSON / 1024)));
    }
    schema::check_schema(schema).map_err(|problem| Error::invalid("schema", format!("This is not a valid JSON Schema: {problem}")))?;
    schema::validate(schema, sample)
        .map_err(|problem| Error::invalid("sample", format!("The sample does not match the schema: {problem}.")))
}

fn built_in(name: &str) -> Error {
    Error::conflict(
        "built_in_event_type",
        Some("type"),
        format!("{name} is one of Herald's built-in event types: it cannot be changed or deprecated. Define a new type instead."),
    )
}

const COLUMNS: &str = "name, description, json_schema, sample, deprecated_at, created_at, updated_at, revision";

impl Herald {
    /// The catalog as this process knows it, at once; if it has not compared it with the
    /// database for [`CHECK_EVERY`], it does so in the background for the next caller.
    pub fn catalog(&self) -> Arc<Catalog> {
        let snapshot = self.catalog.get();
        let cache = &self.catalog;
        if cache.due() && !cache.checking.swap(true, std::sync::atomic::Ordering::AcqRel) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let herald = self.clone();
                    runtime.spawn(async move {
                        if let Err(err) = herald.fresh_catalog().await {
                            tracing::warn!(error = %err, "could not check the event catalog for changes");
                        }
                        herald.catalog.checking.store(false, std::sync::atomic::Ordering::Release);
                    });
                }
                Err(_) => cache.checking.store(false, std::sync::atomic::Ordering::Release),
            }
        }
        snapshot
    }

    /// The catalog as the database has it now: one version query, and a reload if another
    /// process changed it.
    pub async fn fresh_catalog(&self) -> Result<Arc<Catalog>> {
        let (version,): (i64,) = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM event_types").fetch_one(pool).await)?;
        self.catalog.mark_checked();
        let current = self.catalog.get();
        if current.version == version {
            return Ok(current);
        }
        self.reload_catalog().await
    }

    /// Reads every custom type (done at start, and after a change).
    pub async fn reload_catalog(&self) -> Result<Arc<Catalog>> {
        let sql = format!("SELECT {COLUMNS} FROM event_types");
        let rows: Vec<Row> = on_pool!(&self.store, pool => sqlx::query_as::<_, Row>(&sql).fetch_all(pool).await)?;
        let version = rows.iter().map(|row| row.revision).sum();
        self.catalog.mark_checked();
        Ok(self.catalog.put(Catalog::new(rows.iter().map(Row::event_type).collect(), version)))
    }

    async fn custom_row(&self, name: &str) -> Result<Option<Row>> {
        let sql = format!("SELECT {COLUMNS} FROM event_types WHERE name = $1");
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, Row>(&sql).bind(name).fetch_optional(pool).await)?)
    }

    /// Operators, the command line and the platform key: a new type, offered to subscriptions
    /// at once in every process.
    pub async fn create_event_type(&self, actor: &Actor, input: EventTypeInput) -> Result<EventType> {
        actor.require_catalog_editor()?;
        let name = validate_name(input.name.as_deref().unwrap_or_default())?;
        if catalog::builtin().iter().any(|t| t.name == name) {
            return Err(Error::conflict("event_type_exists", Some("type"), format!("{name} is already a built-in event type.")));
        }
        if let Some(target) = catalog::alias_target(&name) {
            return Err(Error::conflict(
                "event_type_exists",
                Some("type"),
                format!("{name} is already accepted as another name for the built-in type {target}."),
            ));
        }
        let description = validate_description(input.description.as_deref().unwrap_or_default())?;
        let sample =
            input.sample.ok_or_else(|| Error::invalid("sample", "Give a sample: a JSON object such as an event of this type carries."))?;
        validate_sample(&sample)?;
        let schema = input.schema.flatten();
        if let Some(schema) = &schema {
            validate_schema(schema, &sample)?;
        }
        if input.deprecated == Some(true) {
            return Err(Error::invalid("deprecated", "A new event type cannot start deprecated."));
        }
        if let Some(existing) = self.custom_row(&name).await? {
            return Err(exists(&name, existing.deprecated_at.is_some()));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let inserted = execute_in!(&mut tx, sqlx::query(
            "INSERT INTO event_types (name, description, json_schema, sample, revision, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)")
            .bind(&name).bind(&description).bind(schema.as_ref().map(Value::to_string)).bind(sample.to_string()).bind(now));
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(exists(&name, false)),
            other => other?,
        };
        let entry = Audit::new(None, AuditAction::EventTypeCreated, format!("Added the event type {name} to the catalog"))
            .target(&name)
            .details(serde_json::json!({ "description": description, "schema_given": schema.is_some() }));
        self.audit_in(&mut tx, actor, entry).await?;
        tx.commit().await?;
        tracing::info!(event_type = %name, "event type created");
        self.changed_type(&name).await
    }

    /// Changes a custom type's description, schema or sample, or (un)deprecates it. A new
    /// sample must fit the schema that will be in force (the given one, or the stored one).
    pub async fn update_event_type(&self, actor: &Actor, name: &str, input: EventTypeInput) -> Result<EventType> {
        actor.require_catalog_editor()?;
        let name = name.trim();
        if catalog::builtin().iter().any(|t| t.name == name) || catalog::alias_target(name).is_some() {
            return Err(built_in(name));
        }
        let current = self.custom_row(name).await?.ok_or(Error::NotFound("event type"))?;
        if input.name.as_deref().is_some_and(|n| n.trim() != name) {
            return Err(Error::invalid("type", "An event type cannot be renamed: define a new type and deprecate this one."));
        }
        let description = match &input.description {
            Some(d) => validate_description(d)?,
            None => current.description.clone(),
        };
        let sample = match input.sample {
            Some(s) => {
                validate_sample(&s)?;
                s
            }
            None => serde_json::from_str(&current.sample).map_err(|e| Error::internal("stored sample", e))?,
        };
        let schema: Option<Value> = match input.schema {
            Some(given) => given,
            None => {
                current.schema.as_deref().map(serde_json::from_str::<Value>).transpose().map_err(|e| Error::internal("stored schema", e))?
            }
        };
        if let Some(schema) = &schema {
            validate_schema(schema, &sample)?;
        }
        let deprecated_at = match input.deprecated {
            Some(true) => current.deprecated_at.or(Some(self.clock.now())),
            Some(false) => None,
            None => current.deprecated_at,
        };
        let (schema_text, sample_text) = (schema.as_ref().map(Value::to_string), sample.to_string());
        let changed: Vec<&str> = [
            ("description", description != current.description),
            ("schema", schema_text != current.schema),
            ("sample", serde_json::from_str::<Value>(&current.sample).ok().as_ref() != Some(&sample)),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect();
        let mut entries = Vec::new();
        if !changed.is_empty() {
            entries.push(
                Audit::new(None, AuditAction::EventTypeUpdated, format!("Changed {} of the event type {name}", changed.join(", ")))
                    .details(serde_json::json!({ "changed": changed })),
            );
        }
        match (current.deprecated_at.is_some(), deprecated_at.is_some()) {
            (false, true) => entries.push(Audit::new(None, AuditAction::EventTypeDeprecated, deprecated_summary(name))),
            (true, false) => entries.push(Audit::new(
                None,
                AuditAction::EventTypeRestored,
                format!("Offered the event type {name} to new subscriptions again"),
            )),
            _ => {}
        }
        if entries.is_empty() {
            return self.changed_type(name).await;
        }
        let mut tx = self.store.begin().await?;
        execute_in!(&mut tx, sqlx::query(
            "UPDATE event_types SET description = $1, json_schema = $2, sample = $3, deprecated_at = $4, updated_at = $5, revision = revision + 1
             WHERE name = $6")
            .bind(&description).bind(&schema_text).bind(&sample_text).bind(deprecated_at).bind(self.clock.now()).bind(name))?;
        for entry in entries {
            self.audit_in(&mut tx, actor, entry.target(name)).await?;
        }
        tx.commit().await?;
        self.changed_type(name).await
    }

    /// Hides a custom type from new subscriptions; events of it are still accepted and
    /// delivered to the endpoints that have it. Deprecating twice changes nothing.
    pub async fn deprecate_event_type(&self, actor: &Actor, name: &str) -> Result<EventType> {
        self.update_event_type(actor, name, EventTypeInput { deprecated: Some(true), ..Default::default() }).await
    }

    /// The type as this process's catalog has it after a change: reloaded, so every later
    /// read in this process sees the change.
    async fn changed_type(&self, name: &str) -> Result<EventType> {
        self.reload_catalog().await?.find(name).cloned().ok_or(Error::NotFound("event type"))
    }
}

fn deprecated_summary(name: &str) -> String {
    format!("Deprecated the event type {name}: no new subscriptions; existing ones still receive it")
}

fn exists(name: &str, deprecated: bool) -> Error {
    let hint = if deprecated { " It is deprecated: change it with PATCH, e.g. {\"deprecated\": false}." } else { "" };
    Error::conflict("event_type_exists", Some("type"), format!("The event type {name} already exists.{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_built_ins_shape() {
        for ok in ["voucher.redeemed", "appointment.reminder.sent", "gift_card.v2.issued", " spa.room.cleaned "] {
            assert_eq!(validate_name(ok).unwrap(), ok.trim(), "{ok}");
        }
        for bad in
            ["", "voucher", "Voucher.Redeemed", "voucher..redeemed", "voucher.redeemed.", "2fa.enabled", "a.b.c.d.e.f", "voucher-x.y", "*"]
        {
            let err = validate_name(bad).unwrap_err();
            assert_eq!(err.field(), Some("type"), "{bad}");
        }
        assert!(validate_name(&format!("a.{}", "b".repeat(100))).unwrap_err().to_string().contains("at most 100"));
        for t in crate::catalog::builtin() {
            validate_name(&t.name).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        }
    }

    #[test]
    fn schemas_and_samples_name_the_field_at_fault() {
        let sample = serde_json::json!({ "id": "vch_1" });
        assert_eq!(validate_sample(&serde_json::json!([1])).unwrap_err().field(), Some("sample"));
        assert_eq!(validate_schema(&serde_json::json!("object"), &sample).unwrap_err().field(), Some("schema"));
        assert_eq!(validate_schema(&serde_json::json!({ "type": "thing" }), &sample).unwrap_err().field(), Some("schema"));
        let strict = serde_json::json!({ "type": "object", "required": ["amount"] });
        assert_eq!(validate_schema(&strict, &sample).unwrap_err().field(), Some("sample"));
        assert!(validate_schema(&serde_json::json!({ "type": "object" }), &sample).is_ok());
    }
}
