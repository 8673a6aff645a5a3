//! The delivery log: a delivery as the log lists it, and one delivery with its attempts and the
//! request as it was sent. Times are epoch milliseconds.

use serde::{Deserialize, Serialize};

use crate::{DeliveryKind, DeliveryStatus, FailureClass};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub kind: DeliveryKind,
    pub replay_of: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    pub replays: i64,
}

impl DeliveryRow {
    /// Labels the log shows next to the time.
    pub fn labels(&self) -> Vec<&'static str> {
        let mut labels: Vec<&'static str> = self.kind.label().into_iter().collect();
        if self.archived_at.is_some() {
            labels.push("Archived");
        }
        labels
    }

    /// When the next try is due, while it is retrying.
    pub fn next_retry_at(&self) -> Option<i64> {
        self.next_attempt_at.filter(|_| self.status == DeliveryStatus::Retrying)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Attempt {
    pub attempted_at: i64,
    /// JSON: method, url, payload_shape, headers (masked), as sent.
    pub request: Option<String>,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    /// JSON object of the response's headers.
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// Why it failed (`timeout`, `http_5xx`, ...).
    pub failure_class: Option<FailureClass>,
}

impl Attempt {
    /// The response's headers as (name, value), in the order received.
    pub fn response_header_pairs(&self) -> Vec<(String, String)> {
        let object =
            self.response_headers.as_deref().and_then(|h| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(h).ok());
        object.map(|m| m.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default()
    }
}

/// The request as the raw view shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RawRequest {
    pub method: String,
    pub url: String,
    /// In the order sent; the signature and the auth header value are masked.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Vec<String>>, example = json!([["content-type", "application/json"]])))]
    pub headers: Vec<(String, String)>,
    /// Pretty-printed; `None` once archived.
    pub body: Option<String>,
    /// The request as a shell command, secrets left as `${…}` variables to fill in.
    pub curl: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryDetail {
    pub delivery: DeliveryRow,
    pub attempts: Vec<Attempt>,
    /// Deliveries made by replaying this one, oldest first.
    pub replay_ids: Vec<String>,
    pub request: Option<RawRequest>,
}
