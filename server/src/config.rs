//! Configuration from the environment (see the README for every variable).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `None` until [`Config::secret_key`] generates one.
    secret_key: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub bind: SocketAddr,
    pub public_url: String,
    /// Where the built site (`pkg/herald.js`, `.wasm`, `.css`) lives.
    pub site_root: String,
    pub engine: domain::delivery::EngineSettings,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Config {
    pub fn from_env() -> anyhow_like::Result<Config> {
        let data_dir = PathBuf::from(var("HERALD_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("herald.db").display()));
        let bind: SocketAddr = var("HERALD_BIND")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| format!("HERALD_BIND is not an address like 127.0.0.1:3000: {e}"))?;
        let public_url = var("HERALD_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}"));
        Ok(Config {
            data_dir,
            database_url,
            secret_key: var("HERALD_SECRET_KEY"),
            smtp_url: var("HERALD_SMTP_URL"),
            mail_from: var("HERALD_MAIL_FROM").unwrap_or_else(|| "Herald <herald@localhost>".into()),
            bind,
            public_url,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            engine: engine_from_env()?,
        })
    }

    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        if var("HERALD_PUBLIC_URL").is_none() {
            self.public_url = format!("http://{bind}");
        }
        self.bind = bind;
        self
    }

    /// Cookies get `Secure` when Herald is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The key for secrets at rest. Without `HERALD_SECRET_KEY`, one is generated once and kept
    /// in the data directory so a local install keeps working across restarts.
    pub fn secret_key(&mut self) -> anyhow_like::Result<String> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        let path = self.data_dir.join("secret.key");
        let key = match std::fs::read_to_string(&path) {
            Ok(existing) if !existing.trim().is_empty() => existing.trim().to_string(),
            _ => {
                std::fs::create_dir_all(&self.data_dir).map_err(|e| format!("create {}: {e}", self.data_dir.display()))?;
                let key = domain::ids::random_string(48);
                write_private(&path, &key).map_err(|e| format!("write {}: {e}", path.display()))?;
                tracing::warn!(path = %path.display(), "HERALD_SECRET_KEY is not set; generated a key for this data directory");
                key
            }
        };
        self.secret_key = Some(key.clone());
        Ok(key)
    }
}

/// Delivery tuning; the defaults follow the product rules (10 s timeout).
fn engine_from_env() -> anyhow_like::Result<domain::delivery::EngineSettings> {
    let mut engine = domain::delivery::EngineSettings::default();
    let seconds = |name: &str| -> anyhow_like::Result<Option<f64>> {
        var(name)
            .map(|v| v.parse::<f64>().ok().filter(|s| *s > 0.0).ok_or(format!("{name} must be a positive number of seconds")))
            .transpose()
    };
    if let Some(s) = seconds("HERALD_DELIVERY_TIMEOUT_SECS")? {
        engine.timeout = std::time::Duration::from_secs_f64(s);
    }
    if let Some(s) = seconds("HERALD_LEASE_SECS")? {
        engine.lease = std::time::Duration::from_secs_f64(s);
    }
    if let Some(n) = var("HERALD_WORKER_CONCURRENCY") {
        engine.concurrency = n.parse().ok().filter(|n| *n > 0).ok_or("HERALD_WORKER_CONCURRENCY must be a positive number")?;
    }
    Ok(engine)
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Start-up errors are plain messages for the operator.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}
