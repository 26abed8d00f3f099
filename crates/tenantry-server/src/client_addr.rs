//! The client's address: what login throttling, security events and audit events record.
//!
//! Behind a reverse proxy every request comes from the proxy's address, so all users would share
//! one failed-login budget and lock each other out. Only from peers listed in `trusted_proxies`
//! are `Forwarded` / `X-Forwarded-For` believed: the client is the rightmost hop that is not
//! itself a trusted proxy (hops further left were written by the client and prove nothing). From
//! anyone else the headers are ignored: a client cannot choose its own address.
//!
//! A host app's backend that relays logins holds a service token; with it, it may name the end
//! user's address in `x-tenantry-client-ip`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tenantry_core::domain::secret::hash_token;

use crate::auth::bearer;
use crate::state::AppState;

/// Names the end user's address on requests a host app relays with its service token.
pub const CLIENT_IP_HEADER: &str = "x-tenantry-client-ip";

/// The peers whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let nets = entries.iter().map(|entry| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: `{entry}` is not a CIDR like 10.0.0.0/8 or an address"))
        });
        nets.collect::<Result<_, _>>().map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The resolved client address, set on every request by `middleware`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

pub async fn middleware(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = relayed_by_service(request.headers(), &state)
            .unwrap_or_else(|| resolve(peer.ip(), request.headers(), &state.proxies));
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The address a service token's holder names, if the header is there and the token is one.
fn relayed_by_service(headers: &HeaderMap, state: &AppState) -> Option<IpAddr> {
    let named = headers.get(CLIENT_IP_HEADER)?.to_str().ok()?.trim().parse::<IpAddr>().ok()?;
    let token = bearer(headers)?;
    state.credentials.service_hashes.contains_key(&hash_token(token)).then_some(canonical(named))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy, else the rightmost
/// forwarded hop that is not a trusted proxy.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> IpAddr {
    let mut client = canonical(peer);
    if !proxies.trusts(client) {
        return client;
    }
    for hop in forwarded_hops(headers).into_iter().rev() {
        match hop {
            Some(ip) if proxies.trusts(ip) => client = ip,
            Some(ip) => return ip,
            // An unknown or obfuscated hop: the last trusted proxy is all we can vouch for.
            None => return client,
        }
    }
    client
}

/// The hops of `Forwarded` (RFC 7239) if the request has one, else of `X-Forwarded-For`, left to
/// right across all the header's lines; `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &str| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let forwarded = lines("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                let pair = element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then_some(value)
                });
                pair.and_then(forwarded_node)
            })
            .collect();
    }
    lines("x-forwarded-for").iter().flat_map(|line| line.split(',')).map(|hop| forwarded_node(hop.trim())).collect()
}

/// An address as `Forwarded` writes it: `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:4711"`.
fn forwarded_node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse::<IpAddr>().ok().map(canonical);
    }
    let (host, _port) = value.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:10.0.0.1`) as the IPv4 they are, so
/// IPv4 CIDRs match them and every record shows one form.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_peers_are_believed_and_the_rightmost_untrusted_hop_wins() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.1".into()]).unwrap();
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")]);
        assert_eq!(resolve(ip("10.0.0.1"), &xff, &proxies), ip("203.0.113.7"));
        assert_eq!(resolve(ip("198.51.100.1"), &xff, &proxies), ip("198.51.100.1"), "untrusted peer");
        assert_eq!(resolve(ip("::ffff:10.0.0.1"), &xff, &proxies), ip("203.0.113.7"), "mapped IPv4");
        let forwarded = headers(&[("forwarded", r#"for=6.6.6.6, for="[2001:db8::1]:4711";proto=https"#)]);
        assert_eq!(resolve(ip("192.168.1.1"), &forwarded, &proxies), ip("2001:db8::1"));
        let unknown = headers(&[("x-forwarded-for", "203.0.113.7, unknown")]);
        assert_eq!(resolve(ip("10.0.0.1"), &unknown, &proxies), ip("10.0.0.1"));
        assert_eq!(resolve(ip("10.0.0.1"), &HeaderMap::new(), &proxies), ip("10.0.0.1"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err().contains("10.0.0.0/33"));
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }
}
