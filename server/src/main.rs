//! `herald`: one binary for the dashboard, the API, the workers and administration.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use domain::audit::Audit;
use domain::clock::SystemClock;
use domain::tenants::{Plan, TenantUpdate};
use domain::StaffRole;
use server::Config;
use types::AuditAction;

#[derive(Parser)]
#[command(name = "herald", version, about = "Herald: a multi-tenant webhook control plane")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard and API, and run the delivery workers.
    Serve {
        #[arg(long, value_enum, default_value_t = Role::All)]
        role: Role,
        /// Address to listen on (default: HERALD_BIND or 127.0.0.1:3000). A `--role worker`
        /// listens only when given `--bind`, and serves /healthz, /readyz and /metrics there.
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Platform operators: create tenants, set plans and retention.
    Operator {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Platform support staff: read-only access to every tenant.
    Support {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Create and change tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Measure ingest, delivery and latency on SQLite and PostgreSQL (prints the figures);
    /// `herald bench logs` times the delivery log and the stats over a seeded history instead.
    Bench {
        #[arg(value_enum)]
        suite: Option<BenchSuite>,
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Events per second for the latency run.
        #[arg(long, default_value_t = 500)]
        rate: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
        /// `bench logs`: deliveries to seed for the measured tenant.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=20_000_000))]
        deliveries: u64,
        /// `bench logs`: timed runs per query.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
        repeats: u64,
        /// Exit non-zero when a figure misses its target.
        #[arg(long)]
        check: bool,
        /// Run only these runs (comma-separated): ingest (and its drain), two-workers,
        /// end-to-end, mixed, latency, split, slow, fan-out. Default: all.
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(server::bench::RUNS))]
        only: Vec<String>,
        /// Measure one database only (default: SQLite, then PostgreSQL when reachable).
        #[arg(long, value_enum)]
        database: Option<BenchDatabase>,
    },
    /// Archive deliveries past their tenant's retention now (`serve` also does it every 15
    /// minutes). Prints how many messages, deliveries and attempts were archived.
    Archive {
        /// Archive as if it were this time (RFC 3339), e.g. to rehearse a retention change.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// API keys for the HTTP API: a tenant's (`hk_…`), or the platform's (`hkp_…`).
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
}

#[derive(Subcommand)]
enum ApiKeyAction {
    /// Create a key; prints the key alone, once: a tenant's `hk_…` key (`--tenant ID`), or
    /// with `--platform` a platform key `hkp_…`, which creates and manages tenants and acts in
    /// any of them under /api/v1/tenants/{tenant_id}/….
    Create {
        #[arg(long, required_unless_present = "platform", conflicts_with = "platform")]
        tenant: Option<String>,
        #[arg(long)]
        platform: bool,
        /// Default: "API key" for a tenant's key, "Platform key" for a platform key.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum BenchSuite {
    /// Delivery log pages and endpoint stats over 1,000,000 seeded deliveries.
    Logs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum BenchDatabase {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Role {
    All,
    Web,
    Worker,
}

#[derive(Subcommand)]
enum StaffAction {
    /// Create the account (password from HERALD_PASSWORD or a prompt), or grant the role.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum TenantAction {
    /// Create a tenant with its first admin; prints the tenant id alone.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_plan)]
        plan: Plan,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        allow_private_urls: bool,
    },
    /// Change a tenant's plan, retention, URL policy or suspension.
    Update {
        id: String,
        #[arg(long, value_parser = parse_plan)]
        plan: Option<Plan>,
        #[arg(long)]
        retention_days: Option<i64>,
        #[arg(long)]
        allow_private_urls: Option<bool>,
        /// A suspended tenant accepts no events, delivers nothing, and its dashboard is read-only.
        #[arg(long)]
        suspended: Option<bool>,
    },
}

fn parse_plan(value: &str) -> Result<Plan, String> {
    Plan::parse(value).ok_or_else(|| "expected basic, professional, business or enterprise".to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A benchmark's figures should not drown in the per-request log lines of its own setup.
    let default_filter =
        if matches!(cli.command, Command::Bench { .. }) { "warn" } else { "info,sqlx=error,tower_sessions=warn,leptos=warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into());
    match std::env::var("HERALD_LOG_FORMAT").unwrap_or_default().trim() {
        // One JSON object a line; a request's lines carry its `span.request_id`.
        "json" => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        "" | "text" => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
        other => {
            eprintln!("error: HERALD_LOG_FORMAT is {other:?}; it can be json or text (the default)");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    if let Command::Bench { suite, events, clients, rate, seconds, postgres_url, deliveries, repeats, check, only, database } = cli.command
    {
        if suite == Some(BenchSuite::Logs) {
            return server::bench_logs::run(server::bench_logs::Options { deliveries, repeats: repeats as usize, postgres_url }).await;
        }
        let (sqlite, postgres) = (database != Some(BenchDatabase::Postgres), database != Some(BenchDatabase::Sqlite));
        return server::bench::run(server::bench::Options { events, clients, rate, seconds, postgres_url, check, only, sqlite, postgres })
            .await;
    }
    let mut config = Config::from_env()?;
    let clock: Arc<dyn domain::clock::Clock> = match &cli.command {
        Command::Archive { as_of: Some(time) } => {
            let at =
                domain::clock::parse_utc(time).ok_or_else(|| format!("--as-of {time:?} is not a time such as 2026-03-01T00:00:00Z"))?;
            Arc::new(domain::clock::ManualClock::new(at))
        }
        _ => Arc::new(SystemClock),
    };
    let herald = server::open(&mut config, clock).await?;
    let describe = |e: domain::Error| e.public_message();
    match cli.command {
        Command::Migrate => {
            println!("database is up to date");
        }
        Command::Serve { role, bind } => {
            if let Some(bind) = bind {
                config = config.with_bind(bind);
                // The public URL may have followed the address: framing still needs https.
                config.check_framing()?;
            }
            return serve(config, herald, role, bind.is_some()).await;
        }
        Command::Operator { action: StaffAction::Create { email } } => {
            let user = herald.create_staff(&email, &password(&email)?, StaffRole::Operator).await.map_err(describe)?;
            herald
                .audit(
                    &cli_actor(),
                    Audit::new(None, AuditAction::StaffGranted, format!("Made {} an operator", user.email)).target(&user.id),
                )
                .await;
            eprintln!("operator {} can now sign in", user.email);
        }
        Command::Support { action: StaffAction::Create { email } } => {
            let user = herald.create_staff(&email, &password(&email)?, StaffRole::Support).await.map_err(describe)?;
            herald
                .audit(
                    &cli_actor(),
                    Audit::new(None, AuditAction::StaffGranted, format!("Made {} support staff", user.email)).target(&user.id),
                )
                .await;
            eprintln!("support {} can now sign in", user.email);
        }
        Command::Tenant { action: TenantAction::Create { name, plan, admin_email, allow_private_urls } } => {
            let existing = herald.user_by_email(&admin_email).await.map_err(describe)?;
            let password = if existing.is_some() { None } else { Some(password(&admin_email)?) };
            let id = herald
                .create_tenant(&cli_actor(), &name, plan, &admin_email, password.as_deref(), allow_private_urls)
                .await
                .map_err(describe)?;
            println!("{id}");
        }
        Command::Bench { .. } => return Err("bench is handled before opening the database".into()),
        Command::Archive { .. } => {
            let report = herald.archive_once().await.map_err(describe)?;
            println!("archived {} messages, {} deliveries, {} attempts", report.messages, report.deliveries, report.attempts);
        }
        Command::ApiKey { action: ApiKeyAction::Create { tenant, platform, name } } => {
            let key = match tenant {
                Some(tenant) if !platform => {
                    herald.create_api_key(&cli_actor().in_tenant(&tenant), name.as_deref().unwrap_or("API key")).await.map_err(describe)?.1
                }
                _ => herald.create_platform_key(&cli_actor(), name.as_deref().unwrap_or("")).await.map_err(describe)?.1,
            };
            println!("{key}");
        }
        Command::Tenant { action: TenantAction::Update { id, plan, retention_days, allow_private_urls, suspended } } => {
            let tenant = herald
                .change_tenant(&cli_actor(), &id, TenantUpdate { plan, retention_days, allow_private_urls, suspended })
                .await
                .map_err(describe)?;
            eprintln!(
                "{}: plan {}, retention {} days, private URLs {}{}",
                tenant.name,
                tenant.plan,
                tenant.retention_days,
                if tenant.allow_private_urls { "allowed" } else { "refused" },
                if tenant.suspended { ", SUSPENDED" } else { "" }
            );
        }
    }
    herald.store.close().await;
    Ok(())
}

/// Who the audit log names for changes made on the command line (with the OS user, if known).
fn cli_actor() -> domain::Actor {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
    domain::Actor::system(&if user.is_empty() { "command line".to_string() } else { format!("command line ({user})") })
}

/// The password for a new account: `HERALD_PASSWORD`, or asked for on the terminal.
fn password(email: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var("HERALD_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password(format!("Password for {email}: ")).map_err(|e| format!("no HERALD_PASSWORD and cannot prompt: {e}"))
}

async fn serve(config: Config, herald: domain::Herald, role: Role, explicit_bind: bool) -> Result<(), String> {
    // Before anything counts: with no recorder installed, the `metrics` calls are dropped.
    server::ops::metrics_handle();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down (SIGTERM or Ctrl-C): finishing the work in hand");
        let _ = stop.send(true);
    });
    server::spawn_housekeeping(herald.clone());
    server::ops::spawn_sampler(herald.clone());
    let worker = (role != Role::Web).then(|| tokio::spawn(domain::delivery::worker::Worker::new(herald.clone()).run(stopped.clone())));
    let grace = herald.engine.shutdown_grace;
    if role == Role::Worker {
        let database = if herald.store.is_postgres() { "PostgreSQL" } else { "SQLite" };
        if json_logs() {
            tracing::info!(database, "Herald worker started");
        } else {
            eprintln!("Herald worker started (delivering from {database})");
        }
        // A worker serves no dashboard or API; given `--bind`, it serves /healthz, /readyz and
        // /metrics there (its delivery metrics exist in it alone).
        if explicit_bind {
            let listener =
                tokio::net::TcpListener::bind(config.bind).await.map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
            tracing::info!(bind = %config.bind, "serving /healthz, /readyz and /metrics");
            let router = server::ops::router(server::ops::Ops::new(herald.clone(), config.metrics_token.as_deref()));
            serve_until_stopped(listener, router, stopped.clone(), grace).await?;
        }
    } else {
        let listener = tokio::net::TcpListener::bind(config.bind).await.map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
        if json_logs() {
            // Log collectors want one JSON object a line: the start-up note goes through the log.
            tracing::info!(url = %config.public_url, email = %herald.mailer.describe(), "Herald is serving");
        } else {
            print_banner(&config, &herald).await;
        }
        let router = server::router(herald.clone(), &config);
        serve_until_stopped(listener, router, stopped.clone(), grace).await?;
    }
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    herald.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves until the stop signal, then gives the requests in flight `grace` to finish (the same
/// grace deliveries get): one that outlives it, such as a test event to an endpoint that never
/// answers, must not hold up a restart for the whole delivery timeout.
async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    mut stopped: tokio::sync::watch::Receiver<bool>,
    grace: std::time::Duration,
) -> Result<(), String> {
    let mut until = stopped.clone();
    let serving = server::serve(listener, router, async move {
        let _ = until.wait_for(|s| *s).await;
    });
    let overdue = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = serving => served.map_err(|e| format!("server stopped: {e}")),
        _ = overdue => {
            tracing::warn!(?grace, "requests still open after the shutdown grace; stopping without them");
            Ok(())
        }
    }
}

/// What a person starting `herald serve` by hand needs to know (human log format only).
async fn print_banner(config: &Config, herald: &domain::Herald) {
    let url = config.public_url.clone();
    eprintln!("\n  Herald is running at {url}");
    let outbox = matches!(herald.mailer, domain::mail::Mailer::Outbox { .. });
    if herald.user_count().await.unwrap_or(0) == 0 {
        eprintln!("  No accounts yet: create one at {url}/signup");
        if outbox {
            eprintln!("  (the confirmation link arrives as an email file; its path is printed here when it is written)");
        }
        eprintln!("  Or at once, from another terminal, a workspace with you as its admin:");
        eprintln!("    HERALD_PASSWORD='choose-a-password' target/debug/herald tenant create --name 'My Spa' --plan basic --admin-email you@example.com");
    } else {
        eprintln!("  Sign in at {url}/signin, or create a new workspace at {url}/signup");
    }
    eprintln!("  Email goes to {}\n", herald.mailer.describe());
    if config.secure_cookies() && config.public_url.to_ascii_lowercase().starts_with("http://") {
        eprintln!("  Note: HERALD_PUBLIC_URL is plain http on another machine than this one. Session cookies are Secure,");
        eprintln!("  so browsers only send them over https: serve Herald over https (e.g. behind a reverse proxy).\n");
    }
}

/// `HERALD_LOG_FORMAT=json`: one JSON object a line on stderr.
fn json_logs() -> bool {
    std::env::var("HERALD_LOG_FORMAT").is_ok_and(|v| v.trim() == "json")
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
