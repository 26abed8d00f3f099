//! The SSRF guard for outbound calls to addresses API callers chose (webhook endpoints): a
//! target that resolves to a loopback, private, link-local (cloud metadata), shared or
//! otherwise non-public address is refused, at creation and again at each delivery, after DNS
//! resolution, unless `webhooks.allow_private_targets` is set. The sender's HTTP client resolves
//! names through [`GuardedResolver`], so the address checked is the address connected to (a name
//! cannot resolve to a public address for the check and a private one for the connection).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64, which reaches IPv4 addresses
}

/// Why a webhook URL cannot be a target, checked before any resolution.
pub fn check_url(raw: &str) -> Result<url::Url, String> {
    if raw.len() > tenantry_core::service::webhooks::MAX_URL_CHARS {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an http or https URL".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    Ok(url)
}

/// Resolves `url`'s host and refuses it unless every address it resolves to is public (or
/// private targets are allowed).
pub async fn check_target(url: &url::Url, allow_private: bool) -> Result<(), String> {
    let host = url.host_str().ok_or("must name a host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("its host does not resolve ({e})"))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err("its host does not resolve".into());
    }
    if !allow_private {
        if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "resolves to {}, a private, loopback or link-local address (set `webhooks.allow_private_targets` to allow it)",
                private.ip()
            ));
        }
    }
    Ok(())
}

/// A webhook URL as given, once its form and where it resolves are acceptable.
pub async fn checked_target(raw: &str, allow_private: bool) -> Result<String, String> {
    let url = check_url(raw)?;
    check_target(&url, allow_private).await?;
    Ok(raw.to_owned())
}

/// The sender's resolver: a name resolving to any non-public address fails to resolve.
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some(private) = found.iter().find(|a| !is_public(a.ip())) {
                let refused = format!("{} resolves to the non-public address {}", name.as_str(), private.ip());
                return Err(refused.into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_need_a_scheme_a_host_and_no_credentials() {
        assert!(check_url("https://example.com/hook").is_ok());
        for bad in ["ftp://example.com", "https://user:pw@example.com/", "not a url", "https://example.com/#x"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn literal_and_resolved_private_targets_are_refused_unless_allowed() {
        for url in
            ["http://127.0.0.1:9/hook", "http://[::1]/hook", "http://169.254.169.254/latest", "http://localhost/x"]
        {
            let url = check_url(url).unwrap();
            assert!(check_target(&url, false).await.is_err(), "{url}");
            assert!(check_target(&url, true).await.is_ok(), "{url}");
        }
    }
}
