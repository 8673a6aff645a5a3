//! An endpoint's delivery statistics over a window, as `GET /endpoints/{id}/stats` sends them
//! and the dashboard draws them.

use serde::{Deserialize, Serialize};

use crate::{clock, text_enum, DeliveryStatus, FailureClass};

text_enum! {
    /// How far back the statistics look.
    Window { Day = "24h", Week = "7d", Month = "30d" }
}

impl Window {
    /// "24 hours", "7 days", "30 days".
    pub fn label(self) -> &'static str {
        match self {
            Window::Day => "24 hours",
            Window::Week => "7 days",
            Window::Month => "30 days",
        }
    }

    /// The label under a chart bar that starts at `start_ms`.
    pub fn bar_label(self, start_ms: i64) -> String {
        let t = clock::rfc3339(start_ms);
        match self {
            Window::Day => t[11..16].to_string(),
            Window::Week => format!("{} {}", &t[5..10], &t[11..13]),
            Window::Month => t[5..10].to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Bar {
    pub start: String,
    pub start_ms: i64,
    pub succeeded: i64,
    pub failed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LastDelivery {
    pub id: String,
    pub status: DeliveryStatus,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct EndpointStats {
    pub window: Window,
    /// Requests sent (attempts), and how they ended.
    pub sent: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Deliveries that ran out of retries.
    pub gave_up: i64,
    /// Succeeded / sent, 0–1; none when nothing was sent.
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    pub last_delivery: Option<LastDelivery>,
    /// Why attempts failed in the window, most frequent first.
    pub failure_reasons: Vec<FailureReason>,
    /// Seconds per bar: 3600 (24h), 21600 (7d) or 86400 (30d).
    pub bar_seconds: i64,
    pub bars: Vec<Bar>,
}

impl EndpointStats {
    /// "hour", "6 hours" or "day".
    pub fn bar_width(&self) -> String {
        match self.bar_seconds {
            3600 => "hour".into(),
            86400 => "day".into(),
            s => format!("{} hours", s / 3600),
        }
    }
}

/// One failure class and how often it occurred, with what it means and what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FailureReason {
    pub reason: FailureClass,
    pub count: i64,
    pub message: String,
    pub fix: String,
}

impl FailureReason {
    pub fn new(reason: FailureClass, count: i64) -> FailureReason {
        FailureReason { reason, count, message: reason.sentence().into(), fix: reason.fix().into() }
    }
}
