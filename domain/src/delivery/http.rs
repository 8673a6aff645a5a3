//! Outbound HTTP: pooled keep-alive clients, no redirects, a timeout, and a resolver that
//! refuses private addresses at connect time (so DNS cannot be re-pointed after validation).

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net::is_private;

/// Resolves host names, keeping only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to a private, loopback or link-local address; refused").into();
                return Err(err);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// One client for tenants held to public addresses, one for tenants the operator allowed
/// private addresses; both keep connections alive between deliveries.
#[derive(Clone)]
pub struct Clients {
    pub public: reqwest::Client,
    pub private: reqwest::Client,
    pub timeout: Duration,
}

impl Clients {
    pub fn new(timeout: Duration) -> Clients {
        let base = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(32)
                .pool_idle_timeout(Duration::from_secs(90))
        };
        Clients {
            // Building a client only fails when TLS cannot initialise, which is not recoverable.
            public: base().dns_resolver(std::sync::Arc::new(PublicOnly)).build().expect("HTTP client"),
            private: base().build().expect("HTTP client"),
            timeout,
        }
    }

    pub fn for_tenant(&self, allow_private: bool) -> &reqwest::Client {
        if allow_private {
            &self.private
        } else {
            &self.public
        }
    }
}

/// The deepest cause of an error, which is what a person can act on.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
