//! `herald bench`: the delivery engine's figures on this machine, for SQLite and PostgreSQL.
//! Herald, a loopback sink and the load generator all run in this one process (so the peak
//! RSS printed includes all three).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::clock::SystemClock;
use domain::delivery::worker::Worker;
use domain::tenants::Plan;
use serde_json::json;

use crate::Config;

pub struct Options {
    pub events: usize,
    pub clients: usize,
    pub rate: usize,
    pub seconds: u64,
    pub postgres_url: String,
    /// Fail when a figure misses its target.
    pub check: bool,
}

/// Issue 13's targets for one backend: ingest and drain (per second, at least) and the p99
/// ingest→delivery latency at the fixed rate (ms, at most).
struct Targets {
    ingest: f64,
    drain: f64,
    p99_ms: f64,
}

fn targets(label: &str) -> Targets {
    match label {
        "SQLite" => Targets { ingest: 5_000.0, drain: 7_500.0, p99_ms: 20.0 },
        _ => Targets { ingest: 4_000.0, drain: 7_500.0, p99_ms: 50.0 },
    }
}

/// "PASS" or "MISS" (counted in `misses`).
fn verdict(met: bool, misses: &mut usize) -> &'static str {
    if met {
        "PASS"
    } else {
        *misses += 1;
        "MISS"
    }
}

