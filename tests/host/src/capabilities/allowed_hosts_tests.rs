use super::AllowedHosts;

fn hosts(entries: &[&str]) -> AllowedHosts {
    let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
    match AllowedHosts::parse(&entries) {
        Ok(hosts) => hosts,
        Err(err) => panic!("{entries:?} should parse: {err:#}"),
    }
}

fn allows(hosts: &AllowedHosts, url: &str) -> bool {
    hosts.allows(&url::Url::parse(url).expect("test URL"))
}

#[test]
fn exact_host_with_default_port() {
    let h = hosts(&["https://example.com"]);
    assert!(allows(&h, "https://example.com/path?q=1"));
    assert!(allows(&h, "https://example.com:443/"));
    assert!(allows(&h, "https://EXAMPLE.com/"));
    assert!(!allows(&h, "https://example.com:8443/"));
    assert!(!allows(&h, "http://example.com/"));
    assert!(!allows(&h, "https://api.example.com/"));
}

#[test]
fn postgres_address_with_and_without_port() {
    let h = hosts(&["postgres://127.0.0.1:5432"]);
    assert!(allows(&h, "postgres://127.0.0.1:5432"));
    assert!(allows(&h, "postgres://user:pw@127.0.0.1/db"));
    assert!(!allows(&h, "postgres://127.0.0.1:5433"));
    let h = hosts(&["postgres://DB.internal"]);
    assert!(allows(&h, "postgres://db.internal:5432"));
}

#[test]
fn wildcards() {
    let h = hosts(&["*://*:*"]);
    assert!(allows(&h, "ftp://anything:21"));
    assert!(allows(&h, "postgres://10.0.0.1:1"));
    assert!(h.allows_relative("http"));

    let h = hosts(&["https://*.example.com"]);
    assert!(allows(&h, "https://api.example.com"));
    assert!(allows(&h, "https://a.b.example.com"));
    assert!(!allows(&h, "https://example.com"));
    assert!(!allows(&h, "https://badexample.com"));

    let h = hosts(&["*://example.com:8080"]);
    assert!(allows(&h, "http://example.com:8080"));
    assert!(allows(&h, "redis://example.com:8080"));
    assert!(!allows(&h, "http://example.com"));

    let h = hosts(&["http://localhost:*"]);
    assert!(allows(&h, "http://localhost:1234"));
    assert!(allows(&h, "http://localhost"));
}

#[test]
fn port_ranges_are_end_exclusive() {
    let h = hosts(&["http://localhost:3000..3002"]);
    assert!(allows(&h, "http://localhost:3000"));
    assert!(allows(&h, "http://localhost:3001"));
    assert!(!allows(&h, "http://localhost:3002"));
    assert!(!allows(&h, "http://localhost"));
}

#[test]
fn cidr_and_ip_literals() {
    let h = hosts(&["postgres://10.1.0.0/16:5432", "http://[::1]:8080"]);
    assert!(allows(&h, "postgres://10.1.200.3:5432"));
    assert!(!allows(&h, "postgres://10.2.0.1:5432"));
    assert!(!allows(&h, "postgres://db.example:5432"));
    assert!(allows(&h, "http://[::1]:8080/x"));
}

#[test]
fn self_and_service_chaining() {
    let h = hosts(&["http://self", "http://points.spin.internal"]);
    assert!(h.allows_relative("http"));
    assert!(!h.allows_relative("https"));
    assert!(h.allows_spin_internal("points"));
    assert!(!h.allows_spin_internal("admin"));
    assert!(!allows(&h, "http://self/"));

    let h = hosts(&["http://*.spin.internal"]);
    assert!(h.allows_spin_internal("admin"));
    assert!(!h.allows_relative("http"));

    let none = hosts(&[]);
    assert!(!none.allows_spin_internal("admin"));
    assert!(!allows(&none, "https://example.com"));
}

#[test]
fn malformed_entries_are_refused_like_spin() {
    for bad in [
        "example.com",
        "*",
        "",
        "insecure:allow-all",
        "https://example.com/path",
        "ftp://example.com",
        "*://example.com",
        "https://ex*ample.com",
        "https://*.*.example.com",
        "https://example.com:1-100",
        "https://example.com:http",
        "h2c+://example.com:80",
        "{http,https}://example.com",
        "https://{a,b}.com",
        "postgres://{{ pg_host }}",
    ] {
        let result = AllowedHosts::parse(&[bad.to_string()]);
        assert!(result.is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn errors_name_the_entry() {
    let err = AllowedHosts::parse(&["https://example.com:x".to_string()])
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("https://example.com:x"), "{err}");
}
