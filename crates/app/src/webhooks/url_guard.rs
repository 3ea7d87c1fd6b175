//! The SSRF guard: which addresses a webhook may reach. Loopback, private (RFC 1918,
//! CGNAT, ULA), link-local, unspecified, multicast, broadcast, documentation and other
//! special-purpose ranges are refused, including their IPv4-mapped and IPv4-embedding
//! IPv6 forms. The same rules run when a URL is registered and again, on every resolved
//! address, when a delivery connects (so DNS rebinding cannot bypass them).
//!
//! Plain `http://` is refused, except for a loopback host when the test-only
//! `REFSHARE_WEBHOOK_ALLOW_LOOPBACK` setting is on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Longest URL accepted (the reference's limit).
pub const MAX_URL_LEN: usize = 1024;

/// True when `ip` is not a public unicast address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", incl. 0.0.0.0
        || a == 10 // RFC 1918
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 168) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d).
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return is_forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    // NAT64 (64:ff9b::/96) embeds an IPv4 address in the last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_forbidden_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    // 6to4 (2002::/16) embeds one in bits 16..48.
    if s[0] == 0x2002 {
        return is_forbidden_v4(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32));
    }
    (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
}

/// True for loopback addresses, IPv4-mapped ones included.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Whether a delivery may connect to `ip`.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    !is_forbidden_ip(ip) || (allow_loopback && is_loopback(ip))
}

/// Names that always mean this machine.
fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Checks the parts of a URL that need no DNS: length, scheme, host, credentials.
/// Returns the parsed URL, or why it is refused.
pub fn check_url(raw: &str, allow_loopback: bool) -> Result<Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|e| format!("is not a valid absolute URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    let host = url.host().ok_or("must have a host")?;
    let loopback_host = match &host {
        Host::Ipv4(v4) => is_loopback(IpAddr::V4(*v4)),
        Host::Ipv6(v6) => is_loopback(IpAddr::V6(*v6)),
        Host::Domain(d) => is_local_name(d),
    };
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback_host => {}
        "http" => return Err("must use https".into()),
        other => return Err(format!("must use https, not `{other}`")),
    }
    if loopback_host && !allow_loopback {
        return Err("must not point to this machine (localhost or a loopback address)".into());
    }
    let ip = match host {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    };
    if let Some(ip) = ip {
        if !address_allowed(ip, allow_loopback) {
            return Err(format!("must not point to a private, loopback, link-local or reserved address ({ip})"));
        }
    }
    Ok(url)
}

/// The first refused address among `addrs`, if any.
pub fn first_refused(addrs: &[SocketAddr], allow_loopback: bool) -> Option<IpAddr> {
    addrs.iter().map(SocketAddr::ip).find(|ip| !address_allowed(*ip, allow_loopback))
}

/// A resolver for the delivery client: resolves with the system resolver, then refuses
/// the whole name if any address is not allowed. The client connects only to the
/// addresses returned here, so what was checked is what is dialled.
pub struct GuardedResolver {
    pub allow_loopback: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_string();
            if is_local_name(&host) && !allow_loopback {
                return Err(refused(&host, "a name of this machine"));
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let iter: reqwest::dns::Addrs = Box::new(judge_resolved(&host, addrs, allow_loopback)?.into_iter());
            Ok(iter)
        })
    }
}

/// The delivery resolver's verdict on what `host` resolved to: every address, or the
/// generic refusal.
fn judge_resolved(
    host: &str,
    addrs: Vec<SocketAddr>,
    allow_loopback: bool,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    if addrs.is_empty() {
        return Err(refused(host, "no addresses"));
    }
    if let Some(ip) = first_refused(&addrs, allow_loopback) {
        return Err(refused(host, &ip.to_string()));
    }
    Ok(addrs)
}

/// What a partner is told about a refused address: that it is not allowed, never what
/// a name resolved to (which would map the network behind us). The detail goes to our log.
pub const REFUSED: &str = "refused: the address is not allowed (only public addresses are called)";

/// Registration's refusal of a name whose addresses are not all public.
pub const NOT_PUBLIC: &str = "must not point to a private, loopback, link-local or reserved address";

fn refused(host: &str, resolved_to: &str) -> Box<dyn std::error::Error + Send + Sync> {
    tracing::warn!(%host, %resolved_to, "webhook address refused by the SSRF guard");
    Box::new(std::io::Error::new(std::io::ErrorKind::PermissionDenied, REFUSED))
}

