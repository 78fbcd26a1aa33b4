//! Which addresses a webhook may reach.
//!
//! Link-local addresses (169.254.0.0/16, fe80::/10, where clouds serve instance
//! metadata and credentials) and the cloud metadata addresses are refused always.
//! Private, loopback, shared (100.64.0.0/10), unspecified, multicast and broadcast
//! addresses are refused unless `WEBHOOK_ALLOW_PRIVATE` is set. The rule is applied
//! when a webhook is registered (to the literal address, or every address its name
//! resolves to within two seconds; a name that does not resolve by then is accepted)
//! and again on every delivery, to the addresses the name resolves to then, so a name
//! that later points inside is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address is to the webhook rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// On the public internet.
    Public,
    /// Private, loopback and the like: only with `WEBHOOK_ALLOW_PRIVATE`.
    Private,
    /// Link-local or cloud metadata: never.
    Never,
}

fn v4(ip: Ipv4Addr) -> Reach {
    let o = ip.octets();
    if ip.is_link_local() {
        return Reach::Never;
    }
    if ip.is_private()
        || ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
    {
        return Reach::Private;
    }
    Reach::Public
}

fn v6(ip: Ipv6Addr) -> Reach {
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return v4(mapped);
    }
    let s = ip.segments();
    // fe80::/10, and AWS's IPv6 metadata address fd00:ec2::254.
    if (s[0] & 0xffc0) == 0xfe80 || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Reach::Never;
    }
    if ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        // The NAT64 prefix reaches IPv4 addresses, private ones included.
        || (s[0] == 0x64 && s[1] == 0xff9b)
    {
        return Reach::Private;
    }
    Reach::Public
}

/// What `ip` is to the rules.
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(ip) => v6(ip),
    }
}

/// Whether a delivery may go to `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    match reach(ip) {
        Reach::Public => true,
        Reach::Private => allow_private,
        Reach::Never => false,
    }
}

/// Why `ip` may not be reached, for a 422 or a delivery's error.
pub fn refusal(ip: IpAddr) -> &'static str {
    match reach(ip) {
        Reach::Never => "is a link-local or cloud metadata address, which webhooks never reach",
        _ => {
            "is a private or loopback address; webhooks reach those only when \
             WEBHOOK_ALLOW_PRIVATE is set"
        }
    }
}

/// Checks a webhook's URL without resolving anything: `http` or `https`, a host, no
/// credentials, and no literal address the rules refuse. Returns the URL and, when its
/// host is a name, that name, for [`check_resolved`].
pub fn parse_target(raw: &str, allow_private: bool) -> Result<(url::Url, Option<String>), String> {
    if raw.len() > 2000 {
        return Err("must be at most 2,000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; the signature authenticates deliveries".into());
    }
    let (literal, name) = match url.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) => (Some(IpAddr::V4(ip)), None),
        Some(url::Host::Ipv6(ip)) => (Some(IpAddr::V6(ip)), None),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                (Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), None)
            } else {
                (None, Some(name))
            }
        }
    };
    if let Some(ip) = literal.filter(|ip| !allowed(*ip, allow_private)) {
        return Err(format!("points at {ip}, which {}", refusal(ip)));
    }
    Ok((url, name))
}

/// Checks the addresses a name resolved to.
pub fn check_resolved(addresses: &[IpAddr], allow_private: bool) -> Result<(), String> {
    match addresses.iter().find(|ip| !allowed(**ip, allow_private)) {
        Some(bad) => Err(format!("points at {bad}, which {}", refusal(*bad))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_are_sorted_by_the_rules() {
        for never in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(reach(ip(never)), Reach::Never, "{never}");
            assert!(
                !allowed(ip(never), true),
                "{never} even when private is allowed"
            );
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert_eq!(reach(ip(private)), Reach::Private, "{private}");
            assert!(!allowed(ip(private), false));
            assert!(allowed(ip(private), true));
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "100.128.0.1",
        ] {
            assert_eq!(reach(ip(public)), Reach::Public, "{public}");
        }
    }

    #[test]
    fn urls_are_checked_without_connecting() {
        assert!(check_resolved(&[ip("93.184.216.34")], false).is_ok());
        assert!(check_resolved(&[ip("93.184.216.34"), ip("10.0.0.1")], false).is_err());
        assert!(check_resolved(&[ip("169.254.169.254")], true).is_err());
        assert!(parse_target("https://93.184.216.34/hook", false).is_ok());
        assert!(parse_target("http://127.0.0.1:9000/hook", false).is_err());
        assert!(parse_target("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse_target("http://localhost/hook", false).is_err());
        assert!(parse_target("http://[::1]/hook", false).is_err());
        assert!(parse_target("http://169.254.169.254/latest/meta-data", true).is_err());
        assert!(parse_target("http://[fe80::1]/", true).is_err());
        assert!(parse_target("ftp://93.184.216.34/", false).is_err());
        assert!(parse_target("https://user:pw@93.184.216.34/", false).is_err());
        assert!(parse_target("not a url", false).is_err());
    }
}
