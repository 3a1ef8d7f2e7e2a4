//! Who is on the other end of a connection: the client's address, read through the reverse
//! proxies the configuration trusts (`[server] trusted_proxies`), and network allow-lists.
//! Addresses are used for throttling and allow-lists only; nothing here logs or stores them.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it saw, so entries left of the last untrusted one may be forged).
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // An unreadable entry: stop at the last address we could trust.
            Err(_) => break,
        }
    }
    client
}

/// Whether `ip` is inside one of `nets`; an empty list allows every address.
pub fn allowed(ip: IpAddr, nets: &[IpNet]) -> bool {
    nets.is_empty() || nets.iter().any(|n| n.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(xff: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("x-forwarded-for", xff.parse().unwrap());
        m
    }

    #[test]
    fn forwarded_only_through_trusted_proxies() {
        let proxy: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // Not behind a trusted proxy: the header is ignored.
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(&h("198.51.100.1"), outsider, &proxy), outsider);
        // Behind one: the right-most untrusted hop; forged entries to its left are ignored.
        assert_eq!(
            client_ip(&h("1.2.3.4, 198.51.100.7, 10.1.2.3"), peer, &proxy),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(client_ip(&HeaderMap::new(), peer, &proxy), peer);
        // Nothing trusted: always the peer.
        assert_eq!(client_ip(&h("198.51.100.1"), peer, &[]), peer);
        assert!(allowed(peer, &[]));
        assert!(allowed("10.9.9.9".parse().unwrap(), &proxy));
        assert!(!allowed(outsider, &proxy));
    }
}
