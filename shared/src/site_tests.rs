use super::*;

static ASSETS: &[Asset] = &[
    Asset {
        path: "index.html",
        content_type: "text/html; charset=utf-8",
        etag: "\"idx\"",
        identity: b"<!doctype html>",
        gzip: Some(b"gz-index"),
        brotli: Some(b"br-index"),
    },
    Asset {
        path: "assets/app-1a2b.js",
        content_type: "text/javascript; charset=utf-8",
        etag: "\"js\"",
        identity: b"console.log(1)",
        gzip: Some(b"gz-js"),
        brotli: None,
    },
];

const SITE: Site = Site {
    mount: "/console/",
    assets: ASSETS,
};

fn get(path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
    let headers = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    SITE.answer(&Request::new(http::Method::GET, path, headers, vec![]))
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_mount_without_its_slash_redirects() {
    let reply = get("/console", &[]).unwrap();
    assert_eq!(reply.status, 308);
    assert_eq!(header(&reply, "location"), Some("/console/"));
}

#[test]
fn index_is_revalidated_and_carries_the_policy() {
    let reply = get("/console/", &[]).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"<!doctype html>");
    assert_eq!(header(&reply, "cache-control"), Some("no-cache"));
    let csp = header(&reply, "content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
}

#[test]
fn hashed_assets_are_cached_for_a_year() {
    let reply = get("/console/assets/app-1a2b.js", &[]).unwrap();
    assert_eq!(header(&reply, "cache-control"), Some(IMMUTABLE));
    assert_eq!(header(&reply, "content-security-policy"), None);
}

#[test]
fn brotli_then_gzip_then_identity() {
    let br = get("/console/", &[("accept-encoding", "gzip, deflate, br")]).unwrap();
    assert_eq!(header(&br, "content-encoding"), Some("br"));
    assert_eq!(br.body, b"br-index");
    let gz = get("/console/", &[("accept-encoding", "gzip, br;q=0")]).unwrap();
    assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
    let js = get(
        "/console/assets/app-1a2b.js",
        &[("accept-encoding", "br, gzip")],
    )
    .unwrap();
    assert_eq!(js.body, b"gz-js");
    let plain = get("/console/", &[("accept-encoding", "identity")]).unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(plain.body, b"<!doctype html>");
}

#[test]
fn a_matching_etag_is_a_304_without_body() {
    let reply = get("/console/", &[("if-none-match", "W/\"other\", \"idx\"")]).unwrap();
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
}

#[test]
fn screens_fall_back_to_index_but_missing_files_are_404() {
    assert_eq!(
        get("/console/orders/12", &[]).unwrap().body,
        b"<!doctype html>"
    );
    assert!(matches!(
        get("/console/assets/gone-9999.js", &[]),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn only_get_and_head() {
    let post = SITE.answer(&Request::new(
        http::Method::POST,
        "/console/",
        vec![],
        vec![],
    ));
    assert!(matches!(post, Err(Error::MethodNotAllowed { .. })));
    let head = SITE
        .answer(&Request::new(
            http::Method::HEAD,
            "/console/",
            vec![],
            vec![],
        ))
        .unwrap();
    assert!(head.body.is_empty());
}
