//! Configuration from the environment (see the README for every variable).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone)]
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
    /// Reverse proxies in front of Herald (`HERALD_TRUSTED_PROXIES`); empty: the TCP peer is the client.
    pub trusted_proxies: domain::net::TrustedProxies,
    /// `HERALD_METRICS_TOKEN`: callers other than loopback see `/metrics` with
    /// `Authorization: Bearer <token>`; without one, only loopback callers do.
    pub metrics_token: Option<String>,
    /// `HERALD_FRAME_ANCESTORS`: the sites that may show the dashboard in a frame (CSP
    /// `frame-ancestors` sources, e.g. `https://admin.platform.example`). `None`: no site may
    /// (`frame-ancestors 'none'`, `X-Frame-Options: DENY`). When set, session cookies are
    /// `SameSite=None; Secure; Partitioned`, so the framed dashboard keeps its session: this
    /// needs Herald on https.
    pub frame_ancestors: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The SQLite database inside `data_dir`.
fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("herald.db").display())
}

impl Config {
    /// Herald's own settings, as used where no environment variable says otherwise: data and a
    /// SQLite database in `./data`, 127.0.0.1:3000, mail written to the data directory's outbox,
    /// no trusted proxies, the default delivery engine, and a secret key generated on first use.
    /// Reads nothing from the environment: [`Config::from_env`] starts from here, and tests do.
    pub fn defaults() -> Config {
        let data_dir = PathBuf::from("./data");
        let bind = SocketAddr::from(([127, 0, 0, 1], 3000));
        Config {
            database_url: sqlite_url(&data_dir),
            data_dir,
            secret_key: None,
            smtp_url: None,
            mail_from: "Herald <herald@localhost>".into(),
            bind,
            public_url: format!("http://{bind}"),
            site_root: "target/site".into(),
            engine: domain::delivery::EngineSettings::default(),
            trusted_proxies: domain::net::TrustedProxies::default(),
            metrics_token: None,
            frame_ancestors: None,
        }
    }

    /// [`Config::defaults`], changed by every `HERALD_*` variable set (and `DATABASE_URL`,
    /// `LEPTOS_SITE_ROOT`).
    pub fn from_env() -> anyhow_like::Result<Config> {
        let mut config = Config::defaults();
        if let Some(dir) = var("HERALD_DATA_DIR") {
            config.data_dir = PathBuf::from(dir);
        }
        config.database_url = var("DATABASE_URL").unwrap_or_else(|| sqlite_url(&config.data_dir));
        if let Some(bind) = var("HERALD_BIND") {
            config.bind = bind.parse().map_err(|e| format!("HERALD_BIND is not an address like 127.0.0.1:3000: {e}"))?;
        }
        config.public_url = var("HERALD_PUBLIC_URL").unwrap_or_else(|| format!("http://{}", config.bind));
        config.secret_key = var("HERALD_SECRET_KEY");
        config.smtp_url = var("HERALD_SMTP_URL");
        if let Some(from) = var("HERALD_MAIL_FROM") {
            config.mail_from = from;
        }
        if let Some(root) = var("LEPTOS_SITE_ROOT") {
            config.site_root = root;
        }
        engine_from_env(&mut config.engine)?;
        if let Some(list) = var("HERALD_TRUSTED_PROXIES") {
            config.trusted_proxies = domain::net::TrustedProxies::parse(&list)?;
        }
        config.metrics_token = var("HERALD_METRICS_TOKEN");
        if let Some(sources) = var("HERALD_FRAME_ANCESTORS") {
            config.frame_ancestors = Some(parse_frame_ancestors(&sources)?);
            config.check_framing()?;
        }
        Ok(config)
    }

    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        if var("HERALD_PUBLIC_URL").is_none() {
            self.public_url = format!("http://{bind}");
        }
        self.bind = bind;
        self
    }

    /// Session cookies are `Secure` (sent over https only), except where the public URL is plain
    /// http on this machine (localhost, 127.0.0.1, [::1]): development.
    pub fn secure_cookies(&self) -> bool {
        let url = self.public_url.to_ascii_lowercase();
        let Some(rest) = url.strip_prefix("http://") else { return true };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host_port.split(':').next().unwrap_or_default(),
        };
        !matches!(host, "localhost" | "127.0.0.1" | "::1")
    }

    /// Framed sessions need cookies a browser sends inside another site's frame:
    /// `SameSite=None`, which browsers only accept with `Secure`, so only over https (or on this
    /// machine, where browsers treat http://localhost as secure).
    pub fn check_framing(&self) -> anyhow_like::Result<()> {
        if self.frame_ancestors.is_some() && self.secure_cookies() && !self.public_url.to_ascii_lowercase().starts_with("https://") {
            return Err(format!(
                "HERALD_FRAME_ANCESTORS needs Herald on https: framed sessions use SameSite=None; Secure cookies, which browsers \
                 only send over https. Set HERALD_PUBLIC_URL to the https address (now {}).",
                redact_url(&self.public_url)
            ));
        }
        Ok(())
    }

    /// The `Content-Security-Policy` value every response carries.
    pub fn content_security_policy(&self) -> String {
        format!("frame-ancestors {}", self.frame_ancestors.as_deref().unwrap_or("'none'"))
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

/// Shows everything but the key and the passwords inside URLs (database, SMTP).
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("bind", &self.bind)
            .field("public_url", &redact_url(&self.public_url))
            .field("site_root", &self.site_root)
            .field("engine", &self.engine)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("frame_ancestors", &self.frame_ancestors)
            .finish()
    }
}

