//! A fresh database per test (SQLite in a temporary directory, or a PostgreSQL database made
//! for it), removed after it.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The test PostgreSQL server: 127.0.0.1:5432, user postgres, trust authentication.
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
