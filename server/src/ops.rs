//! Operations: `/readyz` for load balancers, `/metrics` for Prometheus, the request id every
//! HTTP request is logged under, and the task that samples the gauges.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::Herald;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::Instrument;

use crate::api::error_response;

/// How often the gauges (due backlog, oldest due age, pool use) are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder, installed on first use (the `metrics` facade has one
/// global recorder per process). If another recorder was installed first, this one still
/// renders, but stays empty.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(domain::telemetry::ATTEMPT_SECONDS.into()), domain::telemetry::ATTEMPT_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(domain::telemetry::INGEST_TO_DELIVERY_SECONDS.into()),
                    domain::telemetry::INGEST_TO_DELIVERY_BUCKETS,
                )
            })
            .expect("histogram buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed: /metrics stays empty");
        }
        domain::telemetry::describe();
        handle
    })
}

/// Who may read `/metrics` besides loopback callers: the SHA-256 of `HERALD_METRICS_TOKEN`
/// (compared in constant time, and hashed so the comparison does not reveal its length).
#[derive(Clone)]
pub struct Ops {
    herald: Herald,
    metrics_token: Option<Arc<[u8; 32]>>,
}

impl Ops {
    pub fn new(herald: Herald, metrics_token: Option<&str>) -> Ops {
        Ops { herald, metrics_token: metrics_token.map(|t| Arc::new(Sha256::digest(t.as_bytes()).into())) }
    }
}

/// `/healthz` (liveness), `/readyz` (readiness) and `/metrics`, on any router's state.
pub fn routes<S: Clone + Send + Sync + 'static>(ops: Ops) -> Router<S> {
    metrics_handle();
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics)).with_state(ops)
}

/// Only these routes, for a worker process that serves no dashboard or API.
pub fn router(ops: Ops) -> Router {
    routes(ops).layer(axum::middleware::from_fn(request_id))
}

/// Liveness: the process answers and its database does.
async fn healthz(State(ops): State<Ops>) -> Response {
    if ops.herald.store.ping().await {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unreachable" }))).into_response()
    }
}

/// Readiness, for load balancers: the database answers and has every migration this binary
/// ships. Otherwise 503, naming each problem.
async fn readyz(State(ops): State<Ops>) -> Response {
    let problems = ops.herald.store.readiness_problems().await;
    if problems.is_empty() {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ready" }))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "not_ready", "problems": problems }))).into_response()
    }
}

/// The metrics in Prometheus text format, for loopback callers (not through a proxy) or with
/// the metrics token.
async fn metrics(State(ops): State<Ops>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match may_read_metrics(ops.metrics_token.as_deref(), peer, request.headers()) {
        Access::Granted => {}
        Access::Hidden => {
            return error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                "Metrics are served to loopback callers only; set HERALD_METRICS_TOKEN to let others scrape them.",
            )
        }
        Access::Refused => {
            let mut refusal = error_response(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send Authorization: Bearer <HERALD_METRICS_TOKEN> to read the metrics.",
            );
            refusal.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return refusal;
        }
    }
    let body = metrics_handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Whether a caller may read `/metrics`.
#[derive(Debug, PartialEq)]
enum Access {
    Granted,
    /// Not loopback, and no token configured: as if there were no such route.
    Hidden,
    /// Not loopback, and no or a wrong token.
    Refused,
}

/// Loopback callers may, unless the request came through a proxy (a proxy on this machine
/// would otherwise open `/metrics` to everyone); others need `Authorization: Bearer <token>`.
/// Without a token configured, others get 404; with one, a missing or wrong token gets 401.
fn may_read_metrics(token_hash: Option<&[u8; 32]>, peer: Option<IpAddr>, headers: &HeaderMap) -> Access {
    let proxied = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
    if !proxied && peer.is_some_and(|ip| ip.to_canonical().is_loopback()) {
        return Access::Granted;
    }
    let Some(expected) = token_hash else { return Access::Hidden };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let given: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
    if bool::from(given.ct_eq(expected)) {
        Access::Granted
    } else {
        Access::Refused
    }
}

