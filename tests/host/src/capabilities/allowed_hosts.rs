//! Spin's `allowed_outbound_hosts`: `scheme://host[:port]` entries with `*`
//! wildcards, `*.domain` subdomains, CIDR blocks, `a..b` port ranges
//! (end exclusive), default ports per scheme, and `self` for requests to
//! the component's own app. Parsing and matching follow Spin 4.0.2's
//! `outbound-networking-config` so that a manifest accepted (or refused)
//! here is accepted (or refused) by `spin up`.

use anyhow::{bail, ensure, Context, Result};
use std::net::IpAddr;

const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

/// A component's parsed `allowed_outbound_hosts`, variables already resolved.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    original: String,
    /// `None` for `*://`.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq)]
enum HostPattern {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    AnySubdomain(String),
    /// `self`: relative requests to the app itself.
    ToSelf,
    Literal(url::Host),
    Cidr {
        network: IpAddr,
        prefix: u8,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum PortPattern {
    Any,
    Port(u16),
    /// `start..end`, end exclusive as in Spin.
    Range(u16, u16),
}

impl AllowedHosts {
    /// Parses the entries of one component's `allowed_outbound_hosts`.
    pub fn parse(entries: &[String]) -> Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic");
        }
        let entries = entries
            .iter()
            .map(|entry| Entry::parse(entry))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { entries })
    }

    /// Whether a request to `url` (absolute) is allowed.
    pub fn allows(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        // Re-parsed because `url` leaves the host of non-special schemes
        // (postgres://, redis://) opaque and case-preserved; Spin compares
        // the normalised form.
        let Ok(host) = url::Host::parse(host) else {
            return false;
        };
        let scheme = url.scheme();
        let port = url.port().or_else(|| well_known_port(scheme));
        self.entries
            .iter()
            .any(|entry| entry.allows(scheme, &host, port))
    }

    /// Whether a relative request (to the app itself) is allowed with
    /// `scheme`: `http://self` or a `*` host.
    pub fn allows_relative(&self, scheme: &str) -> bool {
        self.entries.iter().any(|entry| {
            entry.scheme.as_deref().is_none_or(|s| s == scheme)
                && matches!(entry.host, HostPattern::Any | HostPattern::ToSelf)
        })
    }

    /// Whether `http://<component>.spin.internal` (service chaining to a
    /// private or public component) is allowed.
    pub fn allows_spin_internal(&self, component: &str) -> bool {
        match url::Url::parse(&format!("http://{component}{SERVICE_CHAINING_SUFFIX}")) {
            Ok(url) => self.allows(&url),
            Err(_) => false,
        }
    }

    /// The entries as written, for messages.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.original.as_str())
    }
}

impl Entry {
    fn parse(original: &str) -> Result<Self> {
        let url = original.trim();
        if url.contains("{{") {
            bail!("{url:?} contains an unresolved variable template");
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            match url {
                "*" | ":" | "" | "?" => bail!(
                    "{url:?} is not an allowed outbound host format.\nHosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each.\nIf you intended to allow all outbound networking, you can use '*://*:*' - this will obviate all network sandboxing."
                ),
                _ => bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')"),
            }
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                port
            }
            None => rest,
        };
        let port = PortPattern::parse(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?} in {url:?}"))?;
        let scheme = parse_scheme(scheme)
            .with_context(|| format!("Invalid allowed host scheme {scheme:?} in {url:?}"))?;
        let host = HostPattern::parse(host)
            .with_context(|| format!("Invalid allowed host {host:?} in {url:?}"))?;
        Ok(Self {
            original: original.to_string(),
            scheme,
            host,
            port,
        })
    }

    fn allows(&self, scheme: &str, host: &url::Host, port: Option<u16>) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.host.allows(host)
            && self.port.allows(port)
    }
}

fn parse_scheme(scheme: &str) -> Result<Option<String>> {
    if scheme == "*" {
        return Ok(None);
    }
    ensure!(!scheme.starts_with('{'), "scheme lists are not supported");
    ensure!(
        scheme.chars().all(char::is_alphabetic),
        "only alphabetic characters are allowed"
    );
    Ok(Some(scheme.to_string()))
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self> {
        let host = host.trim();
        if host == "*" {
            return Ok(Self::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if host.starts_with('{') {
            ensure!(host.ends_with('}'), "unterminated host list");
            bail!("host lists are not yet supported");
        }
        if let Some(cidr) = parse_cidr(host) {
            return Ok(cidr);
        }
        let host = host.trim_end_matches('/');
        ensure!(!host.contains('/'), "must not include a path");
        if let Some(domain) = host.strip_prefix("*.") {
            ensure!(
                !domain.contains('*'),
                "wildcards are allowed only as prefixes"
            );
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        ensure!(
            !host.contains('*'),
            "wildcards are allowed only as subdomains"
        );
        Ok(Self::Literal(url::Host::parse(host)?))
    }

    fn allows(&self, host: &url::Host) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), url::Host::Domain(domain)) => domain.ends_with(suffix),
            (Self::Literal(literal), host) => literal == host,
            (Self::Cidr { network, prefix }, url::Host::Ipv4(ip)) => {
                cidr_contains(network, *prefix, &IpAddr::V4(*ip))
            }
            (Self::Cidr { network, prefix }, url::Host::Ipv6(ip)) => {
                cidr_contains(network, *prefix, &IpAddr::V6(*ip))
            }
            // `self` is matched by `allows_relative` only.
            _ => false,
        }
    }
}

/// An IP address, or a network `addr/prefix` (host bits dropped, as
/// Spin's `IpNetwork::from_str_truncate` does).
fn parse_cidr(text: &str) -> Option<HostPattern> {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return None;
    }
    Some(HostPattern::Cidr {
        network: addr,
        prefix,
    })
}

fn cidr_contains(network: &IpAddr, prefix: u8, ip: &IpAddr) -> bool {
    fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
        let drop = u32::from(width - prefix);
        bits.checked_shr(drop).unwrap_or(0)
    }
    match (network, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            masked(u32::from(*n).into(), 32, prefix) == masked(u32::from(*i).into(), 32, prefix)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            masked(u128::from(*n), 128, prefix) == masked(u128::from(*i), 128, prefix)
        }
        _ => false,
    }
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme).map(Self::Port).with_context(|| {
                format!("no port was provided and the scheme {scheme:?} does not have a known default port number")
            });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        ensure!(!port.starts_with('{'), "port lists are not yet supported");
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(Self::Range(start, end));
        }
        let port = port.parse().with_context(|| {
            format!("port {port:?} is not a number (ranges are written start..end)")
        })?;
        Ok(Self::Port(port))
    }

    fn allows(&self, port: Option<u16>) -> bool {
        match (self, port) {
            (Self::Any, _) => true,
            (Self::Port(p), Some(port)) => *p == port,
            (Self::Range(start, end), Some(port)) => (*start..*end).contains(&port),
            (_, None) => false,
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
#[path = "allowed_hosts_tests.rs"]
mod tests;
