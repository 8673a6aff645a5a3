//! `herald bench`: issue 13's figures for SQLite and PostgreSQL, measured the way a user meets
//! them. Herald runs alone in its own processes (`herald serve`, started from this binary, so
//! its peak RSS is Herald's own); this process is the load generator and the sink. Everything
//! goes through HTTP. The sink reads every body, verifies every signature and counts
//! duplicates; latency runs from each event's scheduled send time, and an event not delivered
//! by the deadline counts as infinitely late.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use domain::clock::SystemClock;
use domain::tenants::Plan;

use crate::Config;

pub struct Options {
    /// Events per burst (ingest, end to end, backlog drains).
    pub events: usize,
    pub clients: usize,
    /// Events per second for the latency runs.
    pub rate: usize,
    pub seconds: u64,
    pub postgres_url: String,
    /// Fail when a figure misses its target.
    pub check: bool,
    /// The runs to make (names from [`RUNS`]); empty: all of them.
    pub only: Vec<String>,
    pub sqlite: bool,
    pub postgres: bool,
}

/// The runs, by name, in the order they are made.
pub const RUNS: [&str; 8] = ["ingest", "two-workers", "end-to-end", "mixed", "latency", "split", "slow", "fan-out"];

impl Options {
    fn wants(&self, run: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|r| r == run)
    }
}

/// Events per second and seconds of the mixed run (issue 13: 1,500/s for 30 s).
const MIXED_RATE: usize = 1_500;
const MIXED_SECONDS: u64 = 30;
/// Paced senders keep at most this many requests open; later ones wait (and their latency,
/// counted from the scheduled time, shows it).
const MAX_OPEN_REQUESTS: usize = 256;
/// How long a run waits for the next delivery before counting the rest as undelivered.
const STRAGGLER_WAIT: Duration = Duration::from_secs(30);

/// Issue 13's targets for one backend.
struct Targets {
    ingest: f64,
    delivered: f64,
    p99_ms: f64,
}

fn targets(postgres: bool) -> Targets {
    if postgres {
        Targets { ingest: 4_000.0, delivered: 7_500.0, p99_ms: 50.0 }
    } else {
        Targets { ingest: 5_000.0, delivered: 7_500.0, p99_ms: 20.0 }
    }
}

