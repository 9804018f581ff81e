//! Unit tests of `manifest`.
use super::*;

const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
token = { required = true, secret = true }
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = { private = true }
component = "inner"
[[trigger.cron]]
component = "job"
cron_expression = "0 0 2 * * *"
[component.api]
source = "api.wasm"
allowed_outbound_hosts = ["http://inner.spin.internal"]
[component.api.variables]
token = "{{ token }}"
[component.api.build]
command = "cargo build"
watch = ["src/**/*.rs"]
[component.inner]
source = "inner.wasm"
[component.job]
source = "job.wasm"
"#;

fn error_of(text: &str) -> String {
    match Manifest::parse(text) {
        Ok(_) => panic!("accepted an invalid manifest"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn parses_the_supported_subset() {
    let manifest = Manifest::parse(MINIMAL).expect("valid manifest");
    assert_eq!(manifest.trigger.http.len(), 2);
    assert_eq!(manifest.trigger.http[1].route, Route::Private);
    assert_eq!(manifest.trigger.cron[0].component, "job");
    assert_eq!(manifest.triggered_components(), ["api", "inner", "job"]);
    let api = &manifest.component["api"];
    assert_eq!(api.variables["token"], "{{ token }}");
    assert!(manifest.variables["token"].secret);
}

#[test]
fn refuses_unsupported_component_keys() {
    let text = MINIMAL.replace(
        "source = \"inner.wasm\"",
        "source = \"inner.wasm\"\nfiles = [\"a\"]",
    );
    let error = error_of(&text);
    assert!(error.contains("unknown field `files`"), "{error}");
}

#[test]
fn refuses_unsupported_trigger_types_and_keys() {
    let error = error_of(&format!(
        "{MINIMAL}\n[[trigger.redis]]\ncomponent = \"api\"\nchannel = \"x\"\n"
    ));
    assert!(error.contains("unknown field `redis`"), "{error}");
    let text = MINIMAL.replace(
        "route = \"/api/...\"",
        "route = \"/api/...\"\nexecutor = { type = \"wagi\" }",
    );
    let error = error_of(&text);
    assert!(error.contains("unknown field `executor`"), "{error}");
}

#[test]
fn refuses_remote_sources_and_public_false() {
    let text = MINIMAL.replace(
        "source = \"job.wasm\"",
        "source = { url = \"https://x\", digest = \"d\" }",
    );
    assert!(error_of(&text).contains("only a local file path"));
    let text = MINIMAL.replace("{ private = true }", "{ private = false }");
    assert!(error_of(&text).contains("private = false"));
}

#[test]
fn refuses_bad_references_and_versions() {
    let text = MINIMAL.replace("component = \"job\"", "component = \"nope\"");
    assert!(error_of(&text).contains("`nope`"));
    let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = \"1\"");
    assert!(error_of(&text).contains("must be 2"));
    let text = MINIMAL.replace("0 0 2 * * *", "every day");
    assert!(error_of(&text).contains("cron"));
    let text = MINIMAL.replace(
        "{ required = true, secret = true }",
        "{ required = true, default = \"x\" }",
    );
    assert!(error_of(&text).contains("both required"));
}
