//! Where Herald may send requests, and who is asking.
//!
//! Endpoint URLs that point into private or loopback networks are refused unless the operator
//! allowed them for the tenant; link-local, unspecified and cloud metadata addresses are refused
//! always. The same checks run again on the resolved addresses at delivery time (DNS can
//! change). An IPv6 address that carries an IPv4 one (mapped, compatible, NAT64, 6to4, Teredo)
//! is judged by the IPv4 address it carries.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// True for addresses a public webhook must never reach.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_private_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed in places)
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 prefixes other than the well-known /96 (local use)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
                || s[0..6] == [0, 0, 0, 0, 0, 0] // the rest of ::/96, IPv4-compatible
        }
    }
}

/// True for addresses no webhook may reach, even where the operator allowed private ones:
/// link-local (where cloud metadata services live), unspecified, and known metadata addresses.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_forbidden_v4(v4);
            }
            v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata over IPv6
        }
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    ip.is_link_local() // 169.254.0.0/16, including 169.254.169.254
        || ip.octets()[0] == 0 // 0.0.0.0/8: "this host", reaches the local machine
        || ip == Ipv4Addr::new(100, 100, 100, 200) // Alibaba Cloud metadata
}

/// The IPv4 address hidden in an IPv6 one, for the forms that route to IPv4 space.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(v4(s[6], s[7])); // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible), not :: or ::1
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(v4(s[6], s[7])); // NAT64 well-known prefix 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return Some(v4(s[1], s[2])); // 6to4 2002::/16
    }
    if s[0] == 0x2001 && s[1] == 0 {
        return Some(v4(!s[6], !s[7])); // Teredo 2001::/32: the client's address, bits inverted
    }
    None
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
        || is_metadata_host_name(&host)
}

/// Names of cloud metadata services, refused even where private URLs are allowed.
pub fn is_metadata_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal", "metadata.azure.internal"]
        .contains(&host.as_str())
        || host.ends_with(".metadata.google.internal")
}

/// Whether a delivery may go to `ip` under the tenant's policy.
pub fn may_reach(ip: IpAddr, allow_private: bool) -> bool {
    !is_forbidden(ip) && (allow_private || !is_private(ip))
}

/// The reverse proxies in front of Herald (`HERALD_TRUSTED_PROXIES`): only their
/// `X-Forwarded-For` entries are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A list of CIDRs or single addresses, separated by commas or spaces.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("HERALD_TRUSTED_PROXIES: {s:?} is not an address or a CIDR such as 10.0.0.0/8"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4 peer on a dual-stack socket shows up as `::ffff:a.b.c.d`; treat it as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address, for the audit log and sign-in throttling: the TCP peer, unless that
/// peer is a trusted proxy; then the right-most `X-Forwarded-For` entry that is not itself a
/// trusted proxy (each proxy appends the address it saw, so anything left of that is only what
/// the client claimed). `forwarded_for` holds every line of the header, in order.
pub fn client_address<'a>(peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a str>, trusted: &TrustedProxies) -> IpAddr {
    let mut client = canonical(peer);
    if !trusted.contains(client) {
        return client;
    }
    let entries: Vec<&str> = forwarded_for.into_iter().flat_map(|line| line.split(',')).map(str::trim).collect();
    for entry in entries.into_iter().rev() {
        // A malformed entry came from a client or a broken proxy: nothing left of it is known.
        let Some(ip) = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip())) else {
            return client;
        };
        client = canonical(ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_address_believes_only_trusted_proxies() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        let client = |peer: &str, lines: &[&str], trusted: &TrustedProxies| client_address(ip(peer), lines.iter().copied(), trusted);
        assert_eq!(client("127.0.0.1", &["6.6.6.6"], &none), ip("127.0.0.1"), "no trusted proxy: the header is ignored");
        assert_eq!(client("93.184.216.34", &["1.2.3.4"], &proxies), ip("93.184.216.34"), "an untrusted peer cannot claim another address");
        assert_eq!(client("10.1.1.1", &["6.6.6.6, 1.2.3.4"], &proxies), ip("1.2.3.4"), "the right-most entry, not the forgeable first");
        assert_eq!(client("10.1.1.1", &["6.6.6.6", "1.2.3.4"], &proxies), ip("1.2.3.4"), "a forged first header line is not read");
        assert_eq!(client("10.1.1.1", &["1.2.3.4, 192.0.2.1, 10.9.9.9"], &proxies), ip("1.2.3.4"), "chained trusted proxies are skipped");
        assert_eq!(client("10.1.1.1", &["1.2.3.4, garbage, 10.9.9.9"], &proxies), ip("10.9.9.9"), "nothing left of garbage is believed");
        assert_eq!(client("10.1.1.1", &[], &proxies), ip("10.1.1.1"));
        assert_eq!(client("10.1.1.1", &["10.2.2.2"], &proxies), ip("10.2.2.2"), "only proxies: the farthest one");
        assert_eq!(client("::ffff:10.1.1.1", &["[2001:db8::1]:4711"], &proxies), ip("2001:db8::1"), "dual-stack peers and ports");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
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
            "::",
            "fe80::1",
            "fd00::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",  // NAT64 of 10.0.0.1
            "64:ff9b::7f00:1", // NAT64 of 127.0.0.1
            "64:ff9b:1::808:808",
            "2002:a00:1::",                         // 6to4 of 10.0.0.1
            "2002:c0a8:101::1",                     // 6to4 of 192.168.1.1
            "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo, client 10.0.0.1
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101", "2002:101:101::"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    #[test]
    fn link_local_unspecified_and_metadata_are_never_reachable() {
        for ip in [
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "::",
            "fe80::1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::",
            "fd00:ec2::254",
            "100.100.100.200",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip} should be forbidden");
            assert!(!may_reach(ip.parse().unwrap(), true), "{ip} even where private addresses are allowed");
        }
        for ip in ["127.0.0.1", "10.0.0.1", "::1", "fd00::1", "93.184.216.34"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} is only private (or public)");
            assert!(may_reach(ip.parse().unwrap(), true));
        }
        assert!(!may_reach("10.0.0.1".parse().unwrap(), false));
    }

    #[test]
    fn private_host_names_are_recognised() {
        assert!(is_private_host_name("localhost"));
        assert!(is_private_host_name("printer.local"));
        assert!(is_private_host_name("intranet"));
        assert!(!is_private_host_name("hooks.example.com"));
        for name in ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata", "metadata.goog", "instance-data"] {
            assert!(is_metadata_host_name(name), "{name}");
        }
        assert!(!is_metadata_host_name("metadata.example.com"));
    }
}
