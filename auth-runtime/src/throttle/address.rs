//! The client address a request comes from: the socket's peer, or, behind proxies
//! the application declares, the address they forwarded.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

/// The proxies (load balancers) in front of the application whose
/// `X-Forwarded-For` is believed: addresses or CIDR blocks.
///
/// ```
/// use warden_runtime::TrustedProxies;
/// let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.168.1.1"]).unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.168.1.2".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses and CIDR blocks; `Err` names the first one that is neither.
    pub fn parse<I, S>(entries: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        entries
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref();
                let (address, prefix) = match entry.split_once('/') {
                    Some((address, prefix)) => (address, Some(prefix)),
                    None => (entry, None),
                };
                let address: IpAddr = address.parse().map_err(|_| {
                    format!("trusted proxy {entry:?} is not an IP address or CIDR block")
                })?;
                let max = if address.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    None => max,
                    Some(prefix) => prefix
                        .parse::<u8>()
                        .ok()
                        .filter(|prefix| *prefix <= max)
                        .ok_or_else(|| {
                            format!("trusted proxy {entry:?} has a bad prefix length")
                        })?,
                };
                Ok((address, prefix))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `address` is one of the proxies.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0
            .iter()
            .any(|(network, prefix)| in_block(address, *network, *prefix))
    }
}

fn in_block(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let bits = |address: IpAddr| -> u128 {
        match address {
            IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
            IpAddr::V6(v6) => u128::from(v6),
        }
    };
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    if address.is_ipv4() != network.is_ipv4() {
        return false;
    }
    // IPv4 addresses sit in the top 32 bits, so one prefix length fits both.
    let width = u32::from(prefix);
    if width == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - width);
    bits(address) & mask == bits(network) & mask
}

/// The request's client address: the socket peer (`ConnectInfo`, which
/// `warden::serve` provides), or, when that peer is a trusted proxy, the rightmost
/// `X-Forwarded-For` entry that is not one (the leftmost ones are the client's to
/// invent). `None` when the server gives no peer address.
pub(crate) fn client_address(
    extensions: &Extensions,
    headers: &HeaderMap,
    proxies: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !proxies.contains(peer) {
        if undeclared_proxy(peer, headers, proxies) && !PROXY_SAID.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                peer = %peer,
                "requests from a loopback or private address carry X-Forwarded-For, but no trusted proxies are declared: every client behind that proxy shares its address, and one client's failed logins throttle them all (declare it with WardenBuilder::trusted_proxies)"
            );
        }
        return Some(peer);
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    // From the right, past our own proxies; an entry that does not read as an address
    // ends the walk (what is left of it is the client's to invent).
    for entry in entries.into_iter().rev() {
        match parse_forwarded(entry) {
            Some(address) if proxies.contains(address) => continue,
            Some(address) => return Some(address),
            None => break,
        }
    }
    Some(peer)
}

/// Whether the undeclared-proxy warning was logged (once per process).
static PROXY_SAID: AtomicBool = AtomicBool::new(false);

/// Whether `peer` looks like a proxy nobody declared: a loopback or private
/// address (RFC 1918, RFC 4193 unique-local) forwarding `X-Forwarded-For` while no
/// trusted proxies are configured.
fn undeclared_proxy(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> bool {
    let private = match peer {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || v4.is_private(),
            None => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
        },
    };
    private && proxies.0.is_empty() && headers.contains_key("x-forwarded-for")
}

/// An `X-Forwarded-For` entry: an address, or an address with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some load balancers write it.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address);
    }
    entry.parse::<SocketAddr>().ok().map(|socket| socket.ip())
}

/// What one client is: its IPv4 address, or its IPv6 /64 (one subscriber's
/// allocation, which they can cycle through freely).
pub(crate) fn bucket(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let segments = v6.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> (Extensions, HeaderMap) {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        let mut headers = HeaderMap::new();
        if let Some(forwarded) = forwarded {
            headers.insert("x-forwarded-for", forwarded.parse().unwrap());
        }
        (extensions, headers)
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let address = |peer, forwarded| {
            let (extensions, headers) = request(peer, forwarded);
            client_address(&extensions, &headers, &proxies).map(|a| a.to_string())
        };
        // Straight from the client: its claim is ignored.
        assert_eq!(
            address("203.0.113.9:5000", Some("1.2.3.4")).as_deref(),
            Some("203.0.113.9")
        );
        // Through our proxy: the rightmost untrusted entry, not the invented leftmost.
        assert_eq!(
            address("10.0.0.2:5000", Some("1.2.3.4, 198.51.100.7, 10.0.0.3")).as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(address("10.0.0.2:5000", None).as_deref(), Some("10.0.0.2"));
        // Ports are read; an unreadable entry ends the walk instead of being skipped.
        assert_eq!(
            address("10.0.0.2:5000", Some("1.2.3.4, 198.51.100.7:4711")).as_deref(),
            Some("198.51.100.7")
        );
        assert_eq!(
            address("10.0.0.2:5000", Some("1.2.3.4, garbage, 10.0.0.3")).as_deref(),
            Some("10.0.0.2")
        );
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(["proxy.local"]).is_err());
    }

    #[test]
    fn forwarded_headers_from_a_private_peer_without_proxies_are_noticed() {
        let none = TrustedProxies::default();
        let (_, forwarded) = request("127.0.0.1:1", Some("198.51.100.1"));
        let (_, plain) = request("127.0.0.1:1", None);
        for peer in ["127.0.0.1", "10.1.2.3", "192.168.0.9", "::1", "fd00::1"] {
            assert!(
                undeclared_proxy(peer.parse().unwrap(), &forwarded, &none),
                "{peer}"
            );
        }
        // A public peer's header is its own invention; no header, nothing to say;
        // declared proxies, nothing either.
        assert!(!undeclared_proxy(
            "203.0.113.9".parse().unwrap(),
            &forwarded,
            &none
        ));
        assert!(!undeclared_proxy(
            "127.0.0.1".parse().unwrap(),
            &plain,
            &none
        ));
        let declared = TrustedProxies::parse(["10.9.9.9"]).unwrap();
        assert!(!undeclared_proxy(
            "127.0.0.1".parse().unwrap(),
            &forwarded,
            &declared
        ));
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        assert_eq!(
            bucket("2001:db8:1:2:aaaa::1".parse().unwrap()),
            bucket("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_eq!(bucket("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
