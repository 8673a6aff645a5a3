//! `herald bench logs`: how fast the delivery log and the endpoint stats answer at scale, on
//! SQLite and PostgreSQL. Seeds ~1,000,000 deliveries of one tenant over 30 days (with bulk SQL,
//! not through the engine, which would take hours), then times the API as a user meets it: a
//! `herald serve` process of its own, asked over HTTP with an API key for the first log page, a
//! deep page, filtered pages and the 30-day stats.

use std::collections::HashMap;
use std::future::Future;
use std::time::Instant;
use types::{DeliveryKind, DeliveryStatus};

use domain::clock::{Millis, DAY, HOUR};
use domain::stats::LATENCY_BOUNDS_MS;
use domain::store::Store;
use domain::tenants::Plan;

use crate::bench::{create_postgres_db, drop_postgres_db, open_herald, percentile, Site};
use domain::clock::rfc3339;
use serde_json::Value;

pub struct Options {
    /// Deliveries of the measured tenant (a second tenant gets 5% more on top).
    pub deliveries: u64,
    /// Timed runs per query (after one warm-up run).
    pub repeats: usize,
    pub postgres_url: String,
}

const TARGET_MS: f64 = 50.0;
const ENDPOINTS: usize = 10;
const EVENT_TYPES: usize = 20;
/// Pages walked with `next_cursor` before the deep page is timed.
const DEEP_PAGES: usize = 500;
/// Rows per multi-row INSERT, and INSERTs per transaction.
const ROWS_PER_INSERT: usize = 500;
/// (Kept small enough that a transaction stays under sqlx's 1 s slow-statement warning, which
/// would log the whole SQL text.)
const INSERTS_PER_TX: usize = 10;

struct Figure {
    backend: &'static str,
    query: String,
    median: f64,
    p95: f64,
}

