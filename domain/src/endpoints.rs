//! Endpoints: where a tenant's events go. Validation, the plan limit (race-free on both
//! databases), write-only auth headers, signing secrets with a 24 h rotation overlap.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rand::RngCore;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::accounts::normalize_email;
use crate::audit::Audit;
use crate::catalog::Catalog;
use crate::clock::{rfc3339, Millis, HOUR};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::health::{health_of, FailureClass};
use crate::roles::Actor;
use crate::store::Tx;
use crate::tenants::{Plan, Tenant};
use crate::{crypto, execute_in, ids, net, on_pool, Herald};
use types::AuditAction;

pub use types::{Channel, EndpointStatus, HttpMethod, PayloadShape, MAX_IN_FLIGHT, MAX_PER_SECOND};
/// Headers Herald sets itself or that only make sense hop-by-hop.
const RESERVED_HEADERS: [&str; 15] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
];
pub const SECRET_OVERLAP: Millis = 24 * HOUR;

/// What a client sends to create or change an endpoint. Every field is optional so that a
/// PATCH can name only what changes; `auth_header: null` removes the header. Creating needs
/// `name`, `event_types` and, for the http channel, `url` (for email, `email`).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// Shown in the dashboard and in emails, 1–100 characters.
    #[cfg_attr(feature = "utoipa", schema(max_length = 100, example = "Booking sync"))]
    pub name: Option<String>,
    /// At most 500 characters.
    #[cfg_attr(feature = "utoipa", schema(max_length = 500))]
    pub description: Option<String>,
    /// Where the http channel sends: an https:// URL (http:// and private addresses only where
    /// the operator allows them), at most 2048 characters.
    #[cfg_attr(feature = "utoipa", schema(max_length = 2048, example = "https://hooks.example.com/herald"))]
    pub url: Option<String>,
    /// The HTTP verb: `POST` (default), `PUT` or `PATCH`, in any case.
    #[cfg_attr(feature = "utoipa", schema(example = "POST"))]
    pub method: Option<String>,
    /// A header sent with every request, e.g. `{"name": "Authorization", "value": "Bearer …"}`;
    /// the value is write-only. `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<AuthHeaderInput>))]
    pub auth_header: Option<Option<AuthHeaderInput>>,
    /// Event types from `GET /api/v1/event-types` (or their aliases), or `["*"]` for all.
    #[cfg_attr(feature = "utoipa", schema(example = json!(["appointment.booking.created"])))]
    pub event_types: Option<Vec<String>>,
    /// `envelope` (default: id, type, timestamp and data) or `data` (the data object alone).
    #[cfg_attr(feature = "utoipa", schema(example = "envelope"))]
    pub payload_shape: Option<String>,
    /// `http` (default) or `email`.
    #[cfg_attr(feature = "utoipa", schema(example = "http"))]
    pub channel: Option<String>,
    /// Where the email channel sends.
    pub email: Option<String>,
    /// Only events whose envelope matches are delivered: each key a dotted path into the
    /// envelope, each value a scalar or a list of allowed scalars, e.g.
    /// `{"data.service_id": ["svc_1", "svc_2"]}`. `null` or `{}` removes the filter.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<Object>))]
    pub filter: Option<Option<Value>>,
    /// At most this many deliveries start in any one second (1–1000); `null`: no limit. Admins.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<i64>, minimum = 1, maximum = 1000))]
    pub max_per_second: Option<Option<i64>>,
    /// At most this many are being sent at once (1–100); `null`: the engine's default. Admins.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<i64>, minimum = 1, maximum = 100))]
    pub max_in_flight: Option<Option<i64>>,
}

/// An auth header to set. Without `value`, an existing value is kept (renaming the header).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthHeaderInput {
    /// Letters, digits, `-` and `_`, at most 100 characters.
    #[cfg_attr(feature = "utoipa", schema(max_length = 100, example = "Authorization"))]
    pub name: String,
    /// Printable ASCII, at most 4096 characters; never shown again.
    #[cfg_attr(feature = "utoipa", schema(max_length = 4096))]
    pub value: Option<String>,
}

/// Tells a field that is present but null (`Some(None)`) from one that is absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub use types::{AuthHeaderOut, Endpoint};

