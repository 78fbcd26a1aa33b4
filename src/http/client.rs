//! Who is asking: the client address that every per-address rule (sign-in throttle,
//! search budget, view beacons, stream share) counts by.
//!
//! The peer of the TCP connection is the client, unless it is one of the configured
//! `TRUSTED_PROXIES`. Then the forwarding header is read from the right, skipping the
//! trusted hops: the right-most address that is not a trusted proxy is the client.
//! Entries further left were written by whoever sent the request first and may be
//! forged, so they are never believed. `X-Forwarded-For` is read when present, else
//! `Forwarded` (RFC 7239); the trusted proxy must set or append the one it uses.
//!
//! IPv6 clients are counted by their /64: one host usually holds a whole /64, so
//! counting single addresses would give it billions of budgets.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::{TrustedProxies, canonical};

/// The client's address (see the module documentation); `None` when the connection has
/// no peer address (only in some in-process tests).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(req);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted.contains(*ip) => client = *ip,
            Some(ip) => return Some(*ip),
            // An entry that is not an address (`unknown`, an obfuscated name): the hop
            // that wrote it cannot be told, so the last trusted hop stands for it.
            None => return Some(client),
        }
    }
    Some(client)
}

/// The key that per-address rules count by: the address, or its /64 for IPv6.
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    match client_ip(req, trusted) {
        Some(ip) => address_key(ip),
        None => "unknown".to_owned(),
    }
}

/// The counting key of an address: IPv4 as is, IPv6 by its /64 prefix.
pub fn address_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
    }
}

/// The addresses named by the forwarding header, left to right; `None` for an entry
/// that is not an address.
fn forwarded_hops(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    let xff: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|v| v.split(','))
            .map(|entry| parse_node(entry.trim()))
            .collect();
    }
    req.headers()
        .get_all(header::FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
        })
        .collect()
}

/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`
/// or `[2001:db8::1]:80`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(canonical);
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    fn proxies(s: &str) -> TrustedProxies {
        TrustedProxies::parse(s).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let req = request("203.0.113.9:5000", &[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(client_address(&req, &proxies("")), "203.0.113.9");
        assert_eq!(client_address(&req, &proxies("10.0.0.0/8")), "203.0.113.9");
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        // The client forged the first entry; the proxy appended the real address.
        let req = request(
            "10.0.0.2:5000",
            &[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.5")],
        );
        assert_eq!(client_address(&req, &proxies("10.0.0.0/8")), "198.51.100.7");
    }

    #[test]
    fn the_forwarded_header_is_read_when_there_is_no_x_forwarded_for() {
        let req = request(
            "10.0.0.2:5000",
            &[(
                "forwarded",
                r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#,
            )],
        );
        assert_eq!(
            client_address(&req, &proxies("10.0.0.2")),
            "2001:db8:cafe::/64"
        );
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_trusted_hop() {
        let req = request("10.0.0.2:5000", &[("x-forwarded-for", "1.1.1.1, unknown")]);
        assert_eq!(client_address(&req, &proxies("10.0.0.0/8")), "10.0.0.2");
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = request("[2001:db8:1:2:aaaa::1]:5000", &[]);
        let b = request("[2001:db8:1:2:bbbb::9]:5000", &[]);
        let t = proxies("");
        assert_eq!(client_address(&a, &t), client_address(&b, &t));
        let v4 = request("[::ffff:192.0.2.1]:5000", &[]);
        assert_eq!(client_address(&v4, &t), "192.0.2.1");
    }
}