pub async fn run(options: Options) -> Result<(), String> {
    println!("Herald log & stats benchmark — {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    println!(
        "{} deliveries across {ENDPOINTS} endpoints of one tenant over 30 days (+{} of a second tenant); {} timed runs per query after a warm-up\n",
        options.deliveries,
        options.deliveries / 20,
        options.repeats
    );
    let dir = std::env::temp_dir().join(format!("herald-bench-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut figures = Vec::new();
    let result = run_both(&options, &dir, &mut figures).await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;

    println!("{:<11} {:<52} {:>9} {:>9} {:>7}  result", "backend", "query", "median ms", "p95 ms", "target");
    for f in &figures {
        let verdict = if f.median < TARGET_MS && f.p95 < TARGET_MS { "PASS" } else { "MISS" };
        println!("{:<11} {:<52} {:>9.2} {:>9.2} {:>4.0} ms  {verdict}", f.backend, f.query, f.median, f.p95, TARGET_MS);
    }
    Ok(())
}

async fn run_both(options: &Options, dir: &std::path::Path, figures: &mut Vec<Figure>) -> Result<(), String> {
    let (sqlite_dir, postgres_dir) = (dir.join("sqlite"), dir.join("postgres"));
    std::fs::create_dir_all(&sqlite_dir).map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}", sqlite_dir.join("bench.db").display());
    run_backend("SQLite", &sqlite, &sqlite_dir, options, figures).await?;
    std::fs::create_dir_all(&postgres_dir).map_err(|e| e.to_string())?;
    match create_postgres_db(&options.postgres_url, "herald_bench_logs").await {
        Ok((url, name)) => {
            let result = run_backend("PostgreSQL", &url, &postgres_dir, options, figures).await;
            drop_postgres_db(&options.postgres_url, &name).await;
            result
        }
        Err(e) => {
            println!("PostgreSQL: skipped ({e})\n");
            Ok(())
        }
    }
}

async fn run_backend(
    label: &'static str,
    database_url: &str,
    dir: &std::path::Path,
    o: &Options,
    figures: &mut Vec<Figure>,
) -> Result<(), String> {
    let describe = |e: domain::Error| format!("{e:?}");
    let (herald, _) = open_herald(database_url, dir).await?;

    // Tenant A (measured) with the 10 endpoints its Enterprise plan allows, tenant B alongside
    // so that every query has to select by tenant.
    let mut endpoint_ids = Vec::new();
    let mut tenants = Vec::new();
    for (name, count) in [("Log Bench Spa", ENDPOINTS), ("Other Spa", 1)] {
        let email = format!("{}-{}@herald.example", name.to_lowercase().replace(' ', "-"), label.to_lowercase());
        let tenant_id = herald
            .create_tenant(&domain::Actor::system("bench"), name, Plan::Enterprise, &email, Some("bench password 1"), true)
            .await
            .map_err(describe)?;
        let actor = domain::Actor { tenant: Some((tenant_id.clone(), domain::Role::Owner)), ..domain::Actor::user("bench", "bench") };
        for n in 0..count {
            let input = domain::endpoints::EndpointInput {
                name: Some(format!("Endpoint {n}")),
                url: Some(format!("http://127.0.0.1:9/hook/{n}")),
                event_types: Some(vec!["*".into()]),
                ..Default::default()
            };
            endpoint_ids.push((tenant_id.clone(), herald.create_endpoint(&actor, input).await.map_err(describe)?.id));
        }
        tenants.push(tenant_id);
    }
    let event_types: Vec<&str> = {
        let all = domain::catalog::builtin();
        let step = (all.len() / EVENT_TYPES).max(1);
        all.iter().step_by(step).take(EVENT_TYPES).map(|e| e.name.as_str()).collect()
    };

    let now = herald.clock.now();
    let started = Instant::now();
    let seeded = seed(&herald.store, &endpoint_ids, &event_types, o.deliveries, now).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    // A live database has planner statistics (and PostgreSQL's autovacuum would have run).
    let started = Instant::now();
    // SQLite: also fold the seeding's WAL back into the database, as its regular checkpoints do.
    let analyze = if herald.store.is_postgres() { "VACUUM ANALYZE" } else { "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)" };
    on_store(&herald.store, analyze).await?;
    let analyze_secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: seeded {} deliveries, {} messages, {} hourly stats rows in {seed_secs:.1} s ({:.0} deliveries/s); {analyze} {analyze_secs:.1} s",
        seeded.deliveries,
        seeded.messages,
        seeded.rollup_rows,
        seeded.deliveries as f64 / seed_secs
    );
    // Measured as a user meets it: a `herald serve --role web` process of its own, asked over
    // HTTP with an API key (the process starts with fresh pooled connections and statistics).
    let key = herald.create_api_key(&domain::Actor::system("bench").in_tenant(&tenants[0]), "bench").await.map_err(describe)?.1;
    herald.store.close().await;
    let mut site = Site::alone(dir, database_url, key);
    site.start("web")?;
    let result = measure_over_http(&site, &endpoint_ids[3].1, &event_types, now, o, label, figures).await;
    site.stop().await;
    result
}

