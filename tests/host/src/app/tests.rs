//! Start-up errors of `App::load` that need no built component.

use crate::{App, HostConfig};
use std::collections::HashMap;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
token = { required = true }
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "missing/web.wasm"
key_value_stores = ["default"]
[component.web.variables]
token = "{{ token }}"
[component.web.build]
command = "cargo build --target wasm32-wasip2 --release -p web"
"#;

async fn load_error(manifest: &str, variables: &[(&str, &str)]) -> String {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("spin.toml");
    if let Err(e) = std::fs::write(&path, manifest) {
        panic!("writing the manifest: {e}");
    }
    let config = HostConfig {
        manifest: dir.path().to_path_buf(),
        variables: variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        ..HostConfig::default()
    };
    match App::load(&config).await {
        Ok(_) => panic!("loaded an app that should not start"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_missing_required_variable_stops_start_up() {
    let error = load_error(MANIFEST, &[]).await;
    assert!(
        error.contains("token") && error.contains("SPIN_VARIABLE_TOKEN"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_wasm_file_names_the_build_command() {
    let error = load_error(MANIFEST, &[("token", "x")]).await;
    assert!(error.contains("missing/web.wasm"), "{error}");
    assert!(
        error.contains("run the build first: cargo build --target wasm32-wasip2 --release -p web"),
        "{error}"
    );
}

#[tokio::test]
async fn an_undefined_store_label_stops_start_up() {
    let manifest = MANIFEST.replace("[\"default\"]", "[\"elsewhere\"]");
    let error = load_error(&manifest, &[("token", "x")]).await;
    assert!(error.contains("elsewhere"), "{error}");
}

#[tokio::test]
async fn an_undeclared_template_variable_stops_start_up() {
    let manifest = MANIFEST.replace("\"{{ token }}\"", "\"{{ nope }}\"");
    let error = load_error(&manifest, &[("token", "x")]).await;
    assert!(error.contains("`nope`"), "{error}");
}