/// What `actor` may see of `endpoint`: staff viewing a tenant do not even get the last
/// characters of the auth header value.
pub fn for_viewer(mut endpoint: Endpoint, actor: &Actor) -> Endpoint {
    if actor.staff_view {
        if let Some(header) = &mut endpoint.auth_header {
            header.value_hint = "••••••••".into();
        }
    }
    endpoint
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub method: HttpMethod,
    pub auth_header_name: Option<String>,
    pub auth_header_value: Option<String>,
    pub event_types: String,
    pub payload_shape: PayloadShape,
    pub channel: Channel,
    pub email: Option<String>,
    pub filter: Option<String>,
    pub max_per_second: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub status: EndpointStatus,
    pub inactive_reason: Option<String>,
    pub inactive_since: Option<i64>,
    pub consecutive_failures: i64,
    pub last_failure_at: Option<i64>,
    pub last_failure_class: Option<FailureClass>,
    pub last_failure_code: Option<i64>,
    pub at_risk_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, name, description, url, method, auth_header_name, auth_header_value, event_types, \
    payload_shape, channel, email, filter, max_per_second, max_in_flight, secret, previous_secret, previous_secret_expires_at, status, inactive_reason, \
    inactive_since, consecutive_failures, last_failure_at, last_failure_class, last_failure_code, at_risk_since, created_at, updated_at";

impl EndpointRow {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.event_types().iter().any(|t| t == "*" || t == event_type)
    }

    pub fn filter(&self) -> Option<Filter> {
        Filter::from_stored(self.filter.as_deref())
    }

    /// Where deliveries go: the URL, or the email address.
    pub fn target(&self) -> String {
        if self.channel == Channel::Email {
            self.email.clone().unwrap_or_default()
        } else {
            self.url.clone()
        }
    }
}

/// `••••abcd`: at most the last four characters, and none of a short value.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return "••••••••".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••••••{tail}")
}

/// A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64.
pub fn new_signing_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", B64.encode(bytes))
}

/// The validated, complete state of an endpoint about to be written.
struct Fields {
    name: String,
    description: String,
    url: String,
    method: HttpMethod,
    auth: Option<(String, String)>,
    event_types: Vec<String>,
    payload_shape: PayloadShape,
    channel: Channel,
    email: Option<String>,
    filter: Option<Filter>,
    max_per_second: Option<i64>,
    max_in_flight: Option<i64>,
}

fn limited(field: &'static str, value: &str, max: usize, label: &str) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Error::invalid(field, format!("{label} can be at most {max} characters.")));
    }
    Ok(value.to_string())
}

pub fn validate_header_name(name: &str) -> Result<String> {
    let name = name.trim();
    // Narrower than HTTP allows (`$`, `` ` ``, `'` are legal there): every real auth header
    // fits, and a name can mean nothing to a shell or a log viewer.
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() {
        return Err(Error::invalid("auth_header.name", "Enter the header name, e.g. Authorization."));
    }
    if name.len() > 100 || !name.chars().all(allowed) {
        return Err(Error::invalid("auth_header.name", "A header name may only use letters, digits, - and _ (no spaces, dots or colons)."));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) || name.to_ascii_lowercase().starts_with("webhook-") {
        return Err(Error::invalid("auth_header.name", format!("{name} is set by Herald itself and cannot be used as the auth header.")));
    }
    Ok(name.to_string())
}

pub fn validate_header_value(value: &str) -> Result<String> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(Error::invalid("auth_header.value", "The header value cannot contain line breaks."));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid("auth_header.value", "Enter the header value."));
    }
    if value.len() > 4096 || !value.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
        return Err(Error::invalid("auth_header.value", "The header value must be printable ASCII, at most 4096 characters."));
    }
    Ok(value.to_string())
}

/// The subscribed types in their catalog names. A deprecated type may stay where an endpoint
/// has it (`current`), but is never newly added.
fn validate_event_types(types: &[String], catalog: &Catalog, current: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim().to_lowercase();
        let t = match catalog.resolve(&t) {
            Some(known) if known.deprecated && !current.contains(&known.name) => {
                return Err(Error::invalid(
                    "event_types",
                    format!(
                        "\"{}\" is deprecated: endpoints that already have it keep receiving it, but it cannot be added to one.",
                        known.name
                    ),
                ))
            }
            Some(known) => known.name.clone(),
            None if t == "*" => t,
            None => return Err(Error::invalid("event_types", format!("\"{t}\" is not an event type. See GET /api/v1/event-types."))),
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid("event_types", "Choose at least one event type, or all events."));
    }
    if out.iter().any(|t| t == "*") {
        return Ok(vec!["*".into()]);
    }
    Ok(out)
}

const PRIVATE: &str =
    "is a private, loopback or link-local address. Such URLs are only allowed where the operator enabled them for your workspace.";
const NEVER: &str = "is a link-local, unspecified or cloud metadata address, which webhooks may never reach.";

/// Refuses an address the tenant's policy does not reach.
fn check_address(shown: &str, ip: std::net::IpAddr, allow_private: bool) -> Result<()> {
    if !allow_private && net::is_private(ip) {
        return Err(Error::invalid("url", format!("{shown} {PRIVATE}")));
    }
    if net::is_forbidden(ip) {
        return Err(Error::invalid("url", format!("{shown} {NEVER}")));
    }
    Ok(())
}