/// Times the log and stats routes of the API: each one warm-up request, then `repeats` timed.
async fn measure_over_http(
    site: &Site,
    endpoint_id: &str,
    event_types: &[&str],
    now: Millis,
    o: &Options,
    label: &'static str,
    figures: &mut Vec<Figure>,
) -> Result<(), String> {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let (client, url, key) = (client.clone(), format!("{}/api/v1{path}", site.base), site.keys[0].clone());
        move || {
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            async move {
                let reply = client.get(&url).bearer_auth(&key).send().await.map_err(|e| e.to_string())?;
                let status = reply.status();
                let body: Value = reply.json().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("GET {url} answered {status}: {body}"));
                }
                Ok(body)
            }
        }
    };
    let mut record = |query: String, mut times: Vec<f64>| {
        times.sort_by(|a, b| a.total_cmp(b));
        figures.push(Figure { backend: label, query, median: percentile(&times, 0.5), p95: percentile(&times, 0.95) });
    };
    let rows = |page: &Value| page["data"].as_array().cloned().unwrap_or_default();

    // (a) The first page, as the log opens.
    let (times, page) = measure(o.repeats, get("/deliveries".into())).await?;
    println!("  first page: {} rows", rows(&page).len());
    record("GET /deliveries: first page (50)".into(), times);

    // (b) Follow next_cursor 500 times, checking the keyset order holds across pages, then time page 501.
    let started = Instant::now();
    let (mut cursor, mut pages, mut walked, mut out_of_order) = (None::<String>, 0, 0, 0);
    let (mut last_at, mut seen) = (String::from("9999"), std::collections::HashSet::new());
    while pages < DEEP_PAGES {
        let path = cursor.as_ref().map_or("/deliveries".to_string(), |c| format!("/deliveries?cursor={}", encode(c)));
        let page = get(path)().await?;
        // Newest first (RFC 3339 UTC sorts as text), and no row twice.
        for r in rows(&page) {
            let at = r["created_at"].as_str().unwrap_or_default().to_string();
            if at > last_at || !seen.insert(r["id"].as_str().unwrap_or_default().to_string()) {
                out_of_order += 1;
            }
            last_at = at;
            walked += 1;
        }
        pages += 1;
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    let walk_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "  walk of {pages} pages ({walked} rows): {walk_ms:.0} ms in all, {:.2} ms a page; {out_of_order} rows out of order or repeated",
        walk_ms / pages as f64
    );
    match cursor {
        Some(cursor) => {
            let (times, page) = measure(o.repeats, get(format!("/deliveries?cursor={}", encode(&cursor)))).await?;
            println!("  deep page {}: {} rows", pages + 1, rows(&page).len());
            record(format!("GET /deliveries: page {} (keyset)", pages + 1), times);
        }
        None => println!("  deep page: not enough deliveries for {} pages", DEEP_PAGES + 1),
    }

    // (c) Filtered: failed deliveries of one event type over a 7-day range, and one endpoint.
    let (since, until) = (rfc3339(now - 10 * DAY), rfc3339(now - 3 * DAY));
    let event_type = event_types[event_types.len() / 2];
    let filtered =
        |event_type: &str| format!("/deliveries?status=failed&event_type={event_type}&since={}&until={}", encode(&since), encode(&until));
    let (times, page) = measure(o.repeats, get(filtered(event_type))).await?;
    let matching = rows(&page).iter().all(|r| {
        let at = r["created_at"].as_str().unwrap_or_default();
        r["status"] == "failed" && r["event_type"] == event_type && at >= since.as_str() && at < until.as_str()
    });
    println!("  filtered page (failed, {event_type}, 7 days): {} rows, all matching: {matching}", rows(&page).len());
    record("GET /deliveries: failed + event_type + 7 days".into(), times);

    // The worst case of that filter: nothing matches (an event type that was never sent), so
    // no LIMIT cuts the scan short.
    if let Some(unused) = domain::catalog::builtin().iter().map(|e| e.name.as_str()).find(|n| !event_types.contains(n)) {
        let (times, page) = measure(o.repeats, get(filtered(unused))).await?;
        println!("  filtered page (failed, {unused}, never sent, 7 days): {} rows", rows(&page).len());
        record("GET /deliveries: same, type never sent".into(), times);
    }

    let (times, page) = measure(o.repeats, get(format!("/deliveries?endpoint_id={endpoint_id}"))).await?;
    println!(
        "  endpoint page: {} rows, all of the endpoint: {}",
        rows(&page).len(),
        rows(&page).iter().all(|r| r["endpoint_id"] == endpoint_id)
    );
    record("GET /deliveries?endpoint_id=".into(), times);

    // (d) The endpoint's 30-day stats (hourly rollup plus its last delivery).
    let (times, s) = measure(o.repeats, get(format!("/endpoints/{endpoint_id}/stats?window=30d"))).await?;
    println!(
        "  30-day stats: {} requests sent, success rate {}, p50 {} ms, p95 {} ms, {} bars\n",
        s["sent"],
        s["success_rate"],
        s["latency_p50_ms"],
        s["latency_p95_ms"],
        s["bars"].as_array().map_or(0, Vec::len)
    );
    record("GET /endpoints/{id}/stats?window=30d".into(), times);
    Ok(())
}

