//! Sending one delivery: over HTTP (checked, signed, with the endpoint's auth header) or by
//! email. Either way the attempt comes back as an [`AttemptRecord`] and a [`Verdict`].

use std::time::Instant;

use serde_json::Value;

use super::retry::{self, Verdict};
use super::snapshot::request_snapshot;
use super::{http, sign, MAX_RESPONSE_BODY, USER_AGENT};
use crate::endpoints::EndpointRow;
use crate::error::Error;
use crate::messages::Message;
use crate::Herald;

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

impl Herald {
    /// The body an endpoint receives, in its payload shape.
    pub fn body_for(endpoint: &EndpointRow, message: &Message) -> String {
        message.body(endpoint.payload_shape).unwrap_or_else(|| "null".into())
    }

    pub(super) async fn send_http(&self, endpoint: &EndpointRow, message: &Message, allow_private: bool) -> (AttemptRecord, Verdict) {
        let started = Instant::now();
        let timestamp = self.clock.now() / 1000;
        let snapshot = request_snapshot(endpoint, &message.id, &timestamp.to_string()).to_string();
        match self.send_request(endpoint, message, timestamp, allow_private).await {
            Ok(response) => self.read_response(response, snapshot, started).await,
            Err(error) => failed_before_response(snapshot, error, started),
        }
    }

    /// Checks the URL, builds the request and sends it; `Err` is the attempt's error when no
    /// response came back.
    async fn send_request(
        &self,
        endpoint: &EndpointRow,
        message: &Message,
        timestamp: i64,
        allow_private: bool,
    ) -> Result<reqwest::Response, String> {
        if let Some(refusal) = refused_literal_ip(&endpoint.url, allow_private) {
            return Err(refusal);
        }
        let request = self.build_request(endpoint, message, timestamp, allow_private)?;
        request.send().await.map_err(|e| self.transport_error(&e))
    }

    /// The signed request with the endpoint's method, headers, auth header and body.
    fn build_request(
        &self,
        endpoint: &EndpointRow,
        message: &Message,
        timestamp: i64,
        allow_private: bool,
    ) -> Result<reqwest::RequestBuilder, String> {
        let body = Self::body_for(endpoint, message);
        let signature = self
            .signing_secrets(endpoint)
            .and_then(|s| sign::signature_header(&s, &message.id, timestamp, &body))
            .map_err(|e| format!("Could not sign the request: {e}"))?;
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
            let value =
                self.open_for(&endpoint.id, "auth_header_value", sealed).map_err(|e| format!("Could not read the auth header: {e}"))?;
            request = request.header(name.as_str(), value);
        }
        Ok(request.body(body))
    }

    /// Why a request got no response, in words.
    fn transport_error(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!("Timed out: no response within {} s", self.http.timeout.as_secs_f32())
        } else if e.is_connect() {
            format!("Connection failed: {}", http::root_cause(e))
        } else {
            format!("Request failed: {}", http::root_cause(e))
        }
    }

    /// Reads the response (its body up to [`MAX_RESPONSE_BODY`]) into the attempt and judges it.
    async fn read_response(&self, response: reqwest::Response, snapshot: String, started: Instant) -> (AttemptRecord, Verdict) {
        let status = response.status().as_u16();
        let headers: serde_json::Map<String, Value> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
            .collect();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let (body, body_error) = read_capped(response).await;
        let verdict = self.verdict_for(status, retry_after);
        let record = AttemptRecord {
            request: Some(snapshot),
            status_code: Some(status as i64),
            response_headers: Some(Value::Object(headers).to_string()),
            response_body: Some(body),
            error: status_error(status, body_error),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        (record, verdict)
    }

    /// 2xx succeeds, 410 is gone; 429 and 502–504 are retried no sooner than `Retry-After` asks.
    fn verdict_for(&self, status: u16, retry_after: Option<String>) -> Verdict {
        match status {
            200..=299 => Verdict::Succeeded,
            410 => Verdict::Gone,
            429 | 502 | 503 | 504 => Verdict::Failed { retry_after: retry_after.and_then(|v| retry::retry_after(&v, self.clock.now())) },
            _ => Verdict::Failed { retry_after: None },
        }
    }

    pub(super) async fn send_email(&self, endpoint: &EndpointRow, message: &Message) -> (AttemptRecord, Verdict) {
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
}

/// An attempt that ended before any response: refused, not signed, or not answered.
fn failed_before_response(snapshot: String, error: String, started: Instant) -> (AttemptRecord, Verdict) {
    let record = AttemptRecord {
        request: Some(snapshot),
        error: Some(error),
        duration_ms: started.elapsed().as_millis() as i64,
        ..Default::default()
    };
    (record, Verdict::Failed { retry_after: None })
}

/// Literal IP addresses bypass the resolver: check them here. `Some` says why the URL is refused.
fn refused_literal_ip(url: &str, allow_private: bool) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    };
    let ip = literal.filter(|ip| !crate::net::may_reach(*ip, allow_private))?;
    let what = if crate::net::is_forbidden(ip) {
        "a link-local, unspecified or cloud metadata address"
    } else {
        "a private, loopback or link-local address"
    };
    Some(format!("Refused: the URL points to {what}"))
}

/// The attempt's error for a response status (a 2xx keeps the body read error, if any).
fn status_error(status: u16, body_error: Option<String>) -> Option<String> {
    match status {
        200..=299 => body_error,
        300..=399 => Some(format!("HTTP {status}: redirects are not followed; point the endpoint at the final URL")),
        410 => Some("HTTP 410 Gone: the receiver asked not to be called again".into()),
        _ => Some(format!("HTTP {status}")),
    }
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