/// Samples the gauges every [`SAMPLE_EVERY`] (each process its own pool; the backlog is the
/// whole database's, the same from every process) and keeps the recorder tidy.
pub fn spawn_sampler(herald: Herald) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let handle = metrics_handle();
        let mut every = tokio::time::interval(SAMPLE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = herald.sample_gauges().await {
                tracing::warn!(error = ?err, "could not sample the due backlog for /metrics");
            }
            handle.run_upkeep();
        }
    })
}

pub const REQUEST_ID: &str = "x-request-id";

/// Every request runs in a `request` span with its id (the caller's `x-request-id` if it is a
/// sane one, else a new `req_…`), so each log line it causes carries the id; the response
/// echoes the id in `x-request-id`.
pub async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| domain::ids::new_id("req"));
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %loggable_path(request.uri().path()));
    let started = std::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request finished")
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// At most 128 characters, letters, digits and `-_.:/+=` (a UUID, a trace id, a load
/// balancer's id); anything else is replaced, so a caller cannot forge log lines with it.
fn is_sane_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// The path for the logs, without the one-time tokens some pages carry in it.
fn loggable_path(path: &str) -> String {
    for secret_after in ["/signup/confirm/", "/invite/", domain::dashboard_links::PATH] {
        if path.starts_with(secret_after) && path.len() > secret_after.len() {
            return format!("{secret_after}…");
        }
    }
    path.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_callers_must_be_plain() {
        for good in ["3f1c2a9e-5b7d-4c1e-9a0b-2d3e4f5a6b7c", "Root=1-67891233-abcdef012345678912345678", "abc_123.x"] {
            assert!(is_sane_request_id(good), "{good}");
        }
        for bad in ["", "has space", "quote\"", "{\"json\":1}", &"x".repeat(129), "ü"] {
            assert!(!is_sane_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn metrics_need_loopback_or_the_token() {
        let token: [u8; 32] = Sha256::digest(b"s3cret").into();
        let peer = |ip: &str| Some(ip.parse::<IpAddr>().unwrap());
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let status = |access: Access| match access {
            Access::Granted => 200,
            Access::Hidden => 404,
            Access::Refused => 401,
        };
        assert_eq!(status(may_read_metrics(None, peer("127.0.0.1"), &headers(&[]))), 200);
        assert_eq!(status(may_read_metrics(None, peer("::1"), &headers(&[]))), 200);
        assert_eq!(status(may_read_metrics(None, peer("::ffff:127.0.0.1"), &headers(&[]))), 200);
        assert_eq!(status(may_read_metrics(None, peer("10.0.0.5"), &headers(&[]))), 404);
        assert_eq!(status(may_read_metrics(None, peer("127.0.0.1"), &headers(&[("x-forwarded-for", "203.0.113.9")]))), 404);
        assert_eq!(status(may_read_metrics(Some(&token), peer("10.0.0.5"), &headers(&[]))), 401);
        assert_eq!(status(may_read_metrics(Some(&token), peer("10.0.0.5"), &headers(&[("authorization", "Bearer nope")]))), 401);
        assert_eq!(status(may_read_metrics(Some(&token), peer("10.0.0.5"), &headers(&[("authorization", "Bearer s3cret")]))), 200);
        assert_eq!(status(may_read_metrics(Some(&token), None, &headers(&[("authorization", "Basic s3cret")]))), 401);
    }

    #[test]
    fn one_time_tokens_stay_out_of_the_logs() {
        assert_eq!(loggable_path("/invite/abcSECRET"), "/invite/…");
        assert_eq!(loggable_path("/signup/confirm/abcSECRET"), "/signup/confirm/…");
        assert_eq!(loggable_path("/dashboard-link/abcSECRET"), "/dashboard-link/…");
        assert_eq!(loggable_path("/api/v1/events"), "/api/v1/events");
    }
}