/// Percent-encodes a query value (cursors and times carry `+`, `:` and `=`).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// One warm-up run, then `repeats` timed runs (milliseconds) and the last result.
async fn measure<T, F, Fut>(repeats: usize, run: F) -> Result<(Vec<f64>, T), String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut last = run().await?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let started = Instant::now();
        last = run().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((times, last))
}

async fn on_store(store: &Store, sql: &str) -> Result<(), String> {
    let result = match store {
        Store::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    };
    result.map_err(|e| format!("seeding: {e}"))
}

/// SplitMix64: a fixed seed makes every run seed the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// An id shaped like `domain::ids::new_id`: prefix, underscore, 22 alphanumerics.
    fn id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let tail: String = (0..22).map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char).collect();
        format!("{prefix}_{tail}")
    }
}

struct Seeded {
    deliveries: u64,
    messages: u64,
    rollup_rows: usize,
}

/// One hour of one endpoint in `endpoint_stats`: sent, succeeded, failed, gave_up, lat_00…lat_14.
type Rollup = [i64; 4 + LATENCY_BOUNDS_MS.len() + 1];

/// Buffers rows into multi-row INSERTs (literal values: all generated here, nothing to escape
/// beyond quotes) and runs them INSERTS_PER_TX to a transaction.
struct Writer<'a> {
    store: &'a Store,
    messages: Vec<String>,
    deliveries: Vec<String>,
    pending_sql: String,
    statements: usize,
}

impl Writer<'_> {
    fn message(&mut self, row: String) {
        self.messages.push(row);
    }

    async fn delivery(&mut self, row: String) -> Result<(), String> {
        self.deliveries.push(row);
        if self.deliveries.len() >= ROWS_PER_INSERT {
            self.flush_rows();
            if self.statements >= INSERTS_PER_TX {
                self.commit().await?;
            }
        }
        Ok(())
    }

    /// Messages first: deliveries reference them.
    fn flush_rows(&mut self) {
        if !self.messages.is_empty() {
            self.pending_sql.push_str("INSERT INTO messages (id, tenant_id, event_type, payload, created_at) VALUES ");
            self.pending_sql.push_str(&self.messages.join(","));
            self.pending_sql.push_str(";\n");
            self.messages.clear();
        }
        if !self.deliveries.is_empty() {
            self.pending_sql.push_str(
                "INSERT INTO deliveries (id, tenant_id, endpoint_id, message_id, event_type, status, kind, replay_of, attempts, \
                 next_attempt_at, last_status_code, last_duration_ms, last_error, created_at, completed_at) VALUES ",
            );
            self.pending_sql.push_str(&self.deliveries.join(","));
            self.pending_sql.push_str(";\n");
            self.deliveries.clear();
        }
        self.statements += 1;
    }

    async fn commit(&mut self) -> Result<(), String> {
        self.flush_rows();
        let sql = format!("BEGIN;\n{}COMMIT;", self.pending_sql);
        on_store(self.store, &sql).await?;
        self.pending_sql.clear();
        self.statements = 0;
        Ok(())
    }
}

fn text(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".into(), |v| format!("'{}'", v.replace('\'', "''")))
}

fn int(value: Option<i64>) -> String {
    value.map_or_else(|| "NULL".into(), |v| v.to_string())
}

