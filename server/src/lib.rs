//! The `herald` server: wires the domain to the dashboard (Leptos) and the JSON API (axum),
//! and runs the background tasks.

pub mod api;
pub mod bench;
pub mod bench_logs;
pub mod config;
mod links;
pub mod ops;
mod sessions;
mod web;

use sessions::SessionStore;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use domain::clock::Clock;
use domain::crypto::Cipher;
use domain::mail::Mailer;
use domain::{Herald, Store};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::Config;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub herald: Herald,
    pub leptos_options: LeptosOptions,
}

/// Opens the database (running migrations) and assembles the domain.
pub async fn open(config: &mut Config, clock: Arc<dyn Clock>) -> Result<Herald, String> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| format!("create {}: {e}", config.data_dir.display()))?;
    }
    let store = Store::connect(&config.database_url).await.map_err(|e| format!("{e:?}"))?;
    SessionStore::new(&store).migrate().await.map_err(|e| format!("{e:?}"))?;
    let cipher = Cipher::from_secret(&config.secret_key()?);
    let mailer =
        Mailer::new(config.smtp_url.as_deref(), config.data_dir.join("outbox"), &config.mail_from).map_err(|e| format!("{e:?}"))?;
    let herald = Herald::new(store, clock, cipher, mailer, &config.public_url, config.engine.clone(), config.trusted_proxies.clone());
    herald.check_secret_key().await?;
    herald.reload_catalog().await.map_err(|e| format!("load the event catalog: {e:?}"))?;
    Ok(herald)
}

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder().output_name("herald").site_root(config.site_root.as_str()).site_pkg_dir("pkg").site_addr(config.bind).build()
}

/// The whole HTTP surface: dashboard pages, server functions, `/api/v1`, and the operations
/// routes (`/healthz`, `/readyz`, `/metrics`); every request under a request id.
pub fn router(herald: Herald, config: &Config) -> Router {
    let options = leptos_options(config);
    // A dashboard framed by another site (HERALD_FRAME_ANCESTORS) only keeps its session with
    // cookies sent in cross-site frames: SameSite=None, which browsers require to be Secure.
    // CSRF stays guarded by `web::csrf_guard` (the framed dashboard's own requests are
    // same-origin; another site's are not).
    let framed = config.frame_ancestors.is_some();
    let secure_cookies = config.secure_cookies() || framed;
    let ops = ops::Ops::new(herald.clone(), config.metrics_token.as_deref());
    let sessions = SessionManagerLayer::new(SessionStore::new(&herald.store))
        .with_name(web::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(if framed { SameSite::None } else { SameSite::Lax })
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    let state = AppState { herald: herald.clone(), leptos_options: options.clone() };
    let routes = dashboard_routes();
    let context = move || {
        provide_context(herald.clone());
        provide_context(app::api::OpenApiDocument(api::docs::openapi_text()));
    };
    Router::new()
        .merge(ops::routes(ops))
        .nest("/api/v1", api::routes(state.herald.clone()))
        .route(&format!("{}{{token}}", domain::dashboard_links::PATH), axum::routing::get(links::open))
        .leptos_routes_with_context(&state, routes, context, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(from_fn_with_state(state.herald.clone(), web::page_session))
        .layer(from_fn(web::csrf_guard))
        .layer(sessions)
        .layer(from_fn_with_state(web::FramePolicy::new(config), web::frame_policy))
        .layer(from_fn(web::body_limit))
        .layer(DefaultBodyLimit::max(domain::messages::MAX_BODY))
        .layer(from_fn(ops::request_id))
        .with_state(state)
}

/// The dashboard's routes, listed once per process. Listing them runs the app with resource
/// loading switched off by a process-wide flag (leptos_router's `SuppressResourceLoad`), and a
/// resource that a page render first polls while that flag is up waits forever: listing them
/// for every router (as each test app did) hung one page render in a few hundred.
fn dashboard_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// How often archival looks for deliveries past their tenant's retention.
pub const ARCHIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Housekeeping that every process may run: expired sessions are removed hourly, and
/// deliveries past retention are archived every 15 minutes (in small batches with pauses;
/// idempotent, so several processes on PostgreSQL may run it side by side).
pub fn spawn_housekeeping(herald: Herald) -> tokio::task::JoinHandle<()> {
    let archiver = herald.clone();
    tokio::spawn(async move {
        // Let the server start up first.
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        if archiver.sqlite_auto_vacuum().await.ok().flatten() == Some(0) {
            tracing::info!("this SQLite database predates incremental vacuum: archived space is reused by new rows, but the file does not shrink (run VACUUM once, offline, to change that)");
        }
        let mut every = tokio::time::interval(ARCHIVE_EVERY);
        loop {
            every.tick().await;
            if let Err(err) = archiver.archive_once().await {
                tracing::warn!(error = ?err, "archival run failed; it resumes on the next run");
            }
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(err) = SessionStore::new(&herald.store).delete_expired_sessions().await {
                tracing::warn!(error = ?err, "could not delete expired sessions");
            }
        }
    })
}
