//! Deliveries: their status and kind, why an attempt failed, an endpoint's health, and
//! recovery jobs.

use crate::text_enum;

text_enum! {
    /// Where a delivery is.
    DeliveryStatus {
        /// Due (now or at `next_attempt_at`), not yet tried.
        Pending = "pending",
        /// Tried and failed; tried again at `next_attempt_at`.
        Retrying = "retrying",
        Succeeded = "succeeded",
        /// Ran out of retries (or the endpoint was deactivated while it waited).
        Failed = "failed",
        /// Recorded while the endpoint was inactive; never sent unless recovered.
        Skipped = "skipped",
    }
}

impl DeliveryStatus {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Retrying => "Retrying",
            DeliveryStatus::Succeeded => "Succeeded",
            DeliveryStatus::Failed => "Failed",
            DeliveryStatus::Skipped => "Skipped",
        }
    }
}

text_enum! {
    /// The delivery log's status filter: one status, or every delivery that was tried and has
    /// not been delivered (failed, retrying, or skipped after failing when the endpoint was
    /// deactivated; the deactivation email links to it).
    StatusFilter {
        Succeeded = "succeeded",
        Undelivered = "undelivered",
        Failed = "failed",
        Retrying = "retrying",
        Pending = "pending",
        Skipped = "skipped",
    }
}

impl StatusFilter {
    /// The one status it matches, if it is one.
    pub fn status(self) -> Option<DeliveryStatus> {
        DeliveryStatus::parse(self.as_str())
    }

    pub fn label(self) -> &'static str {
        match self.status() {
            Some(status) => status.label(),
            None => "Not delivered after trying",
        }
    }
}

text_enum! {
    /// Why a delivery exists.
    DeliveryKind {
        /// An ingested event, fanned out to a subscribed endpoint.
        Event = "event",
        /// "Send test event" from the dashboard.
        Test = "test",
        /// A copy of an earlier delivery, sent again by a replay or a recovery job.
        Replay = "replay",
    }
}

impl DeliveryKind {
    /// The label the log shows next to the time, if any.
    pub fn label(self) -> Option<&'static str> {
        match self {
            DeliveryKind::Event => None,
            DeliveryKind::Test => Some("Test"),
            DeliveryKind::Replay => Some("Replay"),
        }
    }
}

text_enum! {
    /// Why an attempt failed. Stored with each attempt and with the endpoint's last failure.
    FailureClass {
        Dns = "dns",
        Tls = "tls",
        ConnectionRefused = "connection_refused",
        Timeout = "timeout",
        Redirect = "redirect",
        BodyTooLarge = "body_too_large",
        Http401403 = "http_401_403",
        Http404 = "http_404",
        Http410 = "http_410",
        Http429 = "http_429",
        Http5xx = "http_5xx",
        Other = "other",
    }
}

impl FailureClass {
    /// Classifies a failed attempt from its HTTP status, or, without one, from the error.
    pub fn of(status_code: Option<i64>, error: &str) -> FailureClass {
        match status_code {
            Some(300..=399) => FailureClass::Redirect,
            Some(401 | 403) => FailureClass::Http401403,
            Some(404) => FailureClass::Http404,
            Some(410) => FailureClass::Http410,
            Some(413) => FailureClass::BodyTooLarge,
            Some(429) => FailureClass::Http429,
            Some(500..=599) => FailureClass::Http5xx,
            Some(_) => FailureClass::Other,
            None => {
                let e = error.to_ascii_lowercase();
                if e.starts_with("timed out") {
                    FailureClass::Timeout
                } else if e.contains("dns") || e.contains("lookup address") || e.contains("name or service not known") {
                    FailureClass::Dns
                } else if e.contains("certificate") || e.contains("tls") || e.contains("handshake") {
                    FailureClass::Tls
                } else if e.contains("connection refused") {
                    FailureClass::ConnectionRefused
                } else {
                    FailureClass::Other
                }
            }
        }
    }

