//! Endpoint health: why attempts fail, in words a business user can act on, and how close an
//! endpoint is to being deactivated.

use serde::Serialize;

use crate::clock::rfc3339;
use crate::delivery::retry::DEACTIVATE_AFTER;
use crate::endpoints::EndpointRow;

/// At this many failures left before deactivation, an endpoint is at risk (and admins are told).
pub const AT_RISK_LEFT: i64 = 5;

/// Why an attempt failed. Stored with each attempt and with the endpoint's last failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    Dns,
    Tls,
    ConnectionRefused,
    Timeout,
    Redirect,
    BodyTooLarge,
    #[serde(rename = "http_401_403")]
    Http401403,
    #[serde(rename = "http_404")]
    Http404,
    #[serde(rename = "http_410")]
    Http410,
    #[serde(rename = "http_429")]
    Http429,
    #[serde(rename = "http_5xx")]
    Http5xx,
    Other,
}

const ALL: [FailureClass; 12] = [
    FailureClass::Dns,
    FailureClass::Tls,
    FailureClass::ConnectionRefused,
    FailureClass::Timeout,
    FailureClass::Redirect,
    FailureClass::BodyTooLarge,
    FailureClass::Http401403,
    FailureClass::Http404,
    FailureClass::Http410,
    FailureClass::Http429,
    FailureClass::Http5xx,
    FailureClass::Other,
];

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Dns => "dns",
            FailureClass::Tls => "tls",
            FailureClass::ConnectionRefused => "connection_refused",
            FailureClass::Timeout => "timeout",
            FailureClass::Redirect => "redirect",
            FailureClass::BodyTooLarge => "body_too_large",
            FailureClass::Http401403 => "http_401_403",
            FailureClass::Http404 => "http_404",
            FailureClass::Http410 => "http_410",
            FailureClass::Http429 => "http_429",
            FailureClass::Http5xx => "http_5xx",
            FailureClass::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<FailureClass> {
        ALL.into_iter().find(|c| c.as_str() == s)
    }

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

/// The endpoint's last failed attempt.
#[derive(Clone, Debug, Serialize)]
pub struct LastFailure {
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub reason: &'static str,
    pub code: Option<i64>,
    pub message: &'static str,
    pub fix: &'static str,
}

/// `GET /endpoints` and `/endpoints/{id}` carry this.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// `healthy`, `degraded` (failing lately), `at_risk` (5 or fewer failures left before
    /// deactivation) or `inactive`.
    pub state: &'static str,
    pub consecutive_failures: i64,
    pub failures_left: i64,
    pub last_failure: Option<LastFailure>,
}

impl Health {
    pub fn of(row: &EndpointRow) -> Health {
        let failures_left = (DEACTIVATE_AFTER - row.consecutive_failures).max(0);
        let state = if row.status != "active" {
            "inactive"
        } else if row.consecutive_failures == 0 {
            "healthy"
        } else if failures_left <= AT_RISK_LEFT {
            "at_risk"
        } else {
            "degraded"
        };
        let last_failure = match (row.last_failure_at, row.last_failure_class.as_deref().and_then(FailureClass::parse)) {
            (Some(at), Some(class)) => Some(LastFailure {
                at: rfc3339(at),
                at_ms: at,
                reason: class.as_str(),
                code: row.last_failure_code,
                message: class.sentence(),
                fix: class.fix(),
            }),
            _ => None,
        };
        Health { state, consecutive_failures: row.consecutive_failures, failures_left, last_failure }
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