/// The seeded delivery history. Tenant A (the first ENDPOINTS endpoints) gets `target`
/// deliveries, tenant B (the last endpoint) one for every 20 of A's, interleaved in time.
/// Rows go in in time order, as a live system writes them; the rollup counts each attempt in the
/// hour its delivery was created (retries land a little later in reality, which does not change
/// what the stats query reads).
async fn seed(store: &Store, endpoints: &[(String, String)], event_types: &[&str], target: u64, now: Millis) -> Result<Seeded, String> {
    let mut rng = Rng(0x4845_5241_4c44);
    let mut w = Writer { store, messages: Vec::new(), deliveries: Vec::new(), pending_sql: String::new(), statements: 0 };
    let mut rollup: HashMap<(usize, Millis), Rollup> = HashMap::new();
    let span = 30 * DAY;
    let start = now - span;
    let (mut a_count, mut b_count, mut messages) = (0u64, 0u64, 0u64);
    // The last failed delivery of tenant A (id, endpoint, message, event type): what a person replays.
    let mut replayable: Option<(String, usize, String, &str)> = None;

    while a_count < target {
        let at = (start + (a_count as i128 * span as i128 / target as i128) as Millis).min(now - 1);
        let roll = rng.unit();
        // (endpoint index, message id, event type, kind, replay_of)
        let mut batch: Vec<(usize, String, &str, DeliveryKind, Option<String>)> = Vec::new();
        let replay = if roll < 0.02 { replayable.take() } else { None };
        if let Some((original, ep, message_id, event_type)) = replay {
            batch.push((ep, message_id, event_type, DeliveryKind::Replay, Some(original)));
        } else {
            let event_type = event_types[rng.below(event_types.len() as u64) as usize];
            let message_id = rng.id("msg");
            let payload = format!(r#"{{"id":"obj_{}","n":{messages}}}"#, rng.below(1_000_000));
            w.message(format!("('{message_id}','{}','{event_type}','{payload}',{at})", endpoints[0].0));
            messages += 1;
            let first = rng.below(ENDPOINTS as u64) as usize;
            if roll < 0.03 {
                batch.push((first, message_id, event_type, DeliveryKind::Test, None));
            } else {
                // An event fans out to the two endpoints subscribed to it.
                let second = (first + 1 + rng.below(ENDPOINTS as u64 - 1) as usize) % ENDPOINTS;
                batch.push((first, message_id.clone(), event_type, DeliveryKind::Event, None));
                batch.push((second, message_id, event_type, DeliveryKind::Event, None));
            }
        }
        for (ep, message_id, event_type, kind, replay_of) in batch {
            let id = rng.id("dlv");
            let status = delivery_row(
                &mut w,
                &mut rng,
                &mut rollup,
                endpoints,
                ep,
                &id,
                &message_id,
                event_type,
                kind,
                replay_of.as_deref(),
                at,
                now,
            )
            .await?;
            if status == DeliveryStatus::Failed && kind == DeliveryKind::Event {
                replayable = Some((id, ep, message_id, event_type));
            }
            a_count += 1;
        }
        // Tenant B keeps pace at a twentieth of A.
        while b_count * 20 < a_count {
            let event_type = event_types[rng.below(event_types.len() as u64) as usize];
            let (message_id, id) = (rng.id("msg"), rng.id("dlv"));
            let tenant_b = &endpoints[ENDPOINTS].0;
            w.message(format!("('{message_id}','{tenant_b}','{event_type}','{{\"n\":{b_count}}}',{at})"));
            messages += 1;
            delivery_row(
                &mut w,
                &mut rng,
                &mut rollup,
                endpoints,
                ENDPOINTS,
                &id,
                &message_id,
                event_type,
                DeliveryKind::Event,
                None,
                at,
                now,
            )
            .await?;
            b_count += 1;
        }
    }
    w.commit().await?;

    let rollup_rows = rollup.len();
    let lat: Vec<String> = (0..=LATENCY_BOUNDS_MS.len()).map(|i| format!("lat_{i:02}")).collect();
    let head = format!("INSERT INTO endpoint_stats (endpoint_id, hour, sent, succeeded, failed, gave_up, {}) VALUES ", lat.join(", "));
    let rows: Vec<String> = rollup
        .into_iter()
        .map(|((ep, hour), counts)| {
            let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
            format!("('{}',{hour},{})", endpoints[ep].1, counts.join(","))
        })
        .collect();
    let mut sql = String::from("BEGIN;\n");
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        sql.push_str(&head);
        sql.push_str(&chunk.join(","));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    on_store(store, &sql).await?;
    Ok(Seeded { deliveries: a_count + b_count, messages, rollup_rows })
}

/// Writes one delivery with a realistic outcome (~90% succeeded, 5% failed, 3% retrying or
/// pending, 2% skipped) and adds its attempts to the hourly rollup. Returns its status.
#[allow(clippy::too_many_arguments)]
async fn delivery_row(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    rollup: &mut HashMap<(usize, Millis), Rollup>,
    endpoints: &[(String, String)],
    ep: usize,
    id: &str,
    message_id: &str,
    event_type: &str,
    kind: DeliveryKind,
    replay_of: Option<&str>,
    at: Millis,
    now: Millis,
) -> Result<DeliveryStatus, String> {
    let roll = rng.unit();
    let status = match roll {
        r if r < 0.90 => DeliveryStatus::Succeeded,
        r if r < 0.95 => DeliveryStatus::Failed,
        r if r < 0.965 => DeliveryStatus::Retrying,
        r if r < 0.98 => DeliveryStatus::Pending,
        _ => DeliveryStatus::Skipped,
    };
    // Attempts made: a success sometimes needed a retry; a failure used up the schedule (a test
    // is sent once).
    let attempts: i64 = match status {
        DeliveryStatus::Succeeded => 1 + (rng.unit() < 0.1) as i64,
        DeliveryStatus::Failed if kind == DeliveryKind::Test => 1,
        DeliveryStatus::Failed => 5,
        DeliveryStatus::Retrying => 1 + rng.below(3) as i64,
        _ => 0,
    };
    let (mut last_code, mut last_duration, mut last_error) = (None, None, None);
    let hour = at - at.rem_euclid(HOUR);
    for n in 1..=attempts {
        let ok = status == DeliveryStatus::Succeeded && n == attempts;
        let (code, duration, error) = if ok {
            (Some(200), 15 + (rng.unit().powi(3) * 900.0) as i64, None)
        } else if rng.unit() < 0.3 {
            (None, 10_000 + rng.below(50) as i64, Some("Timed out after 10 s"))
        } else {
            (Some([500, 502, 503][rng.below(3) as usize]), 5 + rng.below(300) as i64, Some("The endpoint answered with an error status"))
        };
        let row = rollup.entry((ep, hour)).or_insert([0; 4 + LATENCY_BOUNDS_MS.len() + 1]);
        row[0] += 1;
        row[if ok { 1 } else { 2 }] += 1;
        row[3] += (status == DeliveryStatus::Failed && n == attempts) as i64;
        row[4 + LATENCY_BOUNDS_MS.iter().position(|&b| duration <= b).unwrap_or(LATENCY_BOUNDS_MS.len())] += 1;
        (last_code, last_duration, last_error) = (code, Some(duration), error);
    }
    if status == DeliveryStatus::Skipped {
        last_error = Some("Endpoint inactive when the event arrived");
    }
    let next_attempt_at = matches!(status, DeliveryStatus::Retrying | DeliveryStatus::Pending).then(|| now + rng.below(HOUR as u64) as i64);
    let completed_at = matches!(status, DeliveryStatus::Succeeded | DeliveryStatus::Failed).then(|| at + last_duration.unwrap_or(0));
    let (tenant_id, endpoint_id) = &endpoints[ep];
    let row = format!(
        "('{id}','{tenant_id}','{endpoint_id}','{message_id}','{event_type}','{status}','{kind}',{},{attempts},{},{},{},{},{at},{})",
        text(replay_of),
        int(next_attempt_at),
        int(last_code),
        int(last_duration),
        text(last_error),
        int(completed_at)
    );
    w.delivery(row).await?;
    Ok(status)
}
