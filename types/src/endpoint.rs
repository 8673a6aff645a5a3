//! How an endpoint receives: its channel, HTTP verb, payload shape and whether it is active.

use serde::{Deserialize, Serialize};

use crate::{text_enum, FailureClass, HealthState};

/// The most deliveries a second, and requests at once, an endpoint's throttle may allow.
pub const MAX_PER_SECOND: i64 = 1000;
pub const MAX_IN_FLIGHT: i64 = 100;
/// Requests at once to an endpoint without a throttle of its own, per worker process.
pub const DEFAULT_IN_FLIGHT: usize = 32;

text_enum! {
    /// Where deliveries go: an HTTP URL, or an email address.
    Channel { Http = "http", Email = "email" }
}

text_enum! {
    /// The HTTP verb of a webhook request.
    HttpMethod { Post = "POST", Put = "PUT", Patch = "PATCH" }
}

impl HttpMethod {
    /// What a person typed: any case, spaces around.
    pub fn from_input(text: &str) -> Option<HttpMethod> {
        HttpMethod::parse(&text.trim().to_uppercase())
    }
}

text_enum! {
    /// What the body of a delivery holds.
    PayloadShape {
        /// The full event: id, type, timestamp and data.
        Envelope = "envelope",
        /// The data object alone.
        Data = "data",
    }
}

text_enum! {
    /// Inactive endpoints receive nothing; their events are recorded as skipped.
    EndpointStatus { Active = "active", Inactive = "inactive" }
}

/// An endpoint as the API and the dashboard show it: no secret, the auth value only hinted.
/// Times are RFC 3339.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub method: HttpMethod,
    pub auth_header: Option<AuthHeaderOut>,
    pub event_types: Vec<String>,
    pub payload_shape: PayloadShape,
    pub channel: Channel,
    pub email: Option<String>,
    /// The payload filter, or `null` when every event of the subscribed types is delivered.
    pub filter: Option<serde_json::Value>,
    pub max_per_second: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub status: EndpointStatus,
    pub inactive_reason: Option<String>,
    /// RFC 3339.
    #[cfg_attr(feature = "utoipa", schema(format = DateTime))]
    pub inactive_since: Option<String>,
    pub health: Health,
    /// RFC 3339.
    #[cfg_attr(feature = "utoipa", schema(format = DateTime))]
    pub created_at: String,
}

impl Endpoint {
    /// Where deliveries go, for lists: the URL, or the email address.
    pub fn target(&self) -> String {
        if self.channel == Channel::Email {
            format!("✉ {}", self.email.clone().unwrap_or_default())
        } else {
            self.url.clone()
        }
    }

    /// "All events", the one type, or how many.
    pub fn events_label(&self) -> String {
        match self.event_types.as_slice() {
            [all] if all == "*" => "All events".into(),
            [one] => one.clone(),
            many => format!("{} event types", many.len()),
        }
    }
}

/// The auth header's name, and the last characters of its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AuthHeaderOut {
    pub name: String,
    pub value_hint: String,
}

/// How close an endpoint is to being deactivated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Health {
    pub state: HealthState,
    pub consecutive_failures: i64,
    pub failures_left: i64,
    pub last_failure: Option<LastFailure>,
}

/// The endpoint's last failed attempt: when (RFC 3339), why, and what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LastFailure {
    pub at: String,
    pub reason: FailureClass,
    pub code: Option<i64>,
    pub message: String,
    pub fix: String,
}
