//! Unit tests of `router`.
use super::*;

fn router(routes: &[(&str, &str)]) -> Router {
    match Router::build(routes.iter().copied()) {
        Ok((router, _)) => router,
        Err(e) => panic!("router: {e:#}"),
    }
}

fn component(router: &Router, path: &str) -> Option<String> {
    router.route(path).map(|m| m.component)
}

#[test]
fn exact_beats_wildcard_and_longer_prefix_wins() {
    let r = router(&[
        ("all", "/..."),
        ("one", "/one/..."),
        ("onetwo", "/one/two/..."),
        ("exact", "/one"),
    ]);
    assert_eq!(component(&r, "/one").as_deref(), Some("exact"));
    assert_eq!(component(&r, "/one/x").as_deref(), Some("one"));
    assert_eq!(
        component(&r, "/one/two/three/four").as_deref(),
        Some("onetwo")
    );
    assert_eq!(component(&r, "/").as_deref(), Some("all"));
    assert_eq!(component(&r, "/other?x=1").as_deref(), Some("all"));
    let reversed = router(&[("onetwo", "/one/two/..."), ("one", "/one/...")]);
    assert_eq!(
        component(&reversed, "/one/two/three").as_deref(),
        Some("onetwo")
    );
}

#[test]
fn captures_become_headers() {
    let r = router(&[
        ("orders", "/orders/:id"),
        ("items", "/orders/:id/items/..."),
        ("all", "/..."),
    ]);
    let m = r.route("/orders/42").expect("matches");
    assert_eq!(m.component, "orders");
    assert_eq!(m.captures, [("id".to_string(), "42".to_string())]);
    assert_eq!(m.path_info, "");
    let m = r.route("/orders/42/items/7/x").expect("matches");
    assert_eq!(m.component, "items");
    assert_eq!(m.path_info, "/7/x");
    let headers = m.headers("http://h/orders/42/items/7/x", "1.2.3.4:5");
    assert!(headers.contains(&("spin-path-match-id".into(), "42".into())));
    assert!(headers.contains(&("spin-component-route".into(), "/orders/:id/items".into())));
    assert!(headers.contains(&(
        "spin-raw-component-route".into(),
        "/orders/:id/items/...".into()
    )));
    assert_eq!(component(&r, "/orders").as_deref(), Some("all"));
}

#[test]
fn literal_beats_capture() {
    let r = router(&[("any", "/orders/:id"), ("new", "/orders/new")]);
    assert_eq!(component(&r, "/orders/new").as_deref(), Some("new"));
    assert_eq!(component(&r, "/orders/7").as_deref(), Some("any"));
}

#[test]
fn wildcard_path_info_respects_trailing_slash() {
    let r = router(&[("t", "/test/...")]);
    let info = |path: &str| r.route(path).map(|m| m.path_info);
    assert_eq!(info("/test").as_deref(), Some(""));
    assert_eq!(info("/test/").as_deref(), Some("/"));
    assert_eq!(info("/test/hello").as_deref(), Some("/hello"));
    assert_eq!(info("/test/hello/").as_deref(), Some("/hello/"));
    assert_eq!(info("/testing"), None);
}

#[test]
fn unknown_paths_do_not_match_without_catch_all() {
    let r = router(&[("health", "/api/health"), ("admin", "/admin/...")]);
    assert_eq!(component(&r, "/nope"), None);
    assert_eq!(component(&r, "/api/health/x"), None);
    assert_eq!(component(&r, "/api"), None);
    let m = r.route("/admin").expect("wildcard matches its prefix");
    assert_eq!(
        (m.based_route.as_str(), m.path_info.as_str()),
        ("/admin/...", "")
    );
}

#[test]
fn duplicates_replace_in_place_and_display_like_spin() {
    let (r, replaced) = Router::build([
        ("a", "/x"),
        ("root", "/"),
        ("b", "/x"),
        ("w", "/w/..."),
        ("all", "/..."),
    ])
    .expect("valid routes");
    assert_eq!(replaced.len(), 1);
    assert_eq!(component(&r, "/x").as_deref(), Some("b"));
    let shown: Vec<String> = r
        .entries()
        .iter()
        .map(|e| format!("{}", e.pattern))
        .collect();
    assert_eq!(shown, ["/x", "", "/w (wildcard)", " (wildcard)"]);
}

#[test]
fn private_routes_are_synthetic_wildcards() {
    let m = RouteMatch::synthetic("inner", "/do/it");
    let headers = m.headers("http://inner.spin.internal/do/it", "0.0.0.0:0");
    assert!(headers.contains(&("spin-path-info".into(), "/do/it".into())));
    assert!(headers.contains(&("spin-matched-route".into(), "/...".into())));
    assert!(headers.contains(&("spin-component-route".into(), "".into())));
}

#[test]
fn private_routes_get_no_public_route() -> Result<()> {
    let manifest = Manifest::parse(
        r#"
spin_manifest_version = 2
[application]
name = "t"
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = { private = true }
component = "inner"
[component.api]
source = "api.wasm"
[component.inner]
source = "inner.wasm"
"#,
    )?;
    let (r, _) = Router::from_manifest(&manifest)?;
    assert_eq!(r.entries().len(), 1);
    assert_eq!(component(&r, "/api/inner").as_deref(), Some("api"));
    assert_eq!(component(&r, "/inner"), None);
    Ok(())
}

#[test]
fn malformed_routes_are_refused() {
    assert!(RoutePattern::parse("/a/.../b").is_err());
    assert!(RoutePattern::parse("/a/:/b").is_err());
}

#[test]
fn capture_names_with_underscores_become_dashed_headers_like_spin() {
    // The conformance suite's request-shape route and request.
    let r = router(&[("request-shape", "/base/:path_segment/:path_end/...")]);
    let m = r.route("/base/path/end/rest").expect("matches");
    let headers = m.headers(
        "http://example.com/base/path/end/rest?key=value",
        "127.0.0.1:5",
    );
    let expected = [
        ("spin-path-info", "/rest"),
        (
            "spin-full-url",
            "http://example.com/base/path/end/rest?key=value",
        ),
        ("spin-matched-route", "/base/:path_segment/:path_end/..."),
        ("spin-base-path", "/"),
        (
            "spin-raw-component-route",
            "/base/:path_segment/:path_end/...",
        ),
        ("spin-component-route", "/base/:path_segment/:path_end"),
        ("spin-client-addr", "127.0.0.1:5"),
        ("spin-path-match-path-segment", "path"),
        ("spin-path-match-path-end", "end"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    assert_eq!(headers, expected);
}

#[test]
fn capture_header_names_are_lower_case() {
    let r = router(&[("users", "/users/:userID")]);
    let m = r.route("/users/42").expect("matches");
    let headers = m.headers("http://h/users/42", "1.2.3.4:5");
    assert!(headers.contains(&("spin-path-match-userid".into(), "42".into())));
}
