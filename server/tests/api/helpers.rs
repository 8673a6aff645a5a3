//! Starts the real server on a random port against a fresh database, once per backend.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use domain::clock::{ManualClock, DAY};
use domain::Herald;
use reqwest::StatusCode;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database made for one test and removed after it.
pub struct TestDb {
    pub url: String,
    postgres_name: Option<String>,
    _dir: Option<TempDir>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_name.take() {
            // Drop runs outside the test's runtime: use a small one of our own, on a thread of
            // its own, waited for a bounded time (a leftover database is better than a stuck run).
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(ADMIN_URL).await {
                        let _ = sqlx::query("SET lock_timeout = '20s'").execute(&mut conn).await;
                        if let Err(err) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await {
                            eprintln!("could not drop test database {name}: {err}");
                        }
                    }
                });
                let _ = done.send(());
            });
            if finished.recv_timeout(std::time::Duration::from_secs(30)).is_err() {
                eprintln!("gave up dropping a test database after 30 s");
            }
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TempDir {
    pub fn new() -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("herald-test-{}-{n}-{}", std::process::id(), domain::ids::random_string(6)));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh database, or `None` (with a visible message) when PostgreSQL is not reachable
/// and `REQUIRE_POSTGRES` is not set.
pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new();
            let url = format!("sqlite://{}", dir.0.join("herald.db").display());
            Some(TestDb { url, postgres_name: None, _dir: Some(dir) })
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = match sqlx::PgConnection::connect(ADMIN_URL).await {
                Ok(conn) => conn,
                Err(err) => {
                    if std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                        panic!("PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable at 127.0.0.1:5432: {err}");
                    }
                    eprintln!("SKIPPED: PostgreSQL unreachable at 127.0.0.1:5432 ({err}); set REQUIRE_POSTGRES=1 to fail instead");
                    return None;
                }
            };
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let name = format!("herald_test_{}_{n}_{}", std::process::id(), domain::ids::random_string(6).to_lowercase());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            Some(TestDb { url: format!("postgres://postgres@127.0.0.1:5432/{name}"), postgres_name: Some(name), _dir: None })
        }
    }
}

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
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let db = fresh_db(backend).await?;
    let clock = ManualClock::new(1_767_261_600_000); // 2026-01-01T10:00:00Z
    Some(start(Arc::new(db), Arc::new(TempDir::new()), clock, |_| {}).await)
}

/// Starts a server on `db`, configured as a test server and then by `configure`.
async fn start(db: Arc<TestDb>, data_dir: Arc<TempDir>, clock: ManualClock, configure: impl FnOnce(&mut server::Config)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = test_config(&db, &data_dir, &format!("http://{addr}")).with_bind(addr);
    configure(&mut config);
    let herald = server::open(&mut config, Arc::new(clock.clone())).await.expect("open herald");
    let router = server::router(herald.clone(), server::leptos_options(&config), config.secure_cookies());
    tokio::spawn(server::serve(listener, router, std::future::pending()));
    let base = format!("http://{addr}");
    TestApp { client: browser(&base), origin: base.clone(), base, herald, clock, data_dir, db }
}

impl TestApp {
    /// Another web process on the same database, data directory and clock (as a second
    /// `herald serve` behind the same load balancer would be), configured by `configure`.
    pub async fn spawn_process(&self, configure: impl FnOnce(&mut server::Config)) -> TestApp {
        start(self.db.clone(), self.data_dir.clone(), self.clock.clone(), configure).await
    }
}