/// Refuses a host name that resolves somewhere the policy does not reach, without saying
/// where: what an internal name resolves to is not the caller's business.
fn check_resolved(host: &str, addrs: &[std::net::IpAddr], allow_private: bool) -> Result<()> {
    match addrs.iter().find(|ip| !net::may_reach(**ip, allow_private)) {
        Some(ip) if net::is_forbidden(*ip) => Err(Error::invalid("url", format!("{host} resolves to {}", &NEVER[3..]))),
        Some(_) => Err(Error::invalid("url", format!("{host} resolves to {}", &PRIVATE[3..]))),
        None => Ok(()),
    }
}

/// Checks an endpoint URL against the tenant's policy: https, and public addresses unless
/// private ones are allowed; link-local, unspecified and metadata addresses never.
pub async fn check_url(url: &str, allow_private: bool) -> Result<String> {
    let url = url.trim();
    if url.is_empty() {
        return Err(Error::invalid("url", "Enter the URL that should receive the webhooks."));
    }
    if url.len() > 2048 {
        return Err(Error::invalid("url", "The URL can be at most 2048 characters."));
    }
    let parsed = url::Url::parse(url).map_err(|_| Error::invalid("url", "Enter a full URL such as https://hooks.example.com/herald."))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => {
            return Err(Error::invalid(
                "url",
                "Use an https:// URL. Plain http is only allowed where the operator enabled it for your workspace.",
            ))
        }
        _ => return Err(Error::invalid("url", "Only https:// URLs can receive webhooks.")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid("url", "Put credentials in the auth header, not in the URL."));
    }
    match parsed.host() {
        None => return Err(Error::invalid("url", "The URL needs a host name.")),
        Some(url::Host::Ipv4(ip)) => check_address(&ip.to_string(), ip.into(), allow_private)?,
        Some(url::Host::Ipv6(ip)) => check_address(&ip.to_string(), ip.into(), allow_private)?,
        Some(url::Host::Domain(host)) => {
            if net::is_metadata_host_name(host) {
                return Err(Error::invalid("url", format!("{host} {NEVER}")));
            }
            if !allow_private && net::is_private_host_name(host) {
                return Err(Error::invalid("url", format!("{host} {PRIVATE}")));
            }
            // A name that resolves somewhere it may not go is refused now; one that does not
            // resolve yet is accepted and checked again at every delivery.
            let port = parsed.port_or_known_default().unwrap_or(443);
            let lookup = tokio::time::timeout(std::time::Duration::from_secs(3), tokio::net::lookup_host((host, port))).await;
            if let Ok(Ok(addrs)) = lookup {
                check_resolved(host, &addrs.map(|a| a.ip()).collect::<Vec<_>>(), allow_private)?;
            }
        }
    }
    Ok(parsed.to_string())
}

impl Herald {
    /// Seals a value for `column` of endpoint `id`; it opens only there.
    fn seal_for(&self, id: &str, column: &str, value: &str) -> Result<String> {
        self.cipher.seal(value, &crypto::context("endpoints", column, id))
    }

    /// Opens `column` of endpoint `id`, sealed by [`Herald::seal_for`].
    pub(crate) fn open_for(&self, id: &str, column: &str, sealed: &str) -> Result<String> {
        self.cipher.open(sealed, &crypto::context("endpoints", column, id))
    }

    /// The stored auth header (name, value), or a conflict naming the field when the value no
    /// longer opens: a save must ask for it again rather than silently drop it.
    fn stored_auth(&self, row: &EndpointRow) -> Result<Option<(String, String)>> {
        let (Some(name), Some(sealed)) = (&row.auth_header_name, &row.auth_header_value) else { return Ok(None) };
        let value = self.open_for(&row.id, "auth_header_value", sealed).map_err(|_| {
            Error::conflict(
                "auth_header_unreadable",
                Some("auth_header.value"),
                "The stored value of this endpoint's auth header cannot be decrypted. Enter the value again.",
            )
        })?;
        Ok(Some((name.clone(), value)))
    }

    fn to_endpoint(&self, row: &EndpointRow) -> Endpoint {
        let auth_header = row.auth_header_name.as_ref().map(|name| AuthHeaderOut {
            name: name.clone(),
            value_hint: self.stored_auth(row).ok().flatten().map(|(_, v)| mask(&v)).unwrap_or_default(),
        });
        Endpoint {
            id: row.id.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            url: row.url.clone(),
            method: row.method,
            auth_header,
            event_types: row.event_types(),
            payload_shape: row.payload_shape,
            channel: row.channel,
            email: row.email.clone(),
            filter: row.filter().map(|f| f.to_json()),
            max_per_second: row.max_per_second,
            max_in_flight: row.max_in_flight,
            status: row.status,
            inactive_reason: row.inactive_reason.clone(),
            inactive_since: row.inactive_since.map(rfc3339),
            health: health_of(
                row.status == EndpointStatus::Active,
                row.consecutive_failures,
                row.last_failure_at.zip(row.last_failure_class).map(|(at, class)| (at, class, row.last_failure_code)),
            ),
            created_at: rfc3339(row.created_at),
        }
    }

