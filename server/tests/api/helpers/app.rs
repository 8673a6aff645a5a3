//! The real server on a random port, on a fresh database, with a moveable clock; its worker;
//! the `herald` binary on the same database.

use std::sync::Arc;

use domain::clock::{ManualClock, DAY};
use domain::Herald;

use super::api::browser;
use super::db::{fresh_db, Backend, TempDir, TestDb};

pub struct TestApp {
    pub base: String,
    pub origin: String,
    pub herald: Herald,
    pub clock: ManualClock,
    pub data_dir: Arc<TempDir>,
    /// A browser-like client: keeps cookies, sends this site's Origin.
    pub client: reqwest::Client,
    pub db: Arc<TestDb>,
}

/// A fresh server on 127.0.0.1 with a moveable clock, or `None` when the backend is unavailable.
/// Its configuration is [`test_config`]: nothing comes from the environment.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let db = fresh_db(backend).await?;
    let clock = ManualClock::new(1_767_261_600_000); // 2026-01-01T10:00:00Z
    Some(start(Arc::new(db), Arc::new(TempDir::new()), clock, |_| {}).await)
}

/// Starts a server on `db`, configured as a test server and then by `configure`.
async fn start(db: Arc<TestDb>, data_dir: Arc<TempDir>, clock: ManualClock, configure: impl FnOnce(&mut server::Config)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut config = test_config(&db, &data_dir, &base);
    config.bind = addr;
    configure(&mut config);
    let herald = server::open(&mut config, Arc::new(clock.clone())).await.expect("open herald");
    let router = server::router(herald.clone(), &config);
    tokio::spawn(server::serve(listener, router, std::future::pending()));
    TestApp { client: browser(&base), origin: base.clone(), base, herald, clock, data_dir, db }
}

/// Herald's built-in defaults (never the environment: no `HERALD_SMTP_URL` sends test mail, no
/// `HERALD_SECRET_KEY` or `DATABASE_URL` is picked up), on `db` and `data_dir`: mail goes to the
/// data directory's outbox, the secret key is generated there, no proxy is trusted. Receivers
/// time out after 1.5 s (so that time-outs are tested in a second, not ten); leases last 30 s.
fn test_config(db: &TestDb, data_dir: &TempDir, public_url: &str) -> server::Config {
    let mut config = server::Config::defaults();
    config.database_url = db.url.clone();
    config.data_dir = data_dir.0.clone();
    config.public_url = public_url.to_string();
    config.engine.timeout = std::time::Duration::from_millis(1500);
    config.engine.lease = std::time::Duration::from_secs(30);
    config
}

impl TestApp {
    /// Another web process on the same database, data directory and clock (as a second
    /// `herald serve` behind the same load balancer would be), configured by `configure`.
    pub async fn spawn_process(&self, configure: impl FnOnce(&mut server::Config)) -> TestApp {
        start(self.db.clone(), self.data_dir.clone(), self.clock.clone(), configure).await
    }

    /// Another `Herald` on this app's database, data directory and clock, with its own engine
    /// settings, as a separately configured worker process would have.
    pub async fn herald_with(&self, engine: impl FnOnce(&mut domain::delivery::EngineSettings)) -> Herald {
        let mut config = test_config(&self.db, &self.data_dir, &self.base);
        engine(&mut config.engine);
        server::open(&mut config, Arc::new(self.clock.clone())).await.expect("open herald")
    }

    /// What the pacer of a running worker does when due: queues the next second of every
    /// running recovery job. Returns how many deliveries it queued.
    pub async fn run_jobs(&self) -> usize {
        self.herald.advance_jobs().await.expect("advance recovery jobs")
    }

    /// Runs the delivery worker until nothing is due at the current (test) time; returns how
    /// many deliveries it attempted.
    pub async fn deliver(&self) -> usize {
        domain::delivery::worker::Worker::new(self.herald.clone()).run_until_idle().await
    }

    pub fn clock_now(&self) -> i64 {
        domain::clock::Clock::now(&self.clock)
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.advance(days * DAY);
    }
}

/// The `herald` binary on this app's database and data directory (so on its secret key too),
/// with an empty environment but for `DATABASE_URL`, `HERALD_DATA_DIR` and `RUST_LOG=error`:
/// add what the command needs with `.env(…)`.
pub fn herald_cli(app: &TestApp) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_herald"));
    command.env_clear().env("DATABASE_URL", &app.db.url).env("HERALD_DATA_DIR", &app.data_dir.0).env("RUST_LOG", "error");
    command
}

/// The real worker loop, as `herald serve` runs it, until [`RunningWorker::stop`].
pub struct RunningWorker {
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    pub fn start(herald: Herald) -> RunningWorker {
        let (shutdown, stop) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(domain::delivery::worker::Worker::new(herald).run(stop));
        RunningWorker { shutdown, task }
    }

    /// Asks the loop to stop and waits for it to drain.
    pub async fn stop(self) {
        self.shutdown.send(true).unwrap();
        self.task.await.unwrap();
    }
}

/// Waits (in real time: for real HTTP round trips, never for retry delays) until `done`, for
/// at most 20 seconds.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A test that has not finished after this long is stuck (the slowest take a few seconds): it
/// fails, naming itself, instead of holding the whole run until CI's deadline.
const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs one test on a fresh app of `backend` (if available), failing it past [`TEST_LIMIT`].
pub async fn within_limit<F: std::future::Future<Output = ()>>(backend: Backend, test: impl FnOnce(TestApp) -> F) {
    let run = async {
        if let Some(app) = spawn_app(backend).await {
            test(app).await
        }
    };
    if tokio::time::timeout(TEST_LIMIT, run).await.is_err() {
        panic!("stuck: still running after {TEST_LIMIT:?} on {backend:?}");
    }
}