pub async fn run(options: Options) -> Result<(), String> {
    println!("Herald benchmark — {} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    println!(
        "Herald runs in its own processes; this one sends the load and is the sink (every body read, every signature checked).\n\
         bursts: {} events of 1 KiB from {} clients; latency: {} events/s for {} s, from each event's scheduled send time\n",
        options.events, options.clients, options.rate, options.seconds
    );
    let sink = Sink::start().await?;
    let dir = std::env::temp_dir().join(format!("herald-bench-{}", std::process::id()));
    let mut misses = 0;
    if options.sqlite {
        let sqlite = Backend { label: "SQLite", postgres_admin: None, dir: dir.join("sqlite") };
        misses += sqlite.run(&options, &sink).await?;
    }
    if options.postgres {
        match create_postgres_db(&options.postgres_url, "herald_bench_probe").await {
            Ok((_, probe)) => {
                drop_postgres_db(&options.postgres_url, &probe).await;
                let postgres =
                    Backend { label: "PostgreSQL", postgres_admin: Some(options.postgres_url.clone()), dir: dir.join("postgres") };
                misses += postgres.run(&options, &sink).await?;
            }
            Err(e) => println!("PostgreSQL: skipped ({e})"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    match misses {
        0 => println!("every figure met its target"),
        n => println!("{n} figure(s) missed their targets"),
    }
    if options.check && misses > 0 {
        return Err(format!("{misses} figure(s) missed their targets"));
    }
    Ok(())
}

/// Prints one figure against its target; counts a miss.
struct Report {
    misses: usize,
}

impl Report {
    fn line(&mut self, what: &str, figure: String, target: &str, met: Option<bool>) {
        let verdict = match met {
            Some(true) => "PASS",
            Some(false) => {
                self.misses += 1;
                "MISS"
            }
            None => "",
        };
        println!("  {what:<40} {figure:<44} {target:<26} {verdict}");
    }
}

struct Backend {
    label: &'static str,
    /// The admin URL on PostgreSQL (each run gets a fresh database beside it); `None`: SQLite.
    postgres_admin: Option<String>,
    dir: PathBuf,
}

impl Backend {
    async fn run(&self, o: &Options, sink: &Sink) -> Result<usize, String> {
        println!("{}", self.label);
        let t = targets(self.postgres_admin.is_some());
        let mut report = Report { misses: 0 };
        let mut peak_rss = 0;

        let mut one_worker = None;
        // Ingest alone (a web process), then its backlog drained by one worker process.
        if o.wants("ingest") {
            let mut site = self.site("ingest", 1, &[Route::FAST], sink).await?;
            site.start("web")?;
            let cpu = CpuUse::now(&site);
            let (accepted, took) = burst(&site, o.events, o.clients).await?;
            let ingest = accepted as f64 / took.as_secs_f64();
            report.line(
                &format!("ingest, {} clients, 1 KiB", o.clients),
                format!("{ingest:.0} events/s ({} refused)", o.events - accepted),
                &format!("≥ {:.0}/s", t.ingest),
                Some(ingest >= t.ingest && accepted == o.events),
            );
            report.line("  CPU per event", cpu.per_item(&site, accepted), "", None);
            let cpu = CpuUse::now(&site);
            let drained = site.drain(1, accepted, sink).await?;
            report.line("backlog drain, 1 worker process", format!("{drained:.0} deliveries/s"), "", None);
            report.line("  CPU per delivery", cpu.per_item(&site, sink.count()), "", None);
            one_worker = Some(drained);
            peak_rss = peak_rss.max(site.stop().await);
        }

        // The same backlog drained by two worker processes.
        if o.wants("two-workers") {
            let mut site = self.site("two-workers", 1, &[Route::FAST], sink).await?;
            site.start("web")?;
            let (accepted, _) = burst(&site, o.events, o.clients).await?;
            let two_workers = site.drain(2, accepted, sink).await?;
            report.line(
                "backlog drain, 2 worker processes",
                match one_worker {
                    Some(one) => format!("{two_workers:.0} deliveries/s ({:.2}× one)", two_workers / one),
                    None => format!("{two_workers:.0} deliveries/s"),
                },
                "report the ratio",
                None,
            );
            peak_rss = peak_rss.max(site.stop().await);
        }

        // End to end: one process takes the burst in and delivers it to one fast endpoint.
        if o.wants("end-to-end") {
            let mut site = self.site("end-to-end", 1, &[Route::FAST], sink).await?;
            site.start("all")?;
            let started = Instant::now();
            let cpu = CpuUse::now(&site);
            let (accepted, _) = burst(&site, o.events, o.clients).await?;
            let done = sink.wait_for(accepted, STRAGGLER_WAIT).await;
            let seconds = done.duration_since(started).as_secs_f64();
            let rate = sink.count() as f64 / seconds;
            report.line(
                "delivered end to end, one fast endpoint",
                format!("{rate:.0} deliveries/s"),
                &format!("≥ {:.0}/s", t.delivered),
                Some(rate >= t.delivered && sink.count() == accepted),
            );
            report.line("  CPU per event, ingest and delivery", cpu.per_item(&site, sink.count()), "", None);
            for (writer, held, turns) in site.sqlite_write_turns().await {
                report.line(
                    &format!("  SQLite write turn: {writer}"),
                    format!(
                        "{:.0} % of the run, {:.0}/s, {:.2} ms each",
                        100.0 * held / seconds,
                        turns / seconds,
                        1000.0 * held / turns.max(1.0)
                    ),
                    "",
                    None,
                );
            }
            peak_rss = peak_rss.max(site.stop().await);
        }

        // Mixed: a steady 1,500/s for 30 s into one process that delivers meanwhile.
        if o.wants("mixed") {
            let mut site = self.site("mixed", 1, &[Route::FAST], sink).await?;
            site.start("all")?;
            let lat = paced(&site, sink, MIXED_RATE, MIXED_SECONDS).await?;
            report.line(
                &format!("mixed: {MIXED_RATE}/s for {MIXED_SECONDS} s"),
                format!("backlog {:.2} s, p99 {}", lat.backlog.as_secs_f64(), ms(lat.p99)),
                "backlog < 1 s, p99 < 100 ms",
                Some(lat.backlog < Duration::from_secs(1) && lat.p99 < 100.0),
            );
            peak_rss = peak_rss.max(site.stop().await);
        }

        // Latency at a fixed rate, one process; then with web and worker as separate processes
        // (a PostgreSQL deployment).
        let layouts: [(&str, &[&str], &str, bool); 2] =
            [("latency", &["all"], "one process", false), ("split", &["web", "worker"], "web + worker", true)];
        for (run, roles, layout, postgres_only) in layouts {
            if !o.wants(run) || (postgres_only && self.postgres_admin.is_none()) {
                continue;
            }
            let mut site = self.site(run, 1, &[Route::FAST], sink).await?;
            for role in roles {
                site.start(role)?;
            }
            let lat = paced(&site, sink, o.rate, o.seconds).await?;
            report.line(
                &format!("ingest→delivery at {}/s, {layout}", o.rate),
                lat.describe(),
                &format!("p99 < {:.0} ms", t.p99_ms),
                Some(lat.p99 < t.p99_ms),
            );
            peak_rss = peak_rss.max(site.stop().await);
        }

        // One endpoint that takes 50 ms to answer.
        if o.wants("slow") {
            let mut site = self.site("slow", 1, &[Route::SLOW], sink).await?;
            site.start("all")?;
            let events = o.events.min(5_000);
            let started = Instant::now();
            let (accepted, _) = burst(&site, events, o.clients).await?;
            let done = sink.wait_for(accepted, STRAGGLER_WAIT).await;
            let rate = sink.count() as f64 / done.duration_since(started).as_secs_f64();
            report.line(
                "one endpoint answering in 50 ms",
                format!("{rate:.0} deliveries/s"),
                "≥ 500/s",
                Some(rate >= 500.0 && sink.count() == accepted),
            );
            peak_rss = peak_rss.max(site.stop().await);
        }

        // 1,000 endpoints: 100 tenants with 10 each; every event fans out to its tenant's 10.
        if o.wants("fan-out") {
            let routes: Vec<Route> = (0..10).map(|i| Route { path: ENDPOINT_PATHS[i], delay: Duration::ZERO }).collect();
            let mut site = self.site("fan-out", 100, &routes, sink).await?;
            site.start("all")?;
            let events = (o.events / 10).max(100);
            let started = Instant::now();
            let cpu = CpuUse::now(&site);
            let (accepted, _) = burst(&site, events, o.clients).await?;
            let expected = accepted * routes.len();
            let done = sink.wait_for(expected, STRAGGLER_WAIT).await;
            let rate = sink.count() as f64 / done.duration_since(started).as_secs_f64();
            report.line(
                "1,000 endpoints across 100 tenants",
                format!("{rate:.0} deliveries/s ({} of {expected})", sink.count()),
                "≥ 3,000/s",
                Some(rate >= 3_000.0 && sink.count() == expected),
            );
            report.line("  CPU per delivery, ingest included", cpu.per_item(&site, sink.count()), "", None);
            peak_rss = peak_rss.max(site.stop().await);
        }

        report.line(
            "peak RSS of a Herald process",
            format!("{:.1} MiB", peak_rss as f64 / 1024.0),
            "< 100 MiB",
            Some((peak_rss as f64) < 100.0 * 1024.0),
        );
        let (duplicates, bad) = sink.totals();
        report.line(
            "sink: duplicates, bad signatures",
            format!("{duplicates} duplicates, {bad} bad signatures"),
            "none",
            Some(duplicates == 0 && bad == 0),
        );
        println!();
        Ok(report.misses)
    }

    /// A fresh database with `tenants` enterprise tenants, each with an API key and one endpoint
    /// per route (set up through the domain, before any Herald process starts).
    async fn site(&self, name: &str, tenants: usize, routes: &[Route], sink: &Sink) -> Result<Site, String> {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let (database_url, postgres_db) = match &self.postgres_admin {
            Some(admin) => {
                let (url, db) = create_postgres_db(admin, &format!("herald_bench_{}", name.replace('-', "_"))).await?;
                (url, Some(db))
            }
            None => (format!("sqlite://{}", dir.join("herald.db").display()), None),
        };
        let (herald, _) = open_herald(&database_url, &dir).await?;
        let describe = |e: domain::Error| format!("{e:?}");
        let system = domain::Actor::system("bench");
        let mut keys = Vec::new();
        let mut secrets = HashMap::new();
        for t in 0..tenants {
            // One owner for all: only the first tenant hashes a password.
            let tenant_id = herald
                .create_tenant(&system, &format!("Bench Spa {t}"), Plan::Enterprise, "bench@herald.example", Some("bench password 1"), true)
                .await
                .map_err(describe)?;
            let (_, key) = herald.create_api_key(&system.clone().in_tenant(&tenant_id), "bench").await.map_err(describe)?;
            let owner = domain::Actor { tenant: Some((tenant_id.clone(), domain::Role::Owner)), ..domain::Actor::user("bench", "bench") };
            for route in routes {
                let input = domain::endpoints::EndpointInput {
                    name: Some(route.path.trim_start_matches('/').into()),
                    url: Some(format!("{}{}/{tenant_id}", sink.base, route.path)),
                    event_types: Some(vec!["invoice.closed".into()]),
                    ..Default::default()
                };
                let endpoint = herald.create_endpoint(&owner, input).await.map_err(describe)?;
                let secret = herald.endpoint_secret(&owner, &endpoint.id).await.map_err(describe)?;
                secrets.insert(format!("{}/{tenant_id}", route.path), (secret, route.delay));
            }
            keys.push(key);
        }
        herald.store.close().await;
        sink.reset(secrets);
        Ok(Site {
            dir,
            database_url,
            postgres: postgres_db.zip(self.postgres_admin.clone()),
            keys,
            processes: Vec::new(),
            base: String::new(),
        })
    }
}

/// A receiving path on the sink and how long it takes to answer.
#[derive(Clone, Copy)]
struct Route {
    path: &'static str,
    delay: Duration,
}

impl Route {
    const FAST: Route = Route { path: "/fast", delay: Duration::ZERO };
    const SLOW: Route = Route { path: "/slow", delay: Duration::from_millis(50) };
}

const ENDPOINT_PATHS: [&str; 10] = ["/e0", "/e1", "/e2", "/e3", "/e4", "/e5", "/e6", "/e7", "/e8", "/e9"];

/// One measured database and the Herald processes serving it.
pub(crate) struct Site {
    dir: PathBuf,
    database_url: String,
    /// On PostgreSQL: the database's name and the admin URL to drop it with.
    postgres: Option<(String, String)>,
    /// One API key per tenant.
    pub keys: Vec<String>,
    processes: Vec<Child>,
    /// Where the web process listens.
    pub base: String,
}

impl Site {
    /// A database set up by the caller (with one tenant's API key), and no process yet. `stop`
    /// removes `dir` but leaves the database itself to the caller.
    pub(crate) fn alone(dir: &Path, database_url: &str, key: String) -> Site {
        let (dir, database_url) = (dir.to_path_buf(), database_url.to_string());
        Site { dir, database_url, postgres: None, keys: vec![key], processes: Vec::new(), base: String::new() }
    }

    /// Starts `herald serve --role <role>` on this site's database and waits until it answers.
    pub(crate) fn start(&mut self, role: &str) -> Result<(), String> {
        let port = free_port()?;
        let log = std::fs::File::create(self.dir.join(format!("{role}-{}.log", self.processes.len()))).map_err(|e| e.to_string())?;
        let child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .args(["serve", "--role", role, "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &self.database_url)
            .env("HERALD_DATA_DIR", &self.dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start herald serve: {e}"))?;
        self.processes.push(child);
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("herald serve --role {role} did not start; see {}", self.dir.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if role != "worker" {
            self.base = url;
        }
        Ok(())
    }

    /// On SQLite, for each writer, the seconds this site's web process held its write turn so
    /// far and how many turns (from its `/metrics`); nothing on PostgreSQL.
    async fn sqlite_write_turns(&self) -> Vec<(String, f64, f64)> {
        let Ok(text) = async { reqwest::get(format!("{}/metrics", self.base)).await?.text().await }.await else { return Vec::new() };
        let prefix = domain::telemetry::SQLITE_WRITE_TURN_SECONDS;
        // `<prefix>_sum{writer="ingest"} 1.25`, then `_count` likewise.
        let parse = |suffix: &str| -> HashMap<String, f64> {
            let start = format!("{prefix}_{suffix}{{writer=\"");
            text.lines()
                .filter_map(|line| {
                    let (writer, value) = line.strip_prefix(&start)?.split_once("\"}")?;
                    Some((writer.to_string(), value.trim().parse().ok()?))
                })
                .collect()
        };
        let (sums, counts) = (parse("sum"), parse("count"));
        let mut turns: Vec<(String, f64, f64)> =
            sums.into_iter().map(|(writer, held)| (writer.clone(), held, counts.get(&writer).copied().unwrap_or(0.0))).collect();
        turns.sort_by(|a, b| a.0.cmp(&b.0));
        turns
    }

    /// Starts `workers` worker processes and times how long they take to deliver `expected`.
    async fn drain(&mut self, workers: usize, expected: usize, sink: &Sink) -> Result<f64, String> {
        let started = Instant::now();
        for _ in 0..workers {
            self.start("worker")?;
        }
        let done = sink.wait_for(expected, STRAGGLER_WAIT).await;
        Ok(sink.count() as f64 / done.duration_since(started).as_secs_f64())
    }

    /// Stops every process (after reading its peak RSS), drops the database; the largest peak
    /// RSS in KiB.
    pub(crate) async fn stop(mut self) -> u64 {
        let peak = self.processes.iter().map(|p| peak_rss_kib(p.id())).max().unwrap_or(0);
        for p in &mut self.processes {
            let _ = p.kill();
            let _ = p.wait();
        }
        if let Some((db, admin)) = self.postgres.take() {
            drop_postgres_db(&admin, &db).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        peak
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux whatever the kernel's HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user and system) used so far by process `pid`, or by this one (`"self"`).
fn cpu_seconds(pid: &str) -> f64 {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// User and system CPU seconds from a `/proc/<pid>/stat` line.
fn stat_cpu_seconds(stat: &str) -> f64 {
    // The command name, in parentheses, may hold spaces and parentheses: fields are counted
    // after its last `)`, where the state is field 3, and utime and stime are fields 14 and 15.
    let Some((_, fields)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum::<f64>() / TICKS_PER_SECOND
}

/// CPU seconds used so far by the machine's PostgreSQL processes (the server, its backends
/// and its background writers; the machine is assumed to run nothing else on it).
fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .map(|pid| cpu_seconds(&pid))
        .sum()
}

/// Where the machine's CPU went during a run: Herald's processes, PostgreSQL's (none on
/// SQLite, which runs inside Herald), and this process (the load and the sink).
struct CpuUse {
    herald: f64,
    database: Option<f64>,
    bench: f64,
    at: Instant,
}

impl CpuUse {
    fn now(site: &Site) -> CpuUse {
        CpuUse {
            herald: site.processes.iter().map(|p| cpu_seconds(&p.id().to_string())).sum(),
            database: site.postgres.is_some().then(postgres_cpu_seconds),
            bench: cpu_seconds("self"),
            at: Instant::now(),
        }
    }

    /// CPU per item (event or delivery) of each party since `self`, and how many cores were busy
    /// on average.
    fn per_item(&self, site: &Site, items: usize) -> String {
        let end = CpuUse::now(site);
        let per = |seconds: f64| format!("{:.0} µs", 1e6 * seconds / items.max(1) as f64);
        let herald = end.herald - self.herald;
        let database = end.database.zip(self.database).map(|(end, start)| end - start);
        let bench = end.bench - self.bench;
        let busy = (herald + database.unwrap_or(0.0) + bench) / end.at.duration_since(self.at).as_secs_f64();
        let database = database.map(|d| format!("PostgreSQL {}, ", per(d))).unwrap_or_default();
        format!("Herald {}, {database}bench {}; {busy:.1} cores busy", per(herald), per(bench))
    }
}

fn event_body() -> Bytes {
    let filler = "x".repeat(1024 - 60);
    Bytes::from(serde_json::json!({ "event_type": "invoice.closed", "data": { "note": filler } }).to_string())
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder().pool_max_idle_per_host(MAX_OPEN_REQUESTS).build().map_err(|e| e.to_string())
}

/// `total` events from `clients` concurrent clients, spread over the site's tenants: how many
/// were accepted, and how long it took.
async fn burst(site: &Site, total: usize, clients: usize) -> Result<(usize, Duration), String> {
    let client = http_client()?;
    let body = event_body();
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let keys = Arc::new(site.keys.clone());
    let url = format!("{}/api/v1/events", site.base);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (client, body, next, accepted, keys, url) =
            (client.clone(), body.clone(), next.clone(), accepted.clone(), keys.clone(), url.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return;
                }
                let sent = client
                    .post(&url)
                    .bearer_auth(&keys[n % keys.len()])
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status() == StatusCode::ACCEPTED) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok((accepted.load(Ordering::Relaxed), started.elapsed()))
}

/// Latency of a paced run, in ms from each event's scheduled send time (late events: infinite).
struct Latency {
    p50: f64,
    p99: f64,
    delivered: usize,
    scheduled: usize,
    /// From the last scheduled send until the last delivery.
    backlog: Duration,
}

impl Latency {
    fn describe(&self) -> String {
        format!("p50 {}, p99 {} ({}/{} in time)", ms(self.p50), ms(self.p99), self.delivered, self.scheduled)
    }
}

fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1} ms")
    } else {
        "∞ (undelivered)".into()
    }
}

/// `rate` events a second for `seconds` to the site's first tenant, each to one endpoint.
async fn paced(site: &Site, sink: &Sink, rate: usize, seconds: u64) -> Result<Latency, String> {
    let client = http_client()?;
    let body = event_body();
    let total = rate * seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let url = format!("{}/api/v1/events", site.base);
    let key = site.keys[0].clone();
    let scheduled: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_OPEN_REQUESTS));
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now() + Duration::from_millis(50);
    for n in 0..total {
        let at = start + interval * n as u32;
        tokio::time::sleep_until(at.into()).await;
        let Ok(permit) = open.clone().acquire_owned().await else { break };
        let (client, body, url, key, scheduled) = (client.clone(), body.clone(), url.clone(), key.clone(), scheduled.clone());
        tasks.spawn(async move {
            let sent = client.post(&url).bearer_auth(&key).header("content-type", "application/json").body(body).send().await;
            if let Ok(reply) = sent {
                if let Ok(reply) = reply.json::<serde_json::Value>().await {
                    if let Some(id) = reply["id"].as_str() {
                        lock(&scheduled).insert(id.to_string(), at);
                    }
                }
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let last_scheduled = start + interval * total.saturating_sub(1) as u32;
    let accepted = lock(&scheduled).len();
    let done = sink.wait_for(accepted, STRAGGLER_WAIT).await;
    let arrivals = sink.arrivals_by_id();
    let mut latencies: Vec<f64> = lock(&scheduled)
        .iter()
        .map(|(id, at)| arrivals.get(id).map_or(f64::INFINITY, |got| got.saturating_duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    latencies.resize(total, f64::INFINITY); // events whose ingest failed
    latencies.sort_by(|a, b| a.total_cmp(b));
    let delivered = latencies.iter().filter(|l| l.is_finite()).count();
    let backlog = if delivered == total { done.saturating_duration_since(last_scheduled) } else { Duration::MAX };
    Ok(Latency { p50: percentile(&latencies, 0.5), p99: percentile(&latencies, 0.99), delivered, scheduled: total, backlog })
}

/// The receiver: one loopback server for the whole run. It reads every body, verifies each
/// request's signature against its endpoint's secret, and notes the first arrival of each
/// (endpoint, message); a second arrival is a duplicate.
#[derive(Clone)]
struct Sink {
    base: String,
    state: Arc<SinkState>,
}

#[derive(Default)]
struct SinkState {
    /// By request path: the endpoint's signing secret and how long to take answering.
    routes: Mutex<HashMap<String, (String, Duration)>>,
    /// First arrival of each (path, webhook-id).
    arrivals: Mutex<HashMap<(String, String), Instant>>,
    duplicates: AtomicUsize,
    bad_signatures: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sink {
    async fn start() -> Result<Sink, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let state = Arc::new(SinkState::default());
        let app = axum::Router::new().fallback(receive).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Sink { base, state })
    }

    /// Forgets the arrivals (the totals of duplicates and bad signatures stay) and receives for
    /// these routes from now on.
    fn reset(&self, routes: HashMap<String, (String, Duration)>) {
        *lock(&self.state.routes) = routes;
        lock(&self.state.arrivals).clear();
    }

    fn count(&self) -> usize {
        lock(&self.state.arrivals).len()
    }

    fn totals(&self) -> (usize, usize) {
        (self.state.duplicates.load(Ordering::Relaxed), self.state.bad_signatures.load(Ordering::Relaxed))
    }

    /// First arrival by message id (one endpoint's runs).
    fn arrivals_by_id(&self) -> HashMap<String, Instant> {
        lock(&self.state.arrivals).iter().map(|((_, id), at)| (id.clone(), *at)).collect()
    }

    /// Waits until `expected` distinct deliveries arrived, or no new one came for `patience`:
    /// when the last one arrived.
    async fn wait_for(&self, expected: usize, patience: Duration) -> Instant {
        let (mut seen, mut since) = (self.count(), Instant::now());
        loop {
            {
                let arrivals = lock(&self.state.arrivals);
                if arrivals.len() >= expected || since.elapsed() > patience {
                    return arrivals.values().max().copied().unwrap_or_else(Instant::now);
                }
                if arrivals.len() != seen {
                    (seen, since) = (arrivals.len(), Instant::now());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn receive(State(state): State<Arc<SinkState>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let path = uri.path().to_string();
    let Some((secret, delay)) = lock(&state.routes).get(&path).cloned() else { return StatusCode::NOT_FOUND };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or(0);
    let expected = std::str::from_utf8(&body).ok().and_then(|body| domain::delivery::sign::sign(&secret, &id, timestamp, body).ok());
    if !expected.is_some_and(|e| header("webhook-signature").split(' ').any(|s| s == e)) {
        state.bad_signatures.fetch_add(1, Ordering::Relaxed);
    }
    match lock(&state.arrivals).entry((path, id)) {
        std::collections::hash_map::Entry::Occupied(_) => {
            state.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(now);
        }
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::NO_CONTENT
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
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
pub(crate) async fn open_herald(database_url: &str, dir: &Path) -> Result<(domain::Herald, Config), String> {
    // The key for secrets at rest, kept in `dir` for the `herald serve` processes started there.
    let key = dir.join("secret.key");
    if !key.exists() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(&key, domain::ids::random_string(48)).map_err(|e| e.to_string())?;
    }
    let mut config = Config::from_env()?;
    config.database_url = database_url.to_string();
    config.data_dir = dir.to_path_buf();
    let herald = crate::open(&mut config, Arc::new(SystemClock)).await?;
    Ok((herald, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        // utime 250 and stime 75 ticks: fields 14 and 15.
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 3 1 20 0 4 0 1000 9000 300";
        assert_eq!(stat_cpu_seconds(stat), 3.25);
        assert_eq!(stat_cpu_seconds("garbled"), 0.0, "an unreadable line counts nothing rather than failing the run");
    }
}
