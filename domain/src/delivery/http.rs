//! Outbound HTTP: pooled keep-alive clients, no redirects, no proxy, a timeout, and a resolver
//! that refuses addresses the tenant may not reach at connect time (so DNS cannot be re-pointed
//! after validation).

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net;

/// Resolves host names, keeping only the addresses the tenant's policy reaches.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let refuse = |why: &str| -> Box<dyn std::error::Error + Send + Sync> { format!("{host} {why}; refused").into() };
            if net::is_metadata_host_name(&host) {
                return Err(refuse("is a cloud metadata service"));
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| net::may_reach(a.ip(), allow_private)).collect();
            if allowed.is_empty() {
                let why = if allow_private {
                    "resolves to a link-local, unspecified or metadata address"
                } else {
                    "resolves to a private, loopback or link-local address"
                };
                return Err(refuse(why));
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
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
                // A proxy from the environment would resolve names itself, past the guard.
                .no_proxy()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(32)
                .pool_idle_timeout(Duration::from_secs(90))
        };
        Clients {
            // Building a client only fails when TLS cannot initialise, which is not recoverable.
            public: base().dns_resolver(std::sync::Arc::new(Guarded { allow_private: false })).build().expect("HTTP client"),
            private: base().dns_resolver(std::sync::Arc::new(Guarded { allow_private: true })).build().expect("HTTP client"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Answers one request on `listener` with `status`.
    async fn answer(listener: TcpListener, status: &'static str) {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf).await;
        let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        conn.write_all(reply.as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn proxy_settings_in_the_environment_are_ignored() {
        // A "proxy" that would get the request if the environment's proxy were used.
        let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/hook", receiver.local_addr().unwrap());
        let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
        let vars =
            [("HTTP_PROXY", proxy_url.as_str()), ("http_proxy", &proxy_url), ("ALL_PROXY", &proxy_url), ("NO_PROXY", ""), ("no_proxy", "")];
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
        let clients = Clients::new(Duration::from_secs(5));
        for (name, _) in vars {
            std::env::remove_var(name);
        }
        tokio::spawn(answer(receiver, "204 No Content"));
        tokio::spawn(answer(proxy, "502 Bad Gateway"));
        let r = clients.private.post(&target).send().await.unwrap();
        assert_eq!(r.status(), 204, "sent straight to the receiver, not through the proxy");
    }
}
