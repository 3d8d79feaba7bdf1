//! The address guard: which addresses an untrusted URL (an article link, a
//! robots.txt, a redirect hop) may make us connect to.
//!
//! The check runs where the connection is made, not before it: the guarded
//! HTTP client resolves names through [`GuardedResolver`], which drops every
//! non-public address and fails when none is left, so reqwest can only
//! connect to an address that passed. A name that answers a public address
//! to a first lookup and 127.0.0.1 to the next (DNS rebinding) gains
//! nothing, because there is no second lookup. Hosts written as IP
//! literals are never resolved; [`check_literal`] covers them.
//!
//! Refused (see [`is_non_public`]): loopback, private, link-local (the
//! 169.254.169.254 metadata service), CGNAT, unspecified, broadcast,
//! multicast, documentation, benchmarking and reserved IPv4 ranges; IPv6
//! loopback, unspecified, unique-local, link-local, site-local, multicast,
//! documentation, discard-only, Teredo and local-use NAT64; and IPv6 forms
//! that carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated,
//! NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) when the address they carry is
//! refused.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, as [`Lookup`] returns.
pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. The system resolver by default;
/// embedders and tests may supply their own (a fixed table, a resolver that
/// changes its answers).
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The operating system's resolver (getaddrinfo on a blocking thread).
#[derive(Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses.map(|socket| socket.ip()).collect())
        })
    }
}

/// The error a guarded connection fails with when a host has no public
/// address. [`crate::http`] finds it in reqwest's error chain and reports
/// the fetch as refused.
#[derive(Debug)]
pub struct NonPublicAddress {
    pub host: String,
    pub addresses: Vec<IpAddr>,
}

impl std::fmt::Display for NonPublicAddress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let listed: Vec<String> = self.addresses.iter().map(IpAddr::to_string).collect();
        write!(
            formatter,
            "{} resolves only to addresses that are not public ({})",
            self.host,
            listed.join(", ")
        )
    }
}

impl std::error::Error for NonPublicAddress {}

/// reqwest's resolver for untrusted requests: looks the name up once and
/// hands reqwest only the addresses that are public or explicitly allowed.
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    allowed: Arc<[IpAddr]>,
}

impl GuardedResolver {
    pub fn new(lookup: Arc<dyn Lookup>, allowed: &[IpAddr]) -> GuardedResolver {
        GuardedResolver {
            lookup,
            allowed: allowed.into(),
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.lookup.lookup(&host);
        let allowed = Arc::clone(&self.allowed);
        Box::pin(async move {
            let addresses = lookup.await?;
            let (kept, refused): (Vec<IpAddr>, Vec<IpAddr>) = addresses
                .into_iter()
                .partition(|address| permitted(*address, &allowed));
            if kept.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> = Box::new(NonPublicAddress {
                    host,
                    addresses: refused,
                });
                return Err(error);
            }
            if !refused.is_empty() {
                tracing::debug!(host = %host, refused = ?refused, "dropped non-public addresses of a host");
            }
            let sockets: reqwest::dns::Addrs =
                Box::new(kept.into_iter().map(|address| SocketAddr::new(address, 0)));
            Ok(sockets)
        })
    }
}

/// Whether the guard lets a connection go to `address`.
pub fn permitted(address: IpAddr, allowed: &[IpAddr]) -> bool {
    !is_non_public(address) || allowed.contains(&address)
}

/// For a host written as an IP literal (which no resolver sees): the
/// address, when the guard refuses it.
pub fn check_literal(host: &url::Host<&str>, allowed: &[IpAddr]) -> Option<IpAddr> {
    let address = match host {
        url::Host::Domain(_) => return None,
        url::Host::Ipv4(v4) => IpAddr::V4(*v4),
        url::Host::Ipv6(v6) => IpAddr::V6(*v6),
    };
    (!permitted(address, allowed)).then_some(address)
}

/// Addresses an untrusted link must not reach (see the module docs).
pub fn is_non_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => is_non_public_v6(v6),
    }
}

fn is_non_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network", 0.0.0.0/8
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
}

fn is_non_public_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    if v6.is_loopback() || v6.is_unspecified() {
        return true;
    }
    // IPv4-compatible (::a.b.c.d, deprecated and never routed) and
    // IPv4-mapped (::ffff:a.b.c.d).
    if segments[..5] == [0; 5] && (segments[5] == 0 || segments[5] == 0xffff) {
        return segments[5] == 0 || is_non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    // IPv4-translated, ::ffff:0:a.b.c.d.
    if segments[..4] == [0; 4] && segments[4] == 0xffff && segments[5] == 0 {
        return is_non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    // NAT64 well-known prefix 64:ff9b::/96: as the IPv4 address it reaches.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    // 6to4, 2002:AABB:CCDD::/48: as the IPv4 address it tunnels to.
    if segments[0] == 0x2002 {
        return is_non_public_v4(embedded_v4(segments[1], segments[2]));
    }
    let first = segments[0];
    (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x64 && segments[1] == 0xff9b && segments[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || (first == 0x2001 && segments[1] == 0) // Teredo 2001::/32: the IPv4 ends are hidden
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || (first == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_metadata_and_reserved_addresses_are_not_public() {
        for text in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "224.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_non_public(text.parse().unwrap()), "{text}");
        }
        assert!(!is_non_public("93.184.216.34".parse().unwrap()));
        assert!(!is_non_public("2606:4700::1111".parse().unwrap()));
        assert!(!is_non_public("::ffff:93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn ipv6_forms_that_carry_a_private_ipv4_address_are_not_public() {
        for text in [
            "::127.0.0.1",         // IPv4-compatible
            "::10.0.0.1",          // IPv4-compatible
            "::ffff:0:127.0.0.1",  // IPv4-translated
            "64:ff9b::7f00:1",     // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe",  // NAT64 of 169.254.169.254
            "64:ff9b:1::1",        // local-use NAT64
            "2002:7f00:1::1",      // 6to4 of 127.0.0.1
            "2002:a00:1::",        // 6to4 of 10.0.0.1
            "fec0::1",             // site-local
            "ff02::1",             // multicast
            "2001:0:4136:e378::1", // Teredo
            "2001:db8::1",         // documentation
            "100::1",              // discard-only
        ] {
            assert!(is_non_public(text.parse().unwrap()), "{text}");
        }
        // The same forms around a public IPv4 address stay usable where
        // the form itself is routed.
        assert!(!is_non_public("64:ff9b::5db8:d822".parse().unwrap()));
        assert!(!is_non_public("2002:5db8:d822::1".parse().unwrap()));
    }

    #[test]
    fn literal_hosts_are_checked_and_allowed_addresses_pass() {
        let url = url::Url::parse("http://[::127.0.0.1]:8080/admin").unwrap();
        assert!(check_literal(&url.host().unwrap(), &[]).is_some());
        let url = url::Url::parse("http://127.0.0.1:8080/").unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(check_literal(&url.host().unwrap(), &[]), Some(loopback));
        assert_eq!(check_literal(&url.host().unwrap(), &[loopback]), None);
        let url = url::Url::parse("http://news.example/").unwrap();
        assert_eq!(check_literal(&url.host().unwrap(), &[]), None);
    }
}
