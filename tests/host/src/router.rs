//! Spin's HTTP routing: exact routes, `:name` segment captures and trailing
//! `/...` wildcards, the most specific match winning, and the `spin-*`
//! headers a component reads to learn how it was reached.
//!
//! Specificity is compared segment by segment, as Spin's router
//! (`routefinder`) does: a literal segment beats a `:capture`, which beats
//! the wildcard; a route that ends exactly beats a wildcard matching nothing.

use crate::manifest::{Manifest, Route};
use anyhow::{bail, Result};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

/// A parsed route such as `/orders/:id/...`.
#[derive(Debug, Clone)]
pub struct RoutePattern {
    raw: String,
    based: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl RoutePattern {
    /// Parses a manifest route.
    pub fn parse(raw: &str) -> Result<Self> {
        // Spin's "based route": absolute, without a trailing slash ("/" -> "").
        let absolute = if raw.starts_with('/') {
            raw.to_string()
        } else {
            format!("/{raw}")
        };
        let based = absolute.strip_suffix('/').unwrap_or(&absolute).to_string();
        let (prefix, wildcard) = match based
            .strip_suffix("/...")
            .or_else(|| based.strip_suffix("/*"))
        {
            Some(prefix) => (prefix, true),
            None => (based.as_str(), false),
        };
        let mut segments = Vec::new();
        for segment in prefix.split('/').skip(1) {
            if segment == "..." || segment == "*" {
                bail!("a wildcard may only end a route: {raw:?}");
            }
            match segment.strip_prefix(':') {
                Some("") => bail!("a `:` capture needs a name: {raw:?}"),
                Some(name) => segments.push(Segment::Capture(name.to_string())),
                None => segments.push(Segment::Literal(segment.to_string())),
            }
        }
        Ok(Self {
            raw: raw.to_string(),
            based,
            segments,
            wildcard,
        })
    }

    /// The route as written in the manifest.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Whether it ends in a wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// Matches a request path: the captures and the trailing path info.
    fn matches(&self, path: &str) -> Option<(Vec<(String, String)>, String)> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        if parts.len() < self.segments.len()
            || (!self.wildcard && parts.len() != self.segments.len())
        {
            return None;
        }
        let mut captures = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Capture(name) if !part.is_empty() => {
                    captures.push((name.clone(), part.to_string()))
                }
                _ => return None,
            }
        }
        let rest = parts[self.segments.len()..].join("/");
        let path_info = if !self.wildcard {
            String::new()
        } else {
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        };
        Some((captures, path_info))
    }

    /// Segment ranks for specificity: literal 2, capture 1, then 3 for an
    /// exact end or 0 for a wildcard.
    fn rank(&self) -> Vec<u8> {
        let mut rank: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 2,
                Segment::Capture(_) => 1,
            })
            .collect();
        rank.push(if self.wildcard { 0 } else { 3 });
        rank
    }
}

impl fmt::Display for RoutePattern {
    /// As Spin prints it in the route list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            let prefix = self
                .based
                .strip_suffix("/...")
                .or_else(|| self.based.strip_suffix("/*"));
            write!(f, "{} (wildcard)", prefix.unwrap_or_default())
        } else {
            write!(f, "{}", self.based)
        }
    }
}

/// A public route and its component.
#[derive(Debug, Clone)]
pub struct RouteEntry {
    /// The component id.
    pub component: String,
    /// The route.
    pub pattern: RoutePattern,
}

/// The public routes of an app.
#[derive(Debug, Clone, Default)]
pub struct Router {
    entries: Vec<RouteEntry>,
}

impl Router {
    /// Builds the router from `(component, route)` in manifest order. As in
    /// Spin, a later duplicate route replaces the earlier one in place; the
    /// replaced component ids are returned for a warning.
    pub fn build<'a>(
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Self, Vec<String>)> {
        let mut entries: Vec<RouteEntry> = Vec::new();
        let mut replaced = Vec::new();
        for (component, raw) in routes {
            let pattern = RoutePattern::parse(raw)?;
            let entry = RouteEntry {
                component: component.to_string(),
                pattern,
            };
            match entries.iter_mut().find(|e| e.pattern.raw == raw) {
                Some(existing) => {
                    replaced.push(format!(
                        "route {raw:?} of component `{}` is replaced by component `{component}`",
                        existing.component
                    ));
                    *existing = entry;
                }
                None => entries.push(entry),
            }
        }
        Ok((Self { entries }, replaced))
    }

    /// The public routes of a manifest's `[[trigger.http]]`; private ones
    /// are reachable only through service chaining.
    pub fn from_manifest(manifest: &Manifest) -> Result<(Self, Vec<String>)> {
        Self::build(manifest.trigger.http.iter().filter_map(|t| match &t.route {
            Route::Pattern(pattern) => Some((t.component.as_str(), pattern.as_str())),
            Route::Private => None,
        }))
    }

    /// The routes, in manifest order.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    /// The best route for `path` (without the query), if any.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let mut best: Option<(Vec<u8>, RouteMatch)> = None;
        for entry in &self.entries {
            let Some((captures, path_info)) = entry.pattern.matches(path) else {
                continue;
            };
            let rank = entry.pattern.rank();
            // First defined wins a tie, hence strictly greater.
            if best.as_ref().is_none_or(|(best_rank, _)| rank > *best_rank) {
                let found = RouteMatch {
                    component: entry.component.clone(),
                    raw_route: entry.pattern.raw.clone(),
                    based_route: entry.pattern.based.clone(),
                    path_info,
                    captures,
                };
                best = Some((rank, found));
            }
        }
        best.map(|(_, found)| found)
    }
}

/// How a request reached its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component id.
    pub component: String,
    /// The route as written in the manifest.
    pub raw_route: String,
    /// The route absolutised and without a trailing slash.
    pub based_route: String,
    /// The part of the path the wildcard matched ("" for exact routes).
    pub path_info: String,
    /// `:name` captures.
    pub captures: Vec<(String, String)>,
}

impl RouteMatch {
    /// What Spin builds for a service-chaining request: a wildcard on "/".
    pub fn synthetic(component: &str, path: &str) -> Self {
        Self {
            component: component.to_string(),
            raw_route: "/...".to_string(),
            based_route: "/...".to_string(),
            path_info: path.to_string(),
            captures: Vec::new(),
        }
    }

    /// The `spin-*` request headers, as Spin's HTTP trigger sets them.
    pub fn headers(&self, full_url: &str, client_addr: &str) -> Vec<(String, String)> {
        let component_route = self
            .raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route);
        let mut headers = vec![
            ("spin-path-info".to_string(), self.path_info.clone()),
            ("spin-full-url".to_string(), full_url.to_string()),
            ("spin-matched-route".to_string(), self.based_route.clone()),
            ("spin-base-path".to_string(), "/".to_string()),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.clone(),
            ),
            (
                "spin-component-route".to_string(),
                component_route.to_string(),
            ),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        for (name, value) in &self.captures {
            headers.push((path_match_header(name), value.clone()));
        }
        headers
    }
}

/// The header for a `:name` capture. Spin names it `SPIN_PATH_MATCH_<NAME>`
/// and turns every such key into a header name by lower-casing it and
/// replacing `_` with `-`, so `:path_segment` becomes
/// `spin-path-match-path-segment`.
fn path_match_header(name: &str) -> String {
    format!(
        "spin-path-match-{}",
        name.to_ascii_lowercase().replace('_', "-")
    )
}

#[cfg(test)]
mod tests;
