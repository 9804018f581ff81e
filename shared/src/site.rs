//! Serving a built single-page web app (the staff console, the reader's
//! app) from bytes embedded in a component: the right content type, an
//! encoding the browser accepts, long caching for hashed assets and none
//! for `index.html`, conditional requests, and a strict
//! Content-Security-Policy. The bytes and their precompressed copies are
//! made by the front-end build; this module only chooses among them.

use crate::reply::Reply;
use crate::request::Request;
use crate::{Error, Result};

/// One file of a built app.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The path inside the app, without a leading slash (`assets/app-3f2a.js`).
    pub path: &'static str,
    /// The media type.
    pub content_type: &'static str,
    /// A strong validator of the identity bytes (quoted).
    pub etag: &'static str,
    /// The file as built.
    pub identity: &'static [u8],
    /// Its gzip copy, when the build made one.
    pub gzip: Option<&'static [u8]>,
    /// Its brotli copy, when the build made one.
    pub brotli: Option<&'static [u8]>,
}

/// A built app mounted under a path prefix.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// Where it is mounted, with both slashes (`/console/`).
    pub mount: &'static str,
    /// Its files.
    pub assets: &'static [Asset],
}

/// Only our own origin may supply anything; no inline script or style
/// element, no framing, no plugins. Images may be `data:` (QR codes are
/// drawn to data URLs) and `blob:` (a label printed from a canvas).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
manifest-src 'self'; media-src 'self' data:; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Vite names what it emits under `assets/` by content hash: such a name
/// never changes meaning, so browsers may keep it for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else is revalidated on each use (a 304 costs one round trip).
const REVALIDATE: &str = "no-cache";

impl Site {
    /// The answer to `request`, whose path starts with the mount (or is
    /// the mount without its trailing slash, which redirects).
    pub fn answer(&self, request: &Request) -> Result<Reply> {
        request.allow(&[http::Method::GET, http::Method::HEAD])?;
        let bare = self.mount.trim_end_matches('/');
        if request.path == bare {
            return Ok(redirect(self.mount));
        }
        let inside = request
            .path
            .strip_prefix(self.mount)
            .ok_or(Error::NotFound { what: "route" })?;
        let asset = self.find(inside)?;
        Ok(respond(asset, request))
    }

    /// The file at `inside`; a path with no file extension is a screen of
    /// the app, answered by `index.html` so that a reload or a shared link
    /// lands in the app.
    fn find(&self, inside: &str) -> Result<&'static Asset> {
        let wanted = if inside.is_empty() {
            "index.html"
        } else {
            inside
        };
        if let Some(asset) = self.assets.iter().find(|a| a.path == wanted) {
            return Ok(asset);
        }
        let last = wanted.rsplit('/').next().unwrap_or(wanted);
        if last.contains('.') {
            return Err(Error::NotFound { what: "file" });
        }
        self.assets
            .iter()
            .find(|a| a.path == "index.html")
            .ok_or(Error::NotFound { what: "file" })
    }
}

fn redirect(location: &str) -> Reply {
    Reply {
        status: 308,
        content_type: "text/plain; charset=utf-8",
        headers: vec![("location".into(), location.into())],
        body: Vec::new(),
    }
}

fn respond(asset: &'static Asset, request: &Request) -> Reply {
    let cache = if asset.path.starts_with("assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut headers = vec![
        ("cache-control".to_string(), cache.to_string()),
        ("etag".into(), asset.etag.into()),
        ("vary".into(), "Accept-Encoding".into()),
        ("x-content-type-options".into(), "nosniff".into()),
        ("referrer-policy".into(), "same-origin".into()),
    ];
    if asset.content_type.starts_with("text/html") {
        headers.push((
            "content-security-policy".into(),
            CONTENT_SECURITY_POLICY.into(),
        ));
    }
    if request
        .header("if-none-match")
        .is_some_and(|tags| matches_etag(tags, asset.etag))
    {
        return Reply {
            status: 304,
            content_type: asset.content_type,
            headers,
            body: Vec::new(),
        };
    }
    let accepted = request.header("accept-encoding").unwrap_or("");
    let (encoding, bytes) = choose_encoding(asset, accepted);
    if let Some(encoding) = encoding {
        headers.push(("content-encoding".into(), encoding.into()));
    }
    let body = if request.method == http::Method::HEAD {
        Vec::new()
    } else {
        bytes.to_vec()
    };
    Reply {
        status: 200,
        content_type: asset.content_type,
        headers,
        body,
    }
}

/// `If-None-Match` holds `*` or a list of entity tags, weak ones marked
/// `W/`; the weak comparison of RFC 9110 §13.1.2 applies.
fn matches_etag(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag.trim_start_matches("W/")
    })
}

/// Brotli, then gzip, then the bytes as built: the first the browser
/// accepts (a coding listed with `q=0` is refused, RFC 9110 §12.5.3).
fn choose_encoding(asset: &Asset, accept: &str) -> (Option<&'static str>, &'static [u8]) {
    let accepts = |coding: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
        })
    };
    match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts("br") => (Some("br"), br),
        (_, Some(gz)) if accepts("gzip") => (Some("gzip"), gz),
        _ => (None, asset.identity),
    }
}

#[cfg(test)]
#[path = "site_tests.rs"]
mod tests;
