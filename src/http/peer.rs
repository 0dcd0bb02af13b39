//! Who is on the other end of the connection: the peer address, or behind
//! configured reverse proxies, the first `X-Forwarded-For` hop that is not one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The client's address; unspecified (`0.0.0.0`) when the server was not
/// started with connection info (only in tests that call the router directly).
pub fn client_ip(extensions: &Extensions, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer =
        extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
    forwarded_client(peer, headers, trusted)
}

fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Each proxy appends the address it received from: read right to left,
    // past our own proxies; anything further left could be made up by the client.
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    hops.iter().rev().find(|ip| !is_trusted(ip)).or(hops.first()).copied().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert("x-forwarded-for", value.parse().unwrap());
            map
        };
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        // A client talking to us directly cannot claim another address.
        assert_eq!(forwarded_client(ip("203.0.113.9"), &headers("198.51.100.1"), &trusted), ip("203.0.113.9"));
        // Behind our proxy: the last hop that is not ours, whatever the client prepended.
        let chain = headers("6.6.6.6, 198.51.100.1, 10.1.2.3");
        assert_eq!(forwarded_client(ip("127.0.0.1"), &chain, &trusted), ip("198.51.100.1"));
        // No header, or a garbled one: the proxy itself.
        assert_eq!(forwarded_client(ip("10.0.0.5"), &HeaderMap::new(), &trusted), ip("10.0.0.5"));
        assert_eq!(forwarded_client(ip("10.0.0.5"), &headers("not an ip"), &trusted), ip("10.0.0.5"));
        // Nothing trusted: always the peer.
        assert_eq!(forwarded_client(ip("127.0.0.1"), &chain, &[]), ip("127.0.0.1"));
    }
}