/// Receive times by message id.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn start_sink(arrivals: Arrivals) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
    let url = format!("http://{}/hook", listener.local_addr().expect("sink address"));
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let arrivals = arrivals.clone();
        async move {
            if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                arrivals.lock().unwrap_or_else(|p| p.into_inner()).entry(id.to_string()).or_insert_with(Instant::now);
            }
            axum::http::StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn run(options: Options) -> Result<(), String> {
    println!("Herald benchmark — {} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    println!(
        "ingest: {} events of 1 KiB, {} concurrent clients, one subscribed endpoint; latency at {} events/s for {} s\n",
        options.events, options.clients, options.rate, options.seconds
    );
    let dir = std::env::temp_dir().join(format!("herald-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}", dir.join("bench.db").display());
    let mut misses = run_backend("SQLite", &sqlite, &dir, &options).await?;
    match create_postgres_db(&options.postgres_url, "herald_bench").await {
        Ok((url, name)) => {
            let result = run_backend("PostgreSQL", &url, &dir, &options).await;
            drop_postgres_db(&options.postgres_url, &name).await;
            misses += result?;
        }
        Err(e) => println!("PostgreSQL: skipped ({e})"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Not held against the < 100 MiB target: the sink and the load generator share this process.
    println!("peak RSS of the process (Herald + sink + load generator): {:.1} MiB", peak_rss_mib());
    match misses {
        0 => println!("every figure met its target"),
        n => println!("{n} figure(s) missed their targets"),
    }
    if options.check && misses > 0 {
        return Err(format!("{misses} figure(s) missed their targets"));
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A fresh database `<prefix>_<pid>` next to the admin one (drop it afterwards): its URL and name.
pub(crate) async fn create_postgres_db(admin_url: &str, prefix: &str) -> Result<(String, String), String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await.map_err(|e| format!("unreachable at {admin_url}: {e}"))?;
    let name = format!("{prefix}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.map_err(|e| e.to_string())?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.map_err(|e| e.to_string())?;
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
    Ok((format!("{base}/{name}"), name))
}

pub(crate) async fn drop_postgres_db(admin_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
    }
}

/// Herald on `database_url` with the system clock, its data directory (key, outbox) in `dir`;
/// and the configuration it was opened with.
pub(crate) async fn open_herald(database_url: &str, dir: &std::path::Path) -> Result<(domain::Herald, Config), String> {
    let mut config = Config::from_env()?;
    config.database_url = database_url.to_string();
    config.data_dir = dir.to_path_buf();
    let herald = crate::open(&mut config, Arc::new(SystemClock)).await?;
    Ok((herald, config))
}

/// Runs the three measurements on one database, prints them against their targets, and returns
/// how many missed.
async fn run_backend(label: &str, database_url: &str, dir: &std::path::Path, o: &Options) -> Result<usize, String> {
    let (herald, config) = open_herald(database_url, dir).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    // Served on plain http at this address: cookies without `Secure`.
    let mut web = config.clone();
    web.public_url = base.clone();
    let router = crate::router(herald.clone(), &web);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut web_stop = stop_rx.clone();
    tokio::spawn(crate::serve(listener, router, async move {
        let _ = web_stop.wait_for(|s| *s).await;
    }));

    let describe = |e: domain::Error| format!("{e:?}");
    let tenant_id = herald
        .create_tenant(
            &domain::Actor::system("bench"),
            "Bench Spa",
            Plan::Enterprise,
            &format!("bench-{}@herald.example", label.to_lowercase()),
            Some("bench password 1"),
            true,
        )
        .await
        .map_err(describe)?;
    let (_, key) = herald.create_api_key(&domain::Actor::system("bench").in_tenant(&tenant_id), "bench").await.map_err(describe)?;
    let arrivals: Arrivals = Arc::default();
    let sink = start_sink(arrivals.clone()).await;
    let actor = domain::Actor { tenant: Some((tenant_id.clone(), domain::Role::Owner)), ..domain::Actor::user("bench", "bench") };
    let input = domain::endpoints::EndpointInput {
        name: Some("Sink".into()),
        url: Some(sink),
        event_types: Some(vec!["invoice.closed".into()]),
        ..Default::default()
    };
    herald.create_endpoint(&actor, input).await.map_err(describe)?;

    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().map_err(|e| e.to_string())?;
    let filler = "x".repeat(1024 - 60);
    let event = move |n: usize, sent_at: u128| json!({ "event_type": "invoice.closed", "data": { "n": n, "sent_at_us": sent_at.to_string(), "note": filler } });

    // 1. Ingest alone (no worker running).
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..o.clients {
        let (client, next, key, base, event, total) = (client.clone(), next.clone(), key.clone(), base.clone(), event.clone(), o.events);
        clients.spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), String>(());
                }
                let r = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&key)
                    .json(&event(n, 0))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if r.status() != 202 {
                    return Err(format!("ingest answered {}", r.status()));
                }
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let ingest_rate = o.events as f64 / started.elapsed().as_secs_f64();

    // 2. Deliver the backlog.
    let started = Instant::now();
    let worker = tokio::spawn(Worker::new(herald.clone()).run(stop_rx.clone()));
    while arrivals.lock().unwrap_or_else(|p| p.into_inner()).len() < o.events {
        if started.elapsed() > Duration::from_secs(600) {
            return Err("deliveries did not finish within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivery_rate = o.events as f64 / started.elapsed().as_secs_f64();

    // 3. Latency at a fixed rate, worker running.
    arrivals.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let total = o.rate * o.seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / o.rate as f64);
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sends = tokio::task::JoinSet::new();
    let start = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let (client, key, base, event, sent) = (client.clone(), key.clone(), base.clone(), event.clone(), sent.clone());
        // Latency runs from when the event was due to be sent, so a slow ingest counts too.
        let at = start + interval * n as u32;
        sends.spawn(async move {
            if let Ok(r) = client.post(format!("{base}/api/v1/events")).bearer_auth(&key).json(&event(n, 0)).send().await {
                if let Ok(body) = r.json::<serde_json::Value>().await {
                    if let Some(id) = body["id"].as_str() {
                        sent.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), at);
                    }
                }
            }
        });
    }
    while sends.join_next().await.is_some() {}
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap_or_else(|p| p.into_inner()).len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // An event not delivered by the deadline counts as infinitely late, not as left out.
    let mut latencies: Vec<f64> = {
        let sent = sent.lock().unwrap_or_else(|p| p.into_inner());
        let arrivals = arrivals.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<f64> = sent
            .iter()
            .map(|(id, at)| arrivals.get(id).map_or(f64::INFINITY, |got| got.duration_since(*at).as_secs_f64() * 1000.0))
            .collect();
        all.resize(total, f64::INFINITY); // events whose ingest failed
        all
    };
    let delivered = latencies.iter().filter(|l| l.is_finite()).count();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let _ = stop_tx.send(true);
    let _ = worker.await;
    herald.store.close().await;

    let target = targets(label);
    let p99 = percentile(&latencies, 0.99);
    let mut misses = 0;
    println!("{label}");
    let ingest_ok = verdict(ingest_rate >= target.ingest, &mut misses);
    println!("  ingest                      {ingest_rate:>9.0} events/s        target ≥ {:.0}   {ingest_ok}", target.ingest);
    let drain_ok = verdict(delivery_rate >= target.drain, &mut misses);
    println!("  delivery (backlog drain)    {delivery_rate:>9.0} deliveries/s    target ≥ {:.0}   {drain_ok}", target.drain);
    let p99_ok = verdict(p99 < target.p99_ms, &mut misses);
    println!(
        "  ingest→delivery at {}/s     p50 {:.1} ms, p99 {:.1} ms ({} of {} delivered in time; the rest count as late)   target p99 < {:.0} ms   {p99_ok}\n",
        o.rate,
        percentile(&latencies, 0.5),
        p99,
        delivered,
        total,
        target.p99_ms
    );
    Ok(misses)
}
