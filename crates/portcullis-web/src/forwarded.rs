//! The client's address behind load balancers and reverse proxies.
//!
//! A forwarding header (`X-Forwarded-For`, or RFC 7239 `Forwarded`) is believed only when the
//! TCP peer is a trusted proxy, and then only as far as trusted hops go: the list is read from
//! the right (each proxy appends the address it received the request from), trusted addresses
//! are skipped, and the first untrusted one is the client. Anything left of it was written by
//! the client and is ignored. A peer outside the trusted set is the client, whatever it sends.

use std::{net::IpAddr, str::FromStr};

use axum::http::{header, HeaderMap, HeaderName};
use ipnet::IpNet;

/// The header the trusted proxies write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> HeaderName {
        match self {
            ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ForwardedHeader::Forwarded => header::FORWARDED,
        }
    }
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!(
                "forwarded header {other:?}: expected x-forwarded-for or forwarded"
            )),
        }
    }
}

/// The proxies whose forwarding header is believed, and which header they write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Trusts `networks` (CIDR blocks; a bare address is a block of one).
    pub fn new(networks: Vec<IpNet>, header: ForwardedHeader) -> Self {
        TrustedProxies { networks, header }
    }

    /// Parses `10.0.0.0/8, 192.0.2.7, fd00::/8` (commas or whitespace between entries).
    pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
        text.split([',', ' ', '\t', '\n'])
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("trusted proxy {entry:?} is not an address or CIDR block"))
            })
            .collect()
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.networks
    }

    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several header lines are one comma-separated list, in order (RFC 9110 §5.3).
        let lines = headers
            .get_all(self.header.name())
            .iter()
            .map(|value| value.to_str().unwrap_or_default())
            .collect::<Vec<_>>();
        let hops = lines.iter().rev().flat_map(|line| split_list(line).rev());
        for hop in hops {
            let parsed = match self.header {
                ForwardedHeader::XForwardedFor => parse_node(hop),
                ForwardedHeader::Forwarded => forwarded_for(hop).and_then(parse_node),
            };
            // An entry we cannot read (`unknown`, an obfuscated name, garbage) ends the walk:
            // nothing left of it can be placed, so the last hop we could place is the client.
            let Some(address) = parsed else { break };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The elements of a comma-separated header value, commas inside quoted strings kept.
fn split_list(line: &str) -> impl DoubleEndedIterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, byte) in line.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                parts.push(line[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(line[start..].trim());
    parts.into_iter()
}

/// The `for` parameter of one `Forwarded` element (RFC 7239 §4), unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Some(rest) = node.strip_prefix('[') {
        let (address, _port) = rest.split_once(']')?;
        return address.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    node.parse::<IpAddr>().ok().or_else(|| {
        let (address, port) = node.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(networks: &str, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::new(TrustedProxies::parse_networks(networks).unwrap(), header)
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_str(name).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let trusted = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        let sent = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(
            trusted.client_address(ip("198.51.100.1"), &sent),
            ip("198.51.100.1")
        );
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client_address(ip("10.0.0.1"), &sent), ip("10.0.0.1"));
    }

    #[test]
    fn x_forwarded_for_is_walked_from_the_right_past_trusted_hops() {
        let trusted = proxies("10.0.0.0/8, 192.0.2.7", ForwardedHeader::XForwardedFor);
        // The client wrote the first entry itself; the proxies appended the rest.
        let sent = headers(
            "x-forwarded-for",
            &["6.6.6.6, 203.0.113.9", "192.0.2.7,10.1.1.1"],
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &sent),
            ip("203.0.113.9")
        );
        // With ports, brackets and IPv4-mapped IPv6.
        let sent = headers("x-forwarded-for", &["[2001:db8::5]:443, 10.2.2.2:8080"]);
        assert_eq!(
            trusted.client_address(ip("::ffff:10.0.0.1"), &sent),
            ip("2001:db8::5")
        );
        // No header: the proxy itself.
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        // Every hop trusted: the leftmost.
        let sent = headers("x-forwarded-for", &["10.9.9.9, 10.8.8.8"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &sent),
            ip("10.9.9.9")
        );
        // Garbage ends the walk at the last hop that could be placed.
        let sent = headers("x-forwarded-for", &["203.0.113.9, nonsense, 10.3.3.3"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &sent),
            ip("10.3.3.3")
        );
    }

    #[test]
    fn forwarded_is_read_by_its_for_parameter() {
        let trusted = proxies("10.0.0.0/8", ForwardedHeader::Forwarded);
        let sent = headers(
            "forwarded",
            &[
                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=\"x,y\"",
                "For=10.4.4.4;proto=http",
            ],
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &sent),
            ip("2001:db8:cafe::17")
        );
        let hidden = headers("forwarded", &["for=203.0.113.9, for=_hidden"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &hidden),
            ip("10.0.0.1")
        );
        // The other header is not read.
        let other = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &other),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn networks_parse_as_blocks_or_single_addresses() {
        let networks = TrustedProxies::parse_networks("10.1.2.3/8,192.0.2.7 ::1").unwrap();
        assert_eq!(
            networks.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]
        );
        assert!(TrustedProxies::parse_networks("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse_networks("proxy.example").is_err());
        assert_eq!("Forwarded".parse(), Ok(ForwardedHeader::Forwarded));
        assert!("x-real-ip".parse::<ForwardedHeader>().is_err());
    }
}
