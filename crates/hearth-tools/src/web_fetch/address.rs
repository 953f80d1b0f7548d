//! Which addresses `web_fetch` may connect to, and the DNS resolver that
//! enforces it on the addresses actually connected to.
//!
//! Checking the host name is not enough: a name can resolve to anything,
//! and resolve differently the next time (DNS rebinding). So the HTTP
//! client is given [`GuardedResolver`]: it resolves each name itself,
//! drops the addresses that are not public, and hands the client only what
//! is left, so the client connects to checked addresses and nothing else.
//! A name with no public address fails with [`Blocked`]. Every redirect
//! hop goes through the same resolver.
//!
//! The client does not ask the resolver about IP literals
//! (`http://127.0.0.1/`), so [`AddressPolicy::check_url`] checks those
//! before each request; and it is built without proxies, since a proxy
//! would resolve names where this check cannot see.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use hearth_core::ToolError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::WebFetchConfig;

/// What may be reached: public addresses, plus everything when
/// `allow_private`, plus the `allow_hosts` whatever they resolve to.
#[derive(Debug)]
pub(crate) struct AddressPolicy {
    allow_private: bool,
    /// Lowercase names and IP addresses.
    allow_names: Vec<String>,
    allow_ips: Vec<IpAddr>,
}

/// A host refused because it has no public address.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    pub host: String,
    pub addresses: Vec<IpAddr>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.addresses.iter().map(IpAddr::to_string).collect();
        write!(
            f,
            "`{}` is a private, loopback or otherwise non-public address ({}); web_fetch \
             only reaches the public internet unless the operator allows more",
            self.host,
            list.join(", ")
        )
    }
}

impl std::error::Error for Blocked {}

impl AddressPolicy {
    pub fn new(config: &WebFetchConfig) -> Self {
        let mut allow_names = Vec::new();
        let mut allow_ips = Vec::new();
        for host in &config.allow_hosts {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            match bare.parse::<IpAddr>() {
                Ok(ip) => allow_ips.push(ip),
                Err(_) => allow_names.push(bare.to_ascii_lowercase()),
            }
        }
        Self {
            allow_private: config.allow_private,
            allow_names,
            allow_ips,
        }
    }

    fn name_allowed(&self, name: &str) -> bool {
        self.allow_private
            || self
                .allow_names
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(name.trim_end_matches('.')))
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.allow_private || self.allow_ips.contains(&ip) || is_public(ip)
    }

    /// Checks a URL before it is requested: the scheme, and a host given
    /// as an IP address (names are checked by the resolver).
    pub fn check_url(&self, url: &Url) -> Result<(), ToolError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ToolError::Denied(format!(
                "`{url}`: web_fetch fetches http and https URLs only"
            )));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => {
                return Err(ToolError::InvalidArguments(format!("`{url}` has no host")));
            }
        };
        if self.ip_allowed(ip) {
            Ok(())
        } else {
            Err(ToolError::Denied(
                Blocked {
                    host: url.host_str().unwrap_or_default().to_owned(),
                    addresses: vec![ip],
                }
                .to_string(),
            ))
        }
    }

    /// The addresses of `host` that may be connected to.
    pub fn filter(
        &self,
        host: &str,
        addresses: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Blocked> {
        if self.name_allowed(host) {
            return Ok(addresses);
        }
        let (allowed, refused): (Vec<_>, Vec<_>) =
            addresses.into_iter().partition(|a| self.ip_allowed(a.ip()));
        if allowed.is_empty() {
            return Err(Blocked {
                host: host.to_owned(),
                addresses: refused.iter().map(SocketAddr::ip).collect(),
            });
        }
        if !refused.is_empty() {
            tracing::debug!(host, ?refused, "web_fetch: non-public addresses dropped");
        }
        Ok(allowed)
    }
}

/// The resolver the HTTP client is built with (see the module doc).
#[derive(Debug)]
pub(crate) struct GuardedResolver(pub Arc<AddressPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = policy.filter(&host, found)?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an ordinary public unicast address. Refused, with the
/// reason: unspecified and "this network" (0.0.0.0/8, ::), loopback
/// (127/8, ::1), private (10/8, 172.16/12, 192.168/16), link-local
/// (169.254/16, fe80::/10; cloud metadata services live at 169.254.169.254),
/// carrier-grade NAT (100.64/10; Alibaba's metadata at 100.100.100.200),
/// IETF protocol assignments (192.0.0/24; Oracle's metadata at
/// 192.0.0.192), documentation and benchmarking ranges, the 6to4 relay
/// anycast, multicast, reserved (240/4) and broadcast; unique-local
/// (fc00::/7; AWS's IPv6 metadata at fd00:ec2::254), site-local
/// (fec0::/10), the discard prefix, Teredo, and IPv6 forms that carry an
/// IPv4 address (mapped, compatible, NAT64, 6to4) judged by that address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 198 && (b & 0xfe) == 18)
        || (a == 192 && b == 88 && c == 99)
        || ip.is_multicast()
        || a >= 240;
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // ::, ::1, the IPv4-compatible ::/96 and the IPv4-translated
    // ::ffff:0:0/96: none is a real public destination.
    if s[..4] == [0; 4] && (s[4] == 0 || s[4] == 0xffff) {
        return false;
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it carries.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    let refused = (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] & 0xff00) == 0xff00
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] == 0)
        || (s[0] == 0x0100 && s[1..4] == [0; 3]);
    !refused
}