fn test_config(db: &TestDb, data_dir: &TempDir, public_url: &str) -> server::Config {
    let mut config = server::Config::from_env().unwrap();
    config.database_url = db.url.clone();
    config.data_dir = data_dir.0.clone();
    config.public_url = public_url.to_string();
    // Short waits so that timeouts are tested in a second, not ten.
    config.engine.timeout = std::time::Duration::from_millis(1500);
    config.engine.lease = std::time::Duration::from_secs(30);
    config
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

/// Far longer than any request of the suite takes (the receiver time-out tests wait 1.5 s).
pub const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A client that behaves like a browser on the dashboard.
pub fn browser(origin: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", origin.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        // A request the server never answers fails at its own line instead of hanging the run.
        .timeout(REQUEST_LIMIT)
        .build()
        .unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// The session cookie this answer set, as a `Cookie` header value (`herald_session=…`).
    pub fn session_cookie(&self) -> String {
        let set = self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with("herald_session="));
        set.expect("a session cookie").split(';').next().unwrap().to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }
    /// For server-function errors: `{code, message, field}`; for API errors: `{"error": {...}}`.
    pub fn error(&self) -> Value {
        let v = self.json();
        v.get("error").cloned().unwrap_or(v)
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    Reply { status: response.status(), headers: response.headers().clone(), text: response.text().await.unwrap() }
}

impl TestApp {
    pub fn new_browser(&self) -> reqwest::Client {
        browser(&self.origin)
    }

    /// Calls a dashboard server function the way a form does.
    pub async fn rpc(&self, client: &reqwest::Client, name: &str, form: &[(&str, &str)]) -> Reply {
        reply(client.post(format!("{}/rpc/{name}", self.base)).form(form).send().await.unwrap()).await
    }

    /// A request carrying only `cookie`: no cookie jar, no Origin (like a copied cookie replayed).
    pub async fn get_with_cookie(&self, cookie: &str, path: &str) -> Reply {
        reply(plain_client().get(format!("{}{path}", self.base)).header("cookie", cookie).send().await.unwrap()).await
    }

    pub async fn get(&self, client: &reqwest::Client, path: &str) -> Reply {
        reply(client.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    /// Signs up a new owner with their own tenant in a new browser, following the emailed
    /// link; returns the signed-in browser.
    pub async fn owner(&self, email: &str, business: &str) -> reqwest::Client {
        let client = self.new_browser();
        let r = self
            .rpc(
                &client,
                "sign_up",
                &[("name", "Owner"), ("email", email), ("password", "correct horse battery"), ("tenant_name", business)],
            )
            .await;
        assert_eq!(r.status, 200, "sign up failed: {}", r.text);
        let token = self.sign_up_token(email).unwrap_or_else(|| panic!("no sign-up link mailed to {email}"));
        let r = self.rpc(&client, "confirm_sign_up", &[("token", &token)]).await;
        assert_eq!(r.status, 200, "confirming the sign-up failed: {}", r.text);
        client
    }

    /// The token of the newest sign-up link mailed to `email`.
    pub fn sign_up_token(&self, email: &str) -> Option<String> {
        let marker = format!("{}/signup/confirm/", self.base);
        let to = format!("to: {}", email.trim().to_lowercase());
        let mut mails: Vec<(std::path::PathBuf, String)> =
            self.outbox_files().into_iter().filter(|(_, m)| m.to_lowercase().contains(&to)).collect();
        mails.sort();
        mails
            .iter()
            .rev()
            .find_map(|(_, m)| m.split(&marker).nth(1).map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect()))
    }

    /// Invites `email` as a member of the owner's tenant and accepts in a new browser.
    pub async fn member(&self, owner: &reqwest::Client, email: &str) -> reqwest::Client {
        let r = self.rpc(owner, "invite", &[("email", email), ("role", "member")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let link = r.json()["link"].as_str().unwrap().to_string();
        let member = self.new_browser();
        let token = link.rsplit('/').next().unwrap();
        let r = self.rpc(&member, "accept_invitation", &[("token", token), ("name", "Member"), ("password", "member password 1")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        member
    }

    pub async fn me(&self, client: &reqwest::Client) -> Value {
        let r = self.get(client, "/api/v1/me").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// Files in the email outbox, as text.
    pub fn outbox(&self) -> Vec<String> {
        self.outbox_files().into_iter().map(|(_, m)| m).collect()
    }

    /// The outbox's files (named by the time they were written) with their text.
    fn outbox_files(&self) -> Vec<(std::path::PathBuf, String)> {
        let dir = self.data_dir.0.join("outbox");
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .filter_map(|e| {
                let path = e.ok()?.path();
                let text = std::fs::read_to_string(&path).ok()?;
                Some((path, decode_quoted_printable(&text)))
            })
            .collect()
    }

    pub fn clock_now(&self) -> i64 {
        domain::clock::Clock::now(&self.clock)
    }

    /// Runs the delivery worker until nothing is due at the current (test) time.
    /// What the pacer of a running worker does when due: queues the next second of every
    /// running recovery job. Returns how many deliveries it queued.
    pub async fn run_jobs(&self) -> usize {
        self.herald.advance_jobs().await.expect("advance recovery jobs")
    }

    pub async fn deliver(&self) -> usize {
        domain::delivery::worker::Worker::new(self.herald.clone()).run_until_idle().await
    }

    /// Another `Herald` on this app's database, data directory and clock, with its own engine
    /// settings, as a separately configured worker process would have.
    pub async fn herald_with(&self, engine: impl FnOnce(&mut domain::delivery::EngineSettings)) -> Herald {
        let mut config = test_config(&self.db, &self.data_dir, &self.base);
        engine(&mut config.engine);
        server::open(&mut config, Arc::new(self.clock.clone())).await.expect("open herald")
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.advance(days * DAY);
    }
}

/// Defines `#[tokio::test]`s that run the same async fn on SQLite and on PostgreSQL.
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

#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::helpers::within_limit($crate::helpers::Backend::Sqlite, super::$name).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::helpers::within_limit($crate::helpers::Backend::Postgres, super::$name).await
            })*
        }
    };
}

/// Undoes quoted-printable (soft line breaks and `=XX`), as a mail client would.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A plain client (no cookies, no Origin) bounded by [`REQUEST_LIMIT`].
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(REQUEST_LIMIT).build().unwrap()
}