/// The resolver as reqwest takes it.
pub fn resolver(allow_loopback: bool) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { allow_loopback })
}

/// At registration: resolves a domain host (briefly) and refuses it when any address is
/// not allowed. A name that does not resolve yet is accepted; delivery checks again.
pub async fn check_resolved(url: &Url, allow_loopback: bool) -> Result<(), String> {
    let Some(Host::Domain(d)) = url.host() else {
        return Ok(());
    };
    let lookup = tokio::net::lookup_host((d, url.port_or_known_default().unwrap_or(443)));
    match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
        Ok(Ok(addrs)) => judge_registration(d, &addrs.collect::<Vec<_>>(), allow_loopback),
        _ => Ok(()),
    }
}

/// Registration's verdict on what `host` resolved to (never naming the addresses).
fn judge_registration(host: &str, addrs: &[SocketAddr], allow_loopback: bool) -> Result<(), String> {
    match first_refused(addrs, allow_loopback) {
        Some(ip) => {
            tracing::info!(%host, resolved_to = %ip, "webhook URL refused at registration");
            Err(NOT_PUBLIC.to_string())
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let refused = [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.99",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "100::1",
        ];
        for a in refused {
            assert!(is_forbidden_ip(a.parse().unwrap()), "{a} should be refused");
        }
        let allowed = [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ];
        for a in allowed {
            assert!(!is_forbidden_ip(a.parse().unwrap()), "{a} should be allowed");
        }
    }

    #[test]
    fn loopback_only_with_the_setting() {
        for a in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(!address_allowed(ip, false));
            assert!(address_allowed(ip, true), "{a}");
        }
        assert!(!address_allowed("10.0.0.1".parse().unwrap(), true), "the setting opens loopback only");
    }

    #[test]
    fn urls_at_registration() {
        let refused = [
            ("http://127.0.0.1:8080/hook", false),
            ("http://hooks.example.com/hook", false),
            ("http://hooks.example.com/hook", true),
            ("http://10.0.0.1/hook", true),
            ("https://10.0.0.1/hook", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://[::1]/hook", false),
            ("https://[::ffff:192.168.0.1]/hook", false),
            ("https://localhost/hook", false),
            ("https://api.localhost/hook", false),
            ("https://192.168.1.1/hook", false),
            ("https://user:pw@hooks.example.com/", false),
            ("ftp://hooks.example.com/", false),
            ("not a url", false),
            ("/relative", false),
        ];
        for (u, allow) in refused {
            assert!(check_url(u, allow).is_err(), "{u} (allow_loopback={allow}) should be refused");
        }
        for (u, allow) in [
            ("https://hooks.example.com/refshare", false),
            ("https://8.8.8.8/hook", false),
            ("http://127.0.0.1:9000/hook", true),
            ("http://localhost:9000/hook", true),
            ("http://[::1]:9000/hook", true),
        ] {
            assert!(check_url(u, allow).is_ok(), "{u} (allow_loopback={allow}) should be accepted");
        }
        assert!(check_url(&format!("https://h.example/{}", "a".repeat(MAX_URL_LEN)), false).is_err());
    }

    #[test]
    fn a_refusal_never_says_what_a_name_resolved_to() {
        let internal: Vec<SocketAddr> = vec!["127.0.0.1:0".parse().unwrap(), "10.9.8.7:0".parse().unwrap()];
        let at_delivery = judge_resolved("vm.example", internal.clone(), false).err().expect("refused").to_string();
        let at_registration = judge_registration("vm.example", &internal, false).err().expect("refused");
        for message in [at_delivery, at_registration] {
            assert!(!message.contains("127.0.0.1") && !message.contains("10.9.8.7") && !message.contains("vm.example"), "{message}");
            assert!(message.contains("not allowed") || message.contains("must not point"), "{message}");
        }
        let public: Vec<SocketAddr> = vec!["93.184.216.34:0".parse().unwrap()];
        assert!(judge_resolved("example.com", public.clone(), false).is_ok());
        assert!(judge_registration("example.com", &public, false).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_what_the_name_points_to() {
        use reqwest::dns::Resolve;
        let name = |h: &str| h.parse::<reqwest::dns::Name>().unwrap();
        let refused = resolver(false).resolve(name("localhost")).await;
        assert_eq!(refused.err().map(|e| e.to_string()).as_deref(), Some(REFUSED));
        let allowed = resolver(true).resolve(name("localhost")).await.expect("loopback allowed by the setting");
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