/// The URL with the password of its user info and any `password=` query value replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `HERALD_FRAME_ANCESTORS`: sources separated by spaces or commas, each `'self'` or an
/// `https://` (or `http://`) origin (a host name, optionally starting with `*.`, and a port). Anything else (a path,
/// `;`, quotes) is refused, so the value cannot add other directives to the policy.
pub fn parse_frame_ancestors(value: &str) -> anyhow_like::Result<String> {
    let mut sources = Vec::new();
    for source in value.split([' ', ',', '\t']).filter(|s| !s.is_empty()) {
        if source == "'self'" {
            sources.push(source.to_string());
            continue;
        }
        let bad = || {
            format!(
                "HERALD_FRAME_ANCESTORS: {source:?} is not an origin such as https://admin.platform.example \
                 (or https://*.platform.example, or 'self'); separate several with spaces"
            )
        };
        let (scheme, rest) = source.split_once("://").ok_or_else(bad)?;
        if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
            return Err(bad());
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest.split_once(':').map_or((rest, None), |(h, p)| (h, Some(p)));
        let bare = host.strip_prefix("*.").unwrap_or(host);
        let host_ok = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
        if !host_ok || !port_ok {
            return Err(bad());
        }
        sources.push(format!("{}://{rest}", scheme.to_ascii_lowercase()));
    }
    if sources.is_empty() {
        return Err("HERALD_FRAME_ANCESTORS is empty: leave it unset to refuse every frame".into());
    }
    Ok(sources.join(" "))
}

/// Delivery tuning over `engine` (the defaults follow the product rules: 10 s timeout).
fn engine_from_env(engine: &mut domain::delivery::EngineSettings) -> anyhow_like::Result<()> {
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
    if let Some(s) = seconds("HERALD_SHUTDOWN_GRACE_SECS")? {
        engine.shutdown_grace = std::time::Duration::from_secs_f64(s);
    }
    if let Some(n) = var("HERALD_WORKER_CONCURRENCY") {
        engine.concurrency = n.parse().ok().filter(|n| *n > 0).ok_or("HERALD_WORKER_CONCURRENCY must be a positive number")?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(public_url: &str) -> Config {
        let mut config = Config::defaults();
        config.public_url = public_url.to_string();
        config
    }

    #[test]
    fn cookies_are_secure_except_on_plain_http_localhost() {
        for url in ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000/", "http://LOCALHOST"] {
            assert!(!config(url).secure_cookies(), "{url}");
        }
        for url in [
            "https://herald.example.com",
            "https://localhost",
            "http://herald.example.com",
            "http://10.0.0.5",
            "http://0.0.0.0:3000",
            "http://localhost.example.com",
        ] {
            assert!(config(url).secure_cookies(), "{url}");
        }
    }

    #[test]
    fn frame_ancestors_are_origins_and_need_https() {
        assert_eq!(
            parse_frame_ancestors("https://admin.platform.example, https://*.platform.example:8443/ 'self'").unwrap(),
            "https://admin.platform.example https://*.platform.example:8443 'self'"
        );
        for bad in [
            "",
            " ",
            "admin.platform.example",
            "https://a.example; script-src *",
            "https://a.example/path",
            "'none'",
            "*",
            "ftp://a.example",
            "https://a.example:x",
        ] {
            assert!(parse_frame_ancestors(bad).is_err(), "{bad:?}");
        }
        let mut framed = config("http://herald.example.com");
        framed.frame_ancestors = Some("https://admin.platform.example".into());
        assert!(framed.check_framing().unwrap_err().contains("https"));
        for url in ["https://herald.example.com", "http://127.0.0.1:3000"] {
            framed.public_url = url.into();
            assert!(framed.check_framing().is_ok(), "{url}");
        }
        assert_eq!(framed.content_security_policy(), "frame-ancestors https://admin.platform.example");
        assert_eq!(config("https://h.example").content_security_policy(), "frame-ancestors 'none'");
    }

    #[test]
    fn debug_output_hides_the_key_and_passwords_in_urls() {
        let mut config = config("https://herald.example.com");
        config.secret_key = Some("the-secret-key-value".into());
        config.database_url = "postgres://herald:db-password-1@db.internal:5432/herald".into();
        config.smtp_url = Some("smtps://mailer:smtp-password-2@smtp.example.com".into());
        config.metrics_token = Some("the-metrics-token-3".into());
        let shown = format!("{config:?}");
        for secret in ["the-secret-key-value", "db-password-1", "smtp-password-2", "the-metrics-token-3"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("postgres://herald:***@db.internal:5432/herald") && shown.contains("smtp.example.com"), "{shown}");
        assert_eq!(redact_url("postgres://db/herald?user=h&password=pw3"), "postgres://db/herald?user=h&password=***");
        assert_eq!(redact_url("sqlite://./data/herald.db"), "sqlite://./data/herald.db");
    }
}