    /// Merges `input` over `current` (nothing, for a new endpoint) and validates the result.
    async fn validate(&self, input: EndpointInput, current: Option<&EndpointRow>, tenant: &Tenant) -> Result<Fields> {
        let keep = |new: Option<String>, old: Option<&str>| new.or_else(|| old.map(str::to_string));
        let name = limited("name", &keep(input.name, current.map(|c| c.name.as_str())).unwrap_or_default(), 100, "The name")?;
        if name.is_empty() {
            return Err(Error::invalid("name", "Give the endpoint a name, e.g. \"Booking sync\"."));
        }
        let description = limited(
            "description",
            &keep(input.description, current.map(|c| c.description.as_str())).unwrap_or_default(),
            500,
            "The description",
        )?;
        let channel = match input.channel {
            Some(text) => {
                Channel::parse(&text.trim().to_lowercase()).ok_or_else(|| Error::invalid("channel", "The channel is http or email."))?
            }
            None => current.map_or(Channel::Http, |c| c.channel),
        };
        let method = match input.method {
            Some(text) => HttpMethod::from_input(&text).ok_or_else(|| Error::invalid("method", "The HTTP verb is POST, PUT or PATCH."))?,
            None => current.map_or(HttpMethod::Post, |c| c.method),
        };
        let payload_shape = match input.payload_shape {
            Some(text) => PayloadShape::parse(&text.trim().to_lowercase()).ok_or_else(|| {
                Error::invalid("payload_shape", "The payload shape is envelope (the full event) or data (the data object alone).")
            })?,
            None => current.map_or(PayloadShape::Envelope, |c| c.payload_shape),
        };
        let event_types = match input.event_types {
            // Read from the database's catalog: a type deprecated a moment ago in another
            // process is not added here.
            Some(types) => {
                validate_event_types(&types, &*self.fresh_catalog().await?, &current.map(EndpointRow::event_types).unwrap_or_default())?
            }
            None => current
                .map(EndpointRow::event_types)
                .ok_or_else(|| Error::invalid("event_types", "Choose at least one event type, or all events."))?,
        };
        let (url, email) = if channel == Channel::Email {
            let email = keep(input.email, current.and_then(|c| c.email.as_deref())).unwrap_or_default();
            let email =
                normalize_email(&email).map_err(|_| Error::invalid("email", "Enter the email address that should receive the events."))?;
            (String::new(), Some(email))
        } else {
            let url = keep(input.url, current.map(|c| c.url.as_str())).unwrap_or_default();
            (check_url(&url, tenant.allow_private_urls).await?, None)
        };
        let current_auth = || current.map_or(Ok(None), |c| self.stored_auth(c));
        let auth = match input.auth_header {
            None => current_auth()?,
            Some(None) => None,
            Some(Some(header)) => {
                let name = validate_header_name(&header.name)?;
                let value = match header.value.filter(|v| !v.trim().is_empty()) {
                    Some(v) => validate_header_value(&v)?,
                    None => match current_auth()? {
                        Some((_, old)) => old,
                        None => return Err(Error::invalid("auth_header.value", "Enter the header value.")),
                    },
                };
                Some((name, value))
            }
        };
        let filter = match input.filter {
            None => current.and_then(EndpointRow::filter),
            Some(None) => None,
            Some(Some(value)) if value.is_null() => None,
            Some(Some(value)) => Some(Filter::parse(&value)?).filter(|f| !f.is_empty()),
        };
        let max_per_second =
            throttle_limit(input.max_per_second, current.and_then(|c| c.max_per_second), "max_per_second", MAX_PER_SECOND)?;
        let max_in_flight = throttle_limit(input.max_in_flight, current.and_then(|c| c.max_in_flight), "max_in_flight", MAX_IN_FLIGHT)?;
        Ok(Fields {
            name,
            description,
            url,
            method,
            auth,
            event_types,
            payload_shape,
            channel,
            email,
            filter,
            max_per_second,
            max_in_flight,
        })
    }

    pub async fn endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>> {
        Ok(self.endpoint_rows(tenant_id).await?.iter().map(|r| self.to_endpoint(r)).collect())
    }

    pub async fn endpoint_rows(&self, tenant_id: &str) -> Result<Vec<EndpointRow>> {
        let sql = format!("SELECT {COLUMNS} FROM endpoints WHERE tenant_id = $1 ORDER BY created_at, id");
        Ok(on_pool!(&self.store, pool => sqlx::query_as::<_, EndpointRow>(&sql).bind(tenant_id).fetch_all(pool).await)?)
    }