    /// What happened, in one sentence.
    pub fn sentence(self) -> &'static str {
        match self {
            FailureClass::Dns => "The endpoint's host name could not be found.",
            FailureClass::Tls => "A secure (TLS) connection could not be made: the certificate or its setup was refused.",
            FailureClass::ConnectionRefused => {
                "The receiving server refused the connection: nothing is listening at that address and port."
            }
            FailureClass::Timeout => "The receiver did not answer within 10 seconds.",
            FailureClass::Redirect => "The receiver answered with a redirect, which Herald does not follow.",
            FailureClass::BodyTooLarge => "The receiver refused the request as too large (HTTP 413).",
            FailureClass::Http401403 => "The receiver refused Herald's credentials (HTTP 401 or 403).",
            FailureClass::Http404 => "The receiver has nothing at this URL (HTTP 404).",
            FailureClass::Http410 => "The receiver said this URL is gone for good (HTTP 410).",
            FailureClass::Http429 => "The receiver is rate limiting Herald (HTTP 429).",
            FailureClass::Http5xx => "The receiver had an internal error (HTTP 5xx).",
            FailureClass::Other => "The request failed for another reason; see the error and the response.",
        }
    }

    /// What to do about it.
    pub fn fix(self) -> &'static str {
        match self {
            FailureClass::Dns => "Check the host name in the URL for typos, and that its DNS record exists.",
            FailureClass::Tls => "Check the receiver's certificate: valid, not expired, for this host name, with its full chain.",
            FailureClass::ConnectionRefused => "Check that the receiver is running and the URL's port is right and open to the internet.",
            FailureClass::Timeout => "Answer with 2xx at once and do slow work afterwards, or check why the receiver hangs.",
            FailureClass::Redirect => "Point the endpoint at the final URL (often https:// or a trailing slash).",
            FailureClass::BodyTooLarge => "Raise the receiver's request size limit, or choose the data-only payload.",
            FailureClass::Http401403 => "Check the auth header: its name and value must match what the receiver expects.",
            FailureClass::Http404 => "Check the URL path: the receiver does not know this route.",
            FailureClass::Http410 => "Update the URL to the receiver's new address, then reactivate the endpoint.",
            FailureClass::Http429 => "Raise the receiver's rate limit for Herald; Herald retries later and honours Retry-After.",
            FailureClass::Http5xx => "Check the receiver's logs for the error; Herald retries on its own.",
            FailureClass::Other => "Open the attempt's raw view for the exact error.",
        }
    }
}

text_enum! {
    /// How close an endpoint is to being deactivated.
    HealthState {
        Healthy = "healthy",
        /// Failing lately.
        Degraded = "degraded",
        /// Five or fewer failures left before deactivation (admins are told).
        AtRisk = "at_risk",
        Inactive = "inactive",
    }
}

impl HealthState {
    pub fn label(self) -> &'static str {
        match self {
            HealthState::Healthy => "Healthy",
            HealthState::Degraded => "Degraded",
            HealthState::AtRisk => "At risk",
            HealthState::Inactive => "Inactive",
        }
    }
}

text_enum! {
    /// Which deliveries a recovery sends again.
    RecoverStatus {
        /// Ran out of retries.
        Failed = "failed",
        /// Recorded while the endpoint was inactive.
        Skipped = "skipped",
    }
}

text_enum! {
    /// Where a recovery job is.
    JobStatus {
        Running = "running",
        Completed = "completed",
        Cancelled = "cancelled",
        /// The endpoint or workspace stopped accepting deliveries; the job's `error` says which.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_status_then_by_error() {
        let cases = [
            (Some(401), "", "http_401_403"),
            (Some(403), "", "http_401_403"),
            (Some(404), "", "http_404"),
            (Some(410), "", "http_410"),
            (Some(413), "", "body_too_large"),
            (Some(429), "", "http_429"),
            (Some(503), "", "http_5xx"),
            (Some(301), "", "redirect"),
            (Some(400), "", "other"),
            (None, "Timed out: no response within 10 s", "timeout"),
            (None, "Connection failed: dns error: failed to lookup address information", "dns"),
            (None, "Connection failed: invalid peer certificate: Expired", "tls"),
            (None, "Connection failed: Connection refused (os error 111)", "connection_refused"),
            (None, "Refused: the URL points to a private address", "other"),
        ];
        for (code, error, class) in cases {
            let found = FailureClass::of(code, error);
            assert_eq!(found.as_str(), class, "{code:?} {error}");
            assert_eq!(FailureClass::parse(class), Some(found));
            assert!(!found.sentence().is_empty() && !found.fix().is_empty());
        }
        let json = serde_json::to_value(FailureClass::Http401403).unwrap();
        assert_eq!(json, "http_401_403", "the wire name is the stored name");
    }
}
