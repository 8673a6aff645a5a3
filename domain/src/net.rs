//! Where Herald may send requests. Endpoint URLs that point into private, loopback or
//! link-local networks are refused unless the operator allowed them for the tenant; the same
//! check runs again on the resolved addresses at delivery time (DNS can change).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True for addresses a public webhook must never reach.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 64:ff9b::/96 can reach v4 space
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
        }
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

/// Host names that only make sense inside a private network.
pub fn is_private_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || [".localhost", ".local", ".internal", ".lan", ".home.arpa"].iter().any(|s| host.ends_with(s))
        || !host.contains('.')
}

/// The client address recorded in the audit log. The socket's peer, unless that peer is a
/// proxy on a private or loopback address (a reverse proxy in front of Herald): then the last
/// address of `X-Forwarded-For`, the one that proxy appended. Addresses further left are
/// whatever the client claimed and are not trusted.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<String> {
    let forwarded = forwarded_for.and_then(|v| v.rsplit(',').next()).map(str::trim).and_then(|v| v.parse::<IpAddr>().ok());
    match (peer, forwarded) {
        (Some(p), Some(f)) if is_private(p) => Some(f.to_string()),
        (Some(p), _) => Some(p.to_string()),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_trusts_only_a_local_proxy() {
        let local = Some("127.0.0.1".parse().unwrap());
        let public = Some("93.184.216.34".parse().unwrap());
        assert_eq!(client_ip(local, None).as_deref(), Some("127.0.0.1"));
        assert_eq!(client_ip(local, Some("6.6.6.6, 1.2.3.4")).as_deref(), Some("1.2.3.4"));
        assert_eq!(client_ip(public, Some("1.2.3.4")).as_deref(), Some("93.184.216.34"), "a client cannot claim another address");
        assert_eq!(client_ip(local, Some("garbage")).as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn private_ranges_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    #[test]
    fn private_host_names_are_recognised() {
        assert!(is_private_host_name("localhost"));
        assert!(is_private_host_name("printer.local"));
        assert!(is_private_host_name("intranet"));
        assert!(!is_private_host_name("hooks.example.com"));
    }
}
