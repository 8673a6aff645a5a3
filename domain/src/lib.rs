//! Herald's domain: the model, its storage on SQLite or PostgreSQL, accounts, crypto and mail.
//! The web layers (`app` for the dashboard, `server` for the HTTP API) are thin calls into
//! [`Herald`]; nothing in here knows about Leptos or HTTP.

pub mod accounts;
pub mod api_keys;
pub mod archive;
pub mod audit;
pub mod catalog;
pub mod clock;
pub mod crypto;
pub mod dashboard_links;
pub mod delivery;
pub mod endpoints;
pub mod error;
pub mod event_types;
pub mod filter;
pub mod health;
pub mod ids;
pub mod invitations;
pub mod jobs;
pub mod logs;
pub mod mail;
pub mod messages;
pub mod net;
pub mod platform_keys;
pub mod ratelimit;
pub mod replay;
pub mod roles;
pub mod schema;
pub mod sealed;
pub mod staff;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod tenant_view;
pub mod tenants;

use std::sync::Arc;

pub use error::{Error, Result};
pub use roles::{Actor, Role, StaffRole};
pub use store::Store;

use clock::Clock;
use crypto::Cipher;
use mail::Mailer;

/// Everything the domain needs, shared by every request and worker.
#[derive(Clone)]
pub struct Herald(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub cipher: Cipher,
    pub mailer: Mailer,
    /// Base URL for links in emails, without a trailing slash.
    pub public_url: String,
    pub engine: delivery::EngineSettings,
    pub http: delivery::http::Clients,
    /// Rung after an ingest so a worker in this process starts at once.
    pub wake: tokio::sync::Notify,
    /// Rung with `wake`: tells workers in other processes (see [`delivery::wake`]).
    pub announce: Arc<tokio::sync::Notify>,
    /// Reverse proxies whose `X-Forwarded-For` entries are believed.
    pub trusted_proxies: net::TrustedProxies,
    pub throttle: delivery::throttle::ThrottleCache,
    pub claim_cursor: delivery::ClaimCursor,
    /// What ingest knows of each tenant (see [`tenant_view`]).
    pub tenant_views: tenant_view::TenantViews,
    /// Which tenants have a metrics label of their own (see [`telemetry::TENANT_LABEL_CAP`]).
    pub tenant_labels: telemetry::TenantLabels,
    /// Accepted events wait here for the group commit (see `messages::spawn_ingest_writer`).
    ingest_queue: tokio::sync::mpsc::Sender<messages::IngestJob>,
    /// API keys to check wait here for a shared lookup (see `api_keys::spawn_key_lookups`).
    key_lookups: tokio::sync::mpsc::Sender<api_keys::KeyLookup>,
    /// Finished attempts wait here for the group commit (see `delivery::record`).
    record_queue: tokio::sync::mpsc::Sender<delivery::record::RecordJob>,
    /// The event catalog as this process knows it (see [`event_types`]).
    pub catalog: event_types::CatalogCache,
}

impl std::ops::Deref for Herald {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Herald {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        mailer: Mailer,
        public_url: &str,
        engine: delivery::EngineSettings,
        trusted_proxies: net::TrustedProxies,
    ) -> Herald {
        let announce = Arc::new(tokio::sync::Notify::new());
        delivery::wake::spawn_announcer(&store, announce.clone());
        let ingest_queue = messages::spawn_ingest_writer(store.clone());
        let key_lookups = api_keys::spawn_key_lookups(store.clone());
        Herald(Arc::new_cyclic(|herald| Inner {
            store,
            clock,
            cipher,
            mailer,
            public_url: public_url.trim_end_matches('/').to_string(),
            http: delivery::http::Clients::new(engine.timeout),
            engine,
            wake: tokio::sync::Notify::new(),
            announce,
            trusted_proxies,
            throttle: Default::default(),
            claim_cursor: Default::default(),
            tenant_views: Default::default(),
            tenant_labels: Default::default(),
            ingest_queue,
            key_lookups,
            record_queue: delivery::record::spawn_recorder(herald.clone()),
            catalog: Default::default(),
        }))
    }

    pub fn wake_workers(&self) {
        self.wake.notify_one();
        self.announce.notify_one();
    }

    /// The client's address, for the audit log and throttling: the TCP peer, or what the
    /// trusted proxies in front of Herald forwarded (see [`net::client_address`]).
    pub fn client_ip<'a>(&self, peer: Option<std::net::IpAddr>, forwarded_for: impl IntoIterator<Item = &'a str>) -> Option<String> {
        peer.map(|peer| net::client_address(peer, forwarded_for, &self.trusted_proxies).to_string())
    }
}
