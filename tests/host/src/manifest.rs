//! The subset of Spin's manifest v2 (`spin.toml`) this host runs.
//!
//! Every table rejects keys it does not know, so a manifest that relies on a
//! Spin feature this host lacks fails at start-up instead of silently
//! behaving differently from `spin up`.

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed and validated manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be 2; kept as a raw value so a v1 manifest gets a clear message.
    pub spin_manifest_version: toml::Value,
    /// `[application]`.
    pub application: Application,
    /// `[variables]`: application variables by lower-snake-case name.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.*]]`.
    #[serde(default)]
    pub trigger: Triggers,
    /// `[component.<id>]`.
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The application name.
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
    /// A description, not used.
    #[serde(default)]
    pub description: String,
    /// Authors, not used.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Tool-specific metadata, ignored as Spin ignores it.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// One entry of `[variables]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// A description, not used.
    #[serde(default)]
    pub description: Option<String>,
    /// Start-up fails if no value is supplied.
    #[serde(default)]
    pub required: bool,
    /// The value when none is supplied.
    #[serde(default)]
    pub default: Option<String>,
    /// Its value is never printed.
    #[serde(default)]
    pub secret: bool,
}

/// `[[trigger.http]]` and `[[trigger.cron]]`; any other trigger type is refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// HTTP triggers, in manifest order (later duplicates win, as in Spin).
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
    /// Cron triggers (the `spin-trigger-cron` plugin's schema).
    #[serde(default)]
    pub cron: Vec<CronTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// An optional trigger id, unused.
    #[serde(default)]
    pub id: Option<String>,
    /// The route pattern, or private.
    pub route: Route,
    /// The component id; inline components are not supported.
    pub component: String,
}

/// `route = "/pattern"` or `route = { private = true }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub enum Route {
    /// A public route pattern.
    Pattern(String),
    /// Reachable only as `http://<component>.spin.internal`.
    Private,
}

impl TryFrom<toml::Value> for Route {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::String(pattern) => Ok(Route::Pattern(pattern)),
            toml::Value::Table(table) => match (table.get("private"), table.len()) {
                (Some(toml::Value::Boolean(true)), 1) => Ok(Route::Private),
                (Some(toml::Value::Boolean(false)), 1) => {
                    Err("route must be a string pattern or `{ private = true }`, not `{ private = false }`".into())
                }
                _ => Err(format!("route table must be exactly `{{ private = true }}`, got {table}")),
            },
            other => Err(format!("route must be a string or `{{ private = true }}`, got {other}")),
        }
    }
}

/// One `[[trigger.cron]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronTrigger {
    /// The component id (a plain string, as the plugin requires).
    pub component: String,
    /// Six fields, seconds first.
    pub cron_expression: String,
}

/// `[component.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The wasm file, relative to the manifest; remote sources are not supported.
    #[serde(deserialize_with = "local_source")]
    pub source: String,
    /// Shown under the route list, as Spin does.
    #[serde(default)]
    pub description: String,
    /// Component variables: name -> template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables of the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Outbound network permissions; may contain `{{ variable }}` templates.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// SQLite database labels.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// `spin build` settings: accepted, never run.
    #[serde(default)]
    pub build: Option<Build>,
    /// Tool-specific metadata, ignored.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

fn local_source<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match toml::Value::deserialize(deserializer)? {
        toml::Value::String(path) => Ok(path),
        other => Err(serde::de::Error::custom(format!(
            "only a local file path is supported as `source`, got {other}"
        ))),
    }
}

/// `[component.<id>.build]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The build command(s), quoted in the "missing wasm" error.
    pub command: Commands,
    /// Working directory of the command.
    #[serde(default)]
    pub workdir: Option<String>,
    /// `spin watch` globs.
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One command or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Commands {
    /// `command = "..."`.
    Single(String),
    /// `command = ["...", "..."]`.
    Multiple(Vec<String>),
}

impl Commands {
    /// The commands joined as a shell would run them.
    pub fn joined(&self) -> String {
        match self {
            Commands::Single(command) => command.clone(),
            Commands::Multiple(commands) => commands.join(" && "),
        }
    }
}

impl Manifest {
    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("the manifest is not a Spin manifest v2 this host supports")?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads `path` (a `spin.toml` or a directory containing one).
    pub fn load(path: &Path) -> Result<(Self, PathBuf)> {
        let file = if path.is_dir() {
            path.join("spin.toml")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading the manifest {}", file.display()))?;
        let manifest =
            Self::parse(&text).with_context(|| format!("in the manifest {}", file.display()))?;
        Ok((manifest, file))
    }

    fn validate(&self) -> Result<()> {
        ensure!(
            self.spin_manifest_version == toml::Value::Integer(2),
            "spin_manifest_version must be 2 (found {}); only manifest v2 is supported",
            self.spin_manifest_version
        );
        for (name, variable) in &self.variables {
            ensure!(
                is_lower_snake(name),
                "variable name `{name}` must be lower_snake_case"
            );
            match (variable.required, &variable.default) {
                (true, Some(_)) => {
                    bail!("variable `{name}` cannot be both required and have a default")
                }
                (false, None) => {
                    bail!("variable `{name}` needs either `default = ...` or `required = true`")
                }
                _ => {}
            }
        }
        for (id, component) in &self.component {
            ensure!(
                is_kebab(id),
                "component id `{id}` must be kebab-case (lower-case letters, digits, '-')"
            );
            for name in component.variables.keys() {
                ensure!(
                    is_lower_snake(name),
                    "component `{id}`: variable name `{name}` must be lower_snake_case"
                );
            }
        }
        for trigger in &self.trigger.http {
            self.ensure_component(&trigger.component, "[[trigger.http]]")?;
            if let Route::Pattern(pattern) = &trigger.route {
                crate::router::RoutePattern::parse(pattern).with_context(|| {
                    format!("route `{pattern}` of component `{}`", trigger.component)
                })?;
            }
        }
        for trigger in &self.trigger.cron {
            self.ensure_component(&trigger.component, "[[trigger.cron]]")?;
            crate::cron::parse_schedule(&trigger.cron_expression)
                .with_context(|| format!("cron trigger of component `{}`", trigger.component))?;
        }
        Ok(())
    }

    fn ensure_component(&self, id: &str, what: &str) -> Result<()> {
        ensure!(
            self.component.contains_key(id),
            "{what} names component `{id}`, which has no [component.{id}] table"
        );
        Ok(())
    }

    /// Ids of the components some trigger uses, each once, in manifest order.
    pub fn triggered_components(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        let all = self.trigger.http.iter().map(|t| t.component.as_str());
        for id in all.chain(self.trigger.cron.iter().map(|t| t.component.as_str())) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

fn is_lower_snake(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_kebab(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests;