    /// The endpoints with these ids, of any tenant (callers check).
    pub(crate) async fn endpoint_rows_by_id(&self, ids: &[&str]) -> Result<Vec<EndpointRow>> {
        crate::store::query::fetch_by_ids(&self.store, &format!("SELECT {COLUMNS} FROM endpoints WHERE id"), ids).await
    }

    pub async fn endpoint_row(&self, tenant_id: &str, id: &str) -> Result<EndpointRow> {
        let sql = format!("SELECT {COLUMNS} FROM endpoints WHERE id = $1 AND tenant_id = $2");
        on_pool!(&self.store, pool => sqlx::query_as::<_, EndpointRow>(&sql).bind(id).bind(tenant_id).fetch_optional(pool).await)?
            .ok_or(Error::NotFound("endpoint"))
    }

    pub async fn endpoint(&self, tenant_id: &str, id: &str) -> Result<Endpoint> {
        Ok(self.to_endpoint(&self.endpoint_row(tenant_id, id).await?))
    }

    pub async fn endpoint_count(&self, tenant_id: &str) -> Result<i64> {
        let (n,): (i64,) = on_pool!(&self.store, pool => sqlx::query_as("SELECT COUNT(*) FROM endpoints WHERE tenant_id = $1")
            .bind(tenant_id).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Takes the tenant's row lock on PostgreSQL, so that plan checks and endpoint inserts of
    /// one tenant happen one at a time. (SQLite runs one writer at a time anyway.)
    pub(crate) async fn lock_tenant(&self, tx: &mut Tx, tenant_id: &str) -> Result<()> {
        if let Tx::Postgres(t) = tx {
            sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE").bind(tenant_id).execute(&mut **t).await?;
        }
        Ok(())
    }

    pub async fn create_endpoint(&self, actor: &Actor, input: EndpointInput) -> Result<Endpoint> {
        let tenant = self.tenant(actor.require_writer()?).await?;
        let f = self.validate(input, None, &tenant).await?;
        if f.max_per_second.is_some() || f.max_in_flight.is_some() {
            actor.require_admin()?;
        }
        let plan = tenant.plan;
        let now = self.clock.now();
        let id = ids::new_id("ep");
        let auth_value = f.auth.as_ref().map(|(_, v)| self.seal_for(&id, "auth_header_value", v)).transpose()?;
        let secret = self.seal_for(&id, "secret", &new_signing_secret())?;
        let event_types = serde_json::to_string(&f.event_types).map_err(|e| Error::internal("event types", e))?;

        let mut tx = self.store.begin().await?;
        self.lock_tenant(&mut tx, &tenant.id).await?;
        // One statement checks the limit and inserts, so concurrent creates cannot both pass.
        let inserted = execute_in!(
            &mut tx,
            sqlx::query(
                "INSERT INTO endpoints (id, tenant_id, name, description, url, method, auth_header_name, auth_header_value,
                 event_types, payload_shape, channel, email, secret, created_at, updated_at, filter, max_per_second, max_in_flight)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $16, $17, $18
             WHERE (SELECT COUNT(*) FROM endpoints WHERE tenant_id = $2) < $15"
            )
            .bind(&id)
            .bind(&tenant.id)
            .bind(&f.name)
            .bind(&f.description)
            .bind(&f.url)
            .bind(f.method)
            .bind(f.auth.as_ref().map(|(n, _)| n))
            .bind(&auth_value)
            .bind(&event_types)
            .bind(f.payload_shape)
            .bind(f.channel)
            .bind(&f.email)
            .bind(&secret)
            .bind(now)
            .bind(plan.endpoint_limit())
            .bind(stored_filter(&f.filter))
            .bind(f.max_per_second)
            .bind(f.max_in_flight)
        )?;
        if inserted == 0 {
            return Err(limit_reached(plan));
        }
        let target = if f.channel == Channel::Email { f.email.clone().unwrap_or_default() } else { f.url.clone() };
        let created = Audit::new(Some(&tenant.id), AuditAction::EndpointCreated, format!("Created endpoint \"{}\" ({target})", f.name))
            .target(&id)
            .details(serde_json::json!({ "name": f.name, "url": f.url, "channel": f.channel, "event_types": f.event_types,
                "filter": f.filter.as_ref().map(Filter::to_json), "max_per_second": f.max_per_second, "max_in_flight": f.max_in_flight }));
        self.audit_in(&mut tx, actor, created).await?;
        if let Some((name, _)) = &f.auth {
            let entry =
                Audit::new(Some(&tenant.id), AuditAction::EndpointAuthHeaderSet, format!("Set the auth header {name} of \"{}\"", f.name));
            self.audit_in(&mut tx, actor, entry.target(&id)).await?;
        }
        tx.commit().await?;
        tracing::info!(tenant_id = %tenant.id, endpoint_id = %id, "endpoint created");
        self.endpoint(&tenant.id, &id).await
    }

    pub async fn update_endpoint(&self, actor: &Actor, id: &str, input: EndpointInput) -> Result<Endpoint> {
        let tenant = self.tenant(actor.require_writer()?).await?;
        let current = self.endpoint_row(&tenant.id, id).await?;
        let auth_change = input.auth_header.clone();
        let f = self.validate(input, Some(&current), &tenant).await?;
        let auth_value = f.auth.as_ref().map(|(_, v)| self.seal_for(id, "auth_header_value", v)).transpose()?;
        let event_types = serde_json::to_string(&f.event_types).map_err(|e| Error::internal("event types", e))?;
        let changed: Vec<&str> = [
            ("name", f.name != current.name),
            ("description", f.description != current.description),
            ("url", f.url != current.url),
            ("method", f.method != current.method),
            ("event_types", f.event_types != current.event_types()),
            ("payload_shape", f.payload_shape != current.payload_shape),
            ("channel", f.channel != current.channel),
            ("email", f.email != current.email),
            ("filter", f.filter != current.filter()),
            ("max_per_second", f.max_per_second != current.max_per_second),
            ("max_in_flight", f.max_in_flight != current.max_in_flight),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect();
        if changed.iter().any(|field| field.starts_with("max_")) {
            actor.require_admin()?;
        }
        let mut entries = Vec::new();
        if !changed.is_empty() {
            let summary = format!("Changed {} of endpoint \"{}\"", changed.join(", "), f.name);
            entries.push(
                Audit::new(Some(&tenant.id), AuditAction::EndpointUpdated, summary).details(serde_json::json!({ "changed": changed })),
            );
        }
        match (auth_change, &current.auth_header_name) {
            (Some(Some(header)), _) if header.value.as_deref().is_some_and(|v| !v.trim().is_empty()) => {
                entries.push(Audit::new(
                    Some(&tenant.id),
                    AuditAction::EndpointAuthHeaderSet,
                    format!("Set the auth header {} of \"{}\"", header.name.trim(), f.name),
                ));
            }
            (Some(Some(header)), Some(old)) if header.name.trim() != old.as_str() => {
                entries.push(Audit::new(
                    Some(&tenant.id),
                    AuditAction::EndpointAuthHeaderSet,
                    format!("Renamed the auth header of \"{}\" to {}", f.name, header.name.trim()),
                ));
            }
            (Some(None), Some(old)) => {
                entries.push(Audit::new(
                    Some(&tenant.id),
                    AuditAction::EndpointAuthHeaderRemoved,
                    format!("Removed the auth header {old} of \"{}\"", f.name),
                ));
            }
            _ => {}
        }
        let mut tx = self.store.begin().await?;
        execute_in!(
            &mut tx,
            sqlx::query(
                "UPDATE endpoints SET name = $1, description = $2, url = $3, method = $4, auth_header_name = $5,
                 auth_header_value = $6, event_types = $7, payload_shape = $8, channel = $9, email = $10, updated_at = $11,
                 filter = $14, max_per_second = $15, max_in_flight = $16
             WHERE id = $12 AND tenant_id = $13"
            )
            .bind(&f.name)
            .bind(&f.description)
            .bind(&f.url)
            .bind(f.method)
            .bind(f.auth.as_ref().map(|(n, _)| n))
            .bind(&auth_value)
            .bind(&event_types)
            .bind(f.payload_shape)
            .bind(f.channel)
            .bind(&f.email)
            .bind(self.clock.now())
            .bind(id)
            .bind(&tenant.id)
            .bind(stored_filter(&f.filter))
            .bind(f.max_per_second)
            .bind(f.max_in_flight)
        )?;
        for entry in entries {
            self.audit_in(&mut tx, actor, entry.target(id)).await?;
        }
        tx.commit().await?;
        self.endpoint(&tenant.id, id).await
    }

    pub async fn delete_endpoint(&self, actor: &Actor, id: &str) -> Result<()> {
        let tenant_id = actor.require_writer()?;
        let name = self.endpoint_row(tenant_id, id).await.map(|e| e.name).unwrap_or_default();
        let mut tx = self.store.begin().await?;
        let deleted = execute_in!(&mut tx, sqlx::query("DELETE FROM endpoints WHERE id = $1 AND tenant_id = $2").bind(id).bind(tenant_id))?;
        if deleted == 0 {
            return Err(Error::NotFound("endpoint"));
        }
        self.audit_in(
            &mut tx,
            actor,
            Audit::new(Some(tenant_id), AuditAction::EndpointDeleted, format!("Deleted endpoint \"{name}\"")).target(id),
        )
        .await?;
        tx.commit().await
    }

    /// Reactivation is for admins: it resumes deliveries to a URL that was failing.
    pub async fn activate_endpoint(&self, actor: &Actor, id: &str) -> Result<Endpoint> {
        let tenant_id = actor.require_admin()?;
        self.set_status(actor, tenant_id, id, EndpointStatus::Active, None).await
    }

    pub async fn deactivate_endpoint(&self, actor: &Actor, id: &str) -> Result<Endpoint> {
        let tenant_id = actor.require_writer()?;
        self.set_status(actor, tenant_id, id, EndpointStatus::Inactive, Some("manual")).await
    }

    /// Activates or deactivates (with the reason), and records who did it.
    async fn set_status(&self, actor: &Actor, tenant_id: &str, id: &str, status: EndpointStatus, reason: Option<&str>) -> Result<Endpoint> {
        let name = self.endpoint_row(tenant_id, id).await?.name;
        let since = reason.map(|_| self.clock.now());
        let entry = match status {
            EndpointStatus::Active => {
                Audit::new(Some(tenant_id), AuditAction::EndpointActivated, format!("Reactivated endpoint \"{name}\""))
            }
            EndpointStatus::Inactive => {
                Audit::new(Some(tenant_id), AuditAction::EndpointDeactivated, format!("Deactivated endpoint \"{name}\""))
            }
        };
        let mut tx = self.store.begin().await?;
        let changed = execute_in!(&mut tx, sqlx::query(
            "UPDATE endpoints SET status = $1, inactive_reason = $2, inactive_since = $3, consecutive_failures = 0, updated_at = $4,
                 at_risk_since = CASE WHEN $1 = 'active' AND inactive_reason IS NOT NULL AND inactive_reason <> 'manual' THEN $4 ELSE NULL END
             WHERE id = $5 AND tenant_id = $6")
            .bind(status).bind(reason).bind(since).bind(self.clock.now()).bind(id).bind(tenant_id))?;
        if changed == 0 {
            return Err(Error::NotFound("endpoint"));
        }
        self.audit_in(&mut tx, actor, entry.target(id)).await?;
        tx.commit().await?;
        self.endpoint(tenant_id, id).await
    }

    /// The current signing secret, revealed on demand.
    pub async fn endpoint_secret(&self, actor: &Actor, id: &str) -> Result<String> {
        let row = self.endpoint_row(actor.require_secret_access()?, id).await?;
        self.open_for(id, "secret", &row.secret)
    }

    /// A new secret; the previous one keeps signing (alongside) for 24 hours.
    pub async fn rotate_endpoint_secret(&self, actor: &Actor, id: &str) -> Result<String> {
        let tenant_id = actor.require_writer()?;
        actor.require_secret_access()?;
        let row = self.endpoint_row(tenant_id, id).await?;
        let fresh = new_signing_secret();
        let now = self.clock.now();
        let sealed = self.seal_for(id, "secret", &fresh)?;
        // The current secret moves to the previous-secret column: sealed again for that column.
        let previous = self.seal_for(id, "previous_secret", &self.open_for(id, "secret", &row.secret)?)?;
        let mut tx = self.store.begin().await?;
        execute_in!(
            &mut tx,
            sqlx::query(
                "UPDATE endpoints SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, updated_at = $4
             WHERE id = $5 AND tenant_id = $6"
            )
            .bind(&sealed)
            .bind(&previous)
            .bind(now + SECRET_OVERLAP)
            .bind(now)
            .bind(id)
            .bind(tenant_id)
        )?;
        let entry =
            Audit::new(Some(tenant_id), AuditAction::EndpointSecretRotated, format!("Rotated the signing secret of \"{}\"", row.name));
        self.audit_in(&mut tx, actor, entry.target(id)).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// The secrets that sign a delivery now: the current one, and the previous one while its
    /// overlap lasts.
    pub fn signing_secrets(&self, row: &EndpointRow) -> Result<Vec<String>> {
        let mut secrets = vec![self.open_for(&row.id, "secret", &row.secret)?];
        if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_secret_expires_at) {
            if until > self.clock.now() {
                secrets.push(self.open_for(&row.id, "previous_secret", previous)?);
            }
        }
        Ok(secrets)
    }

    /// Tenant admins switch all deliveries on or off; events are recorded either way.
    pub async fn set_webhooks_enabled(&self, actor: &Actor, enabled: bool) -> Result<Tenant> {
        let tenant_id = actor.require_admin()?;
        let (action, summary) = if enabled {
            (AuditAction::TenantWebhooksEnabled, "Switched webhook delivery on")
        } else {
            (AuditAction::TenantWebhooksDisabled, "Switched webhook delivery off")
        };
        let mut tx = self.store.begin().await?;
        execute_in!(&mut tx, sqlx::query("UPDATE tenants SET webhooks_enabled = $1 WHERE id = $2").bind(enabled).bind(tenant_id))?;
        self.audit_in(&mut tx, actor, Audit::new(Some(tenant_id), action, summary)).await?;
        tx.commit().await?;
        self.tenant(tenant_id).await
    }
}

/// A throttle limit as given (`null` clears it), or the current one; between 1 and `max`.
fn throttle_limit(input: Option<Option<i64>>, current: Option<i64>, field: &'static str, max: i64) -> Result<Option<i64>> {
    match input.unwrap_or(current) {
        Some(n) if !(1..=max).contains(&n) => {
            let what = if field == "max_per_second" { "Deliveries per second" } else { "Requests at once" };
            Err(Error::invalid(field, format!("{what} ({field}) must be between 1 and {max}, or empty (null) for no limit.")))
        }
        limit => Ok(limit),
    }
}

fn stored_filter(filter: &Option<Filter>) -> Option<String> {
    filter.as_ref().map(|f| f.to_json().to_string())
}

pub fn limit_reached(plan: Plan) -> Error {
    let limit = plan.endpoint_limit();
    let upgrade = match plan.next_up() {
        Some(next) => format!(" Upgrade to {} for up to {} endpoints, or delete one first.", next.label(), next.endpoint_limit()),
        None => " Delete an endpoint first.".to_string(),
    };
    Error::conflict(
        "plan_limit_reached",
        None,
        format!("Your {} plan allows {limit} endpoint{}, and all are in use.{upgrade}", plan.label(), if limit == 1 { "" } else { "s" }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_at_most_the_last_four_characters() {
        assert_eq!(mask("Bearer abcdefgh1234"), "••••••••1234");
        assert_eq!(mask("short"), "••••••••");
    }

    #[test]
    fn header_names_and_values_are_checked() {
        assert!(validate_header_name("Authorization").is_ok());
        assert!(validate_header_name("Ocp-Apim-Subscription-Key").is_ok());
        assert!(validate_header_name("X_Api_Key-2").is_ok());
        for bad in [
            "",
            "Bad Header",
            "X:Y",
            "Host",
            "transfer-encoding",
            "Webhook-Signature",
            "Content-Type",
            "X-K`touch$IFS'x'`",
            "X-$(id)",
            "X.Key",
            "X-K\"",
            "Ключ",
        ] {
            assert!(validate_header_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_header_value("Bearer abc").is_ok());
        assert!(validate_header_value("a\r\nX-Evil: 1").is_err());
        assert!(validate_header_value("caf\u{e9}").is_err());
    }

    #[test]
    fn event_type_lists_are_normalised() {
        let catalog = Catalog::default();
        let check = |types: &[&str]| validate_event_types(&types.iter().map(|t| t.to_string()).collect::<Vec<_>>(), &catalog, &[]);
        assert_eq!(check(&["Invoice.Closed", "invoice.closed"]).unwrap(), ["invoice.closed"]);
        assert_eq!(check(&["invoice.closed", "*"]).unwrap(), ["*"]);
        assert!(check(&["invoice.opened"]).is_err());
        assert!(check(&[]).is_err());
    }

    #[test]
    fn signing_secrets_follow_standard_webhooks() {
        let s = new_signing_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(B64.decode(&s[6..]).unwrap().len(), 24);
    }

    #[test]
    fn limit_message_names_the_next_plan() {
        let msg = limit_reached(Plan::Basic).to_string();
        assert!(msg.contains("Basic plan allows 1 endpoint,") && msg.contains("Upgrade to Professional for up to 3"), "{msg}");
    }

    #[tokio::test]
    async fn urls_follow_the_tenant_policy() {
        assert!(check_url("https://hooks.example.com/x", false).await.is_ok());
        for (bad, why) in [
            ("http://hooks.example.com/x", "https"),
            ("ftp://hooks.example.com", "https"),
            ("https://user:pw@hooks.example.com", "credentials"),
            ("https://127.0.0.1/x", "private"),
            ("https://[::1]/x", "private"),
            ("https://169.254.169.254/latest", "private"),
            ("https://localhost:8080", "private"),
            ("not a url", "full URL"),
        ] {
            let err = check_url(bad, false).await.unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).await.is_ok(), "allowed by the operator");
        for never in ["http://169.254.169.254/latest", "http://[fe80::1]/", "http://0.0.0.0/", "http://metadata.google.internal/"] {
            let err = check_url(never, true).await.unwrap_err().to_string();
            assert!(err.contains("may never reach"), "{never}: {err}");
        }
    }

    #[test]
    fn a_refused_name_does_not_say_what_it_resolves_to() {
        for (addrs, allow_private) in [(["10.1.2.3"], false), (["169.254.169.254"], true)] {
            let addrs: Vec<std::net::IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
            let err = check_resolved("hooks.corp.example", &addrs, allow_private).unwrap_err().to_string();
            assert!(err.starts_with("hooks.corp.example resolves to a "), "{err}");
            assert!(!err.contains(&addrs[0].to_string()), "{err}");
        }
        assert!(check_resolved("hooks.example.com", &["93.184.216.34".parse().unwrap()], false).is_ok());
    }
}
