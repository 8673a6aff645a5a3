//! Operations: readiness for the load balancer, `/metrics` for Prometheus (who may read it, and
//! what it counts, from the real `herald` binary), a graceful SIGTERM, JSON logs with request ids.

use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::{
    add_endpoint, eventually, herald_cli, plain_client, send_event, tenant_with_key, Answer, Plan, PrivateUrls, Sink, TestApp,
};

both_databases!(
    readiness_needs_the_database_and_every_migration,
    metrics_are_for_loopback_callers_or_the_token_holder,
    metrics_count_events_deliveries_and_the_backlog,
    sigterm_finishes_in_flight_deliveries_and_hands_back_the_rest,
    sigterm_stops_serving_a_request_still_open_after_the_grace,
    json_logs_carry_each_request_id,
);

// ---- the herald binary, as an operator runs it ----------------------------------------------

/// `herald serve --bind 127.0.0.1:<port>` (with `args` and `env` added) on the app's database,
/// its log in a file of the data directory. Nothing from the developer's environment.
struct Process {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Process {
    async fn start(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = app.data_dir.0.join(format!("herald-{port}.log"));
        let mut command = herald_cli(app);
        command.args(["serve", "--bind", &format!("127.0.0.1:{port}")]).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().expect("start herald");
        let process = Process { child, base: format!("http://127.0.0.1:{port}"), log };
        process.wait_healthy().await;
        process
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if plain_client().get(format!("{}/healthz", self.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("herald did not become healthy at {}; its log:\n{}", self.base, self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ingest(&self, key: &str, event_type: &str, n: i64) -> String {
        let response = plain_client()
            .post(format!("{}/api/v1/events", self.base))
            .bearer_auth(key)
            .json(&json!({ "event_type": event_type, "data": { "n": n } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    async fn scrape(&self) -> String {
        let response = plain_client().get(format!("{}/metrics", self.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Scrapes until `metric{labels}` has `value` (for at most 20 s); returns that scrape.
    async fn scrape_until(&self, metric: &str, labels: &[(&str, &str)], done: impl Fn(f64) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.scrape().await;
            if sample(&text, metric, labels).is_some_and(&done) {
                return text;
            }
            assert!(Instant::now() < deadline, "{metric}{labels:?} never reached the expected value; last scrape:\n{text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM, as systemd, Kubernetes or `docker stop` send it.
    fn terminate(&self) {
        let sent = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit, for at most `limit`.
    async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "herald still running {limit:?} after SIGTERM; its log:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the series `metric` whose labels include `labels`, in a Prometheus text scrape.
fn sample(text: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (name, label_text) = series.split_once('{').map_or((series, ""), |(n, rest)| (n, rest.trim_end_matches('}')));
        if name != metric {
            return None;
        }
        let have: Vec<(&str, &str)> =
            label_text.split(',').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.trim(), v.trim_matches('"'))).collect();
        labels.iter().all(|wanted| have.contains(wanted)).then(|| value.parse().ok()).flatten()
    })
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = plain_client().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.headers().clone(), response.text().await.unwrap())
}

fn body_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

// ---- /readyz --------------------------------------------------------------------------------

async fn readiness_needs_the_database_and_every_migration(app: TestApp) {
    let (status, _, text) = get(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!((status, body_json(&text)), (200, json!({ "status": "ready" })));

    // A database one migration behind this binary (as when a new release starts before
    // `herald migrate` ran): not ready, naming the migration; still alive.
    let set_aside = "UPDATE _sqlx_migrations SET version = -15 WHERE version = 15";
    assert_eq!(domain::execute_on!(&app.herald.store, sqlx::query(set_aside)).unwrap(), 1, "migration 15 was applied");
    let (status, _, text) = get(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!(status, 503);
    assert_eq!(
        body_json(&text),
        json!({ "status": "not_ready", "problems": ["migration 15 (endpoint throttle) is not applied: run `herald migrate`"] })
    );
    let (status, _, _) = get(&format!("{}/healthz", app.base), &[]).await;
    assert_eq!(status, 200, "liveness does not depend on migrations");

    // With it applied again: ready.
    let put_back = "UPDATE _sqlx_migrations SET version = 15 WHERE version = -15";
    assert_eq!(domain::execute_on!(&app.herald.store, sqlx::query(put_back)).unwrap(), 1);
    let (status, _, text) = get(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!((status, body_json(&text)), (200, json!({ "status": "ready" })));

    // The database gone: not ready, and not alive either.
    app.herald.store.close().await;
    let (status, _, text) = get(&format!("{}/readyz", app.base), &[]).await;
    assert_eq!((status, body_json(&text)), (503, json!({ "status": "not_ready", "problems": ["database unreachable"] })));
    let (status, _, _) = get(&format!("{}/healthz", app.base), &[]).await;
    assert_eq!(status, 503);
}

// ---- who may read /metrics ------------------------------------------------------------------

async fn metrics_are_for_loopback_callers_or_the_token_holder(app: TestApp) {
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    send_event(&app, &key, "invoice.closed", json!({ "n": 1 })).await;

    // Prometheus on this machine scrapes directly.
    let (status, headers, text) = get(&format!("{}/metrics", app.base), &[]).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"), "{headers:?}");
    assert!(text.contains("# TYPE herald_events_ingested_total counter"), "{text}");

    // Through a proxy (a forwarded request), without a token configured: not there.
    let proxied = [("x-forwarded-for", "203.0.113.9")];
    let (status, _, text) = get(&format!("{}/metrics", app.base), &proxied).await;
    assert_eq!(status, 404);
    assert_eq!(body_json(&text)["error"]["code"], "not_found");

    // With HERALD_METRICS_TOKEN: the right bearer token reads, others get 401.
    let guarded = app.spawn_process(|config| config.metrics_token = Some("scrape-token-7".into())).await;
    let url = format!("{}/metrics", guarded.base);
    let (status, headers, text) = get(&url, &proxied).await;
    assert_eq!((status, body_json(&text)["error"]["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert!(!text.contains("scrape-token-7"), "the refusal never shows the token: {text}");
    let (status, _, _) = get(&url, &[proxied[0], ("authorization", "Bearer scrape-token-8")]).await;
    assert_eq!(status, 401);
    let (status, _, _) = get(&url, &[proxied[0], ("authorization", "Bearer scrape-token-")]).await;
    assert_eq!(status, 401, "a prefix of the token is not the token");
    let (status, _, text) = get(&url, &[proxied[0], ("authorization", "Bearer scrape-token-7")]).await;
    assert_eq!(status, 200);
    assert!(text.contains("herald_events_ingested_total"), "{text}");
    // Loopback callers still need no token.
    let (status, _, _) = get(&url, &[]).await;
    assert_eq!(status, 200);
}

// ---- what /metrics counts, from real processes ----------------------------------------------

async fn metrics_count_events_deliveries_and_the_backlog(app: TestApp) {
    let ok = Sink::start().await;
    let broken = Sink::start().await;
    broken.answer(Answer::Status(503));
    let (tenant_id, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "CRM", "url": ok.url, "event_types": ["*"] })).await;
    add_endpoint(&app, &key, json!({ "name": "Broken", "url": broken.url, "event_types": ["*"] })).await;

    // A web process alone: it takes events and delivers nothing, so they wait.
    let mut web = Process::start(&app, &["--role", "web"], &[]).await;
    for n in 0..3 {
        web.ingest(&key, "invoice.closed", n).await;
    }
    let text = web.scrape_until("herald_due_deliveries", &[], |v| v == 6.0).await;
    assert_eq!(sample(&text, "herald_events_ingested_total", &[]), Some(3.0), "{text}");
    assert_eq!(sample(&text, "herald_tenant_events_ingested_total", &[("tenant", &tenant_id)]), Some(3.0), "{text}");
    let text = web.scrape_until("herald_oldest_due_delivery_age_seconds", &[], |age| age > 0.0).await;
    assert!(sample(&text, "herald_db_pool_connections", &[]).is_some_and(|n| n >= 1.0), "{text}");
    assert!(sample(&text, "herald_db_pool_idle_connections", &[]).is_some(), "{text}");
    assert_eq!(sample(&text, "herald_claims_total", &[]), None, "a web process claims nothing: {text}");
    let turns = sample(&text, "herald_sqlite_write_turn_seconds_count", &[]);
    if app.herald.store.is_postgres() {
        assert_eq!(turns, None, "PostgreSQL writers take no turns: {text}");
    } else {
        assert!(turns.is_some_and(|n| n >= 1.0), "SQLite's writes took turns: {text}");
        assert!(sample(&text, "herald_sqlite_write_turn_seconds_sum", &[]).is_some_and(|s| s > 0.0), "{text}");
    }
    assert!(ok.received().is_empty() && broken.received().is_empty());
    web.terminate();
    assert!(web.exit_within(Duration::from_secs(20)).await.success());

    // A worker process, with its metrics on --bind: it delivers the six.
    let worker = Process::start(&app, &["--role", "worker"], &[]).await;
    // Each figure is waited for: a scrape may fall between two of an attempt's updates.
    let retrying = [("outcome", "retrying"), ("failure_class", "http_5xx")];
    worker.scrape_until("herald_deliveries_total", &retrying, |n| n == 3.0).await;
    worker.scrape_until("herald_deliveries_total", &[("outcome", "succeeded"), ("failure_class", "none")], |n| n == 3.0).await;
    worker.scrape_until("herald_delivery_attempt_duration_seconds_count", &[], |n| n == 6.0).await;
    let text = worker.scrape_until("herald_ingest_to_delivery_seconds_count", &[], |n| n == 3.0).await;
    assert_eq!((ok.received().len(), broken.received().len()), (3, 3));
    assert_eq!(sample(&text, "herald_claims_total", &[]), Some(6.0), "{text}");
    assert_eq!(sample(&text, "herald_delivery_attempt_duration_seconds_bucket", &[("le", "+Inf")]), Some(6.0), "{text}");
    assert_eq!(sample(&text, "herald_deliveries_total", &[("outcome", "failed")]), None, "nothing gave up yet: {text}");
    assert_eq!(sample(&text, "herald_tenant_deliveries_total", &[("tenant", &tenant_id), ("outcome", "succeeded")]), Some(3.0), "{text}");
    assert_eq!(sample(&text, "herald_tenant_deliveries_total", &[("tenant", &tenant_id), ("outcome", "retrying")]), Some(3.0), "{text}");
    // The three failed ones wait 30 s for their retry: nothing is due now.
    worker.scrape_until("herald_due_deliveries", &[], |v| v == 0.0).await;
}

// ---- SIGTERM ------------------------------------------------------------------------------

#[derive(Debug, sqlx::FromRow, PartialEq)]
struct Row {
    status: String,
    attempts: i64,
    due: bool,
    leased: bool,
}

/// What became of the delivery of message `message_id`, as of the real time now.
async fn delivery_of(app: &TestApp, message_id: &str) -> Row {
    let now = domain::clock::Clock::now(&domain::clock::SystemClock);
    let sql = "SELECT status, attempts, (next_attempt_at IS NOT NULL AND next_attempt_at <= $1) AS due,
               (lease_until IS NOT NULL) AS leased FROM deliveries WHERE message_id = $2";
    domain::on_pool!(&app.herald.store, pool => sqlx::query_as::<_, Row>(sql).bind(now).bind(message_id).fetch_one(pool).await).unwrap()
}

async fn sigterm_finishes_in_flight_deliveries_and_hands_back_the_rest(app: TestApp) {
    let slow = Sink::start().await;
    slow.answer(Answer::Slow(3000));
    let stuck = Sink::start().await;
    stuck.answer(Answer::Hang);
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    add_endpoint(&app, &key, json!({ "name": "Slow", "url": slow.url, "event_types": ["invoice.closed"] })).await;
    add_endpoint(&app, &key, json!({ "name": "Stuck", "url": stuck.url, "event_types": ["customer.created"] })).await;

    // Two deliveries at a time; receivers get a minute to answer; a lease lasts two minutes,
    // so a delivery left leased would visibly wait that long.
    let env = [("HERALD_WORKER_CONCURRENCY", "2"), ("HERALD_DELIVERY_TIMEOUT_SECS", "60"), ("HERALD_LEASE_SECS", "120")];
    let mut herald = Process::start(&app, &[], &env).await;
    let slow_one = herald.ingest(&key, "invoice.closed", 1).await;
    let stuck_one = herald.ingest(&key, "customer.created", 2).await;
    eventually("both receivers are being sent to", || slow.received().len() == 1 && stuck.received().len() == 1).await;
    // Both slots are busy: this one waits, unclaimed.
    let waiting = herald.ingest(&key, "invoice.closed", 3).await;
    let in_flight = Row { status: "pending".into(), attempts: 0, due: true, leased: true };
    assert_eq!(delivery_of(&app, &slow_one).await, in_flight, "the slow delivery is still in flight at SIGTERM");
    assert_eq!(delivery_of(&app, &stuck_one).await, in_flight);

    herald.terminate();
    let status = herald.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status:?}; log:\n{}", herald.log_text());

    // The delivery in flight was finished and recorded.
    let succeeded = Row { status: "succeeded".into(), attempts: 1, due: false, leased: false };
    assert_eq!(delivery_of(&app, &slow_one).await, succeeded);
    // Nothing new was claimed after SIGTERM, though a slot came free.
    assert_eq!(slow.received().len(), 1, "the waiting delivery was not sent");
    let due_now = Row { status: "pending".into(), attempts: 0, due: true, leased: false };
    assert_eq!(delivery_of(&app, &waiting).await, due_now);
    // The one still unanswered after the grace period was handed back: due now, no lease, no
    // attempt counted against it.
    assert_eq!(delivery_of(&app, &stuck_one).await, due_now);

    // So the next worker takes both at once, not after the two-minute lease.
    stuck.answer(Answer::Status(200));
    let _next = Process::start(&app, &[], &env).await;
    eventually("the handed-back and the waiting deliveries are sent", || stuck.received().len() == 2 && slow.received().len() == 2).await;
}

async fn sigterm_stops_serving_a_request_still_open_after_the_grace(app: TestApp) {
    let stuck = Sink::start().await;
    stuck.answer(Answer::Hang);
    let (_, key) = tenant_with_key(&app, "Lotus", Plan::Enterprise, PrivateUrls::Allowed).await;
    let endpoint_id = add_endpoint(&app, &key, json!({ "name": "Stuck", "url": stuck.url, "event_types": ["invoice.closed"] })).await;

    // A test event waits for its receiver's answer, here for up to a minute; the grace is 1 s.
    let env = [("HERALD_DELIVERY_TIMEOUT_SECS", "60"), ("HERALD_SHUTDOWN_GRACE_SECS", "1"), ("RUST_LOG", "warn")];
    let mut herald = Process::start(&app, &[], &env).await;
    let request = plain_client()
        .post(format!("{}/api/v1/endpoints/{endpoint_id}/test", herald.base))
        .bearer_auth(&key)
        .json(&json!({ "event_type": "invoice.closed" }))
        .send();
    let open = tokio::spawn(request);
    eventually("the test event reaches the receiver that never answers", || stuck.received().len() == 1).await;
    assert!(!open.is_finished(), "the test event's request is still open at SIGTERM");

    herald.terminate();
    // Well before the minute the receiver could take: the request does not hold up the stop.
    let status = herald.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status:?}; log:\n{}", herald.log_text());
    assert!(herald.log_text().contains("requests still open after the shutdown grace"), "log:\n{}", herald.log_text());
    let answer = tokio::time::timeout(Duration::from_secs(5), open).await.expect("the open request ends with the process");
    assert!(answer.unwrap().is_err(), "the request was cut off, not answered");
}

// ---- JSON logs ------------------------------------------------------------------------------

async fn json_logs_carry_each_request_id(app: TestApp) {
    // A format Herald does not know stops it at once, saying which ones it knows.
    let refused = herald_cli(&app).env("HERALD_LOG_FORMAT", "xml").arg("migrate").output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("it can be json or text"), "{refused:?}");

    let env = [("HERALD_LOG_FORMAT", "json"), ("RUST_LOG", "warn,server::ops=debug")];
    let mut herald = Process::start(&app, &[], &env).await;
    let url = format!("{}/healthz", herald.base);

    // The caller's request id is kept and echoed; a missing or unusable one is replaced.
    let (status, headers, _) = get(&url, &[("x-request-id", "lb-7f3a-0001")]).await;
    assert_eq!((status, headers["x-request-id"].to_str().unwrap()), (200, "lb-7f3a-0001"));
    let (_, headers, _) = get(&url, &[]).await;
    let generated = headers["x-request-id"].to_str().unwrap().to_string();
    assert!(generated.starts_with("req_") && generated.len() > 10, "{generated}");
    let (_, headers, _) = get(&url, &[("x-request-id", "two words\"}")]).await;
    let replaced = headers["x-request-id"].to_str().unwrap().to_string();
    assert!(replaced.starts_with("req_"), "{replaced}");

    herald.terminate();
    assert!(herald.exit_within(Duration::from_secs(20)).await.success());
    let log = herald.log_text();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("a log line that is not JSON: {l}")))
        .collect();
    for id in ["lb-7f3a-0001", generated.as_str(), replaced.as_str()] {
        let line = lines.iter().find(|l| l["span"]["request_id"] == id).unwrap_or_else(|| panic!("no line for {id} in:\n{log}"));
        assert_eq!((line["message"].as_str(), line["status"].as_u64()), (Some("request finished"), Some(200)), "{line}");
        assert_eq!((line["span"]["method"].as_str(), line["span"]["path"].as_str()), (Some("GET"), Some("/healthz")), "{line}");
        assert!(line["timestamp"].is_string() && line["level"] == "DEBUG", "{line}");
    }
}
