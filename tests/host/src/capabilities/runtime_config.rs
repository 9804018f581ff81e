//! `--runtime-config-file`: the `[key_value_store.<label>]` and
//! `[sqlite_database.<label>]` sections Spin 4 reads, nothing else.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Parsed runtime-config.toml.
#[derive(Default, Clone, Debug, PartialEq)]
pub struct RuntimeConfig {
    /// `[key_value_store.<label>]`; `default` is added by the host when absent.
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
    /// `[sqlite_database.<label>]`; `default` is added by the host when absent.
    pub sqlite_databases: BTreeMap<String, SqliteDatabaseConfig>,
}

/// One key-value store.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyValueStoreConfig {
    /// `type = "spin"`: SQLite at `path` (resolved against the runtime
    /// config's folder, as Spin does), or in memory without one.
    Spin { path: Option<PathBuf> },
    /// `type = "redis"`: every label on one server shares its keyspace, as
    /// in Spin.
    Redis { url: String },
}

/// One SQLite database.
#[derive(Clone, Debug, PartialEq)]
pub enum SqliteDatabaseConfig {
    /// `type = "spin"`: a file at `path`, or a fresh in-memory database per
    /// connection without one (Spin's behaviour). A relative path is
    /// resolved against the current directory, not the runtime config's
    /// folder: Spin 4.0.2 does the same for SQLite (but not for key-value).
    Spin {
        path: Option<PathBuf>,
        allow_attach_file: bool,
    },
}

impl RuntimeConfig {
    /// Reads and parses `path`; relative paths inside resolve as Spin does.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the runtime config {}", path.display()))?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::from_toml(&text, &base_dir)
            .with_context(|| format!("in the runtime config {}", path.display()))
    }

    /// Parses runtime-config TOML; `base_dir` is the folder of the file it
    /// came from (key-value `path`s are relative to it).
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self> {
        let table: toml::Table =
            toml::from_str(text).context("the runtime config is not valid TOML")?;
        let mut config = Self::default();
        for (section, value) in table {
            match section.as_str() {
                "key_value_store" => {
                    for (label, store) in labelled_tables(&section, value)? {
                        let store = parse_store(store, base_dir)
                            .with_context(|| format!("in [key_value_store.{label}]"))?;
                        config.key_value_stores.insert(label, store);
                    }
                }
                "sqlite_database" => {
                    for (label, database) in labelled_tables(&section, value)? {
                        let database = parse_database(database)
                            .with_context(|| format!("in [sqlite_database.{label}]"))?;
                        config.sqlite_databases.insert(label, database);
                    }
                }
                other => bail!(
                    "[{other}] in the runtime config is not supported by this host; it supports only [key_value_store.<label>] and [sqlite_database.<label>]"
                ),
            }
        }
        Ok(config)
    }
}

fn labelled_tables(section: &str, value: toml::Value) -> Result<Vec<(String, toml::Table)>> {
    let toml::Value::Table(labels) = value else {
        bail!("[{section}] must be a table of labels, e.g. [{section}.default]");
    };
    labels
        .into_iter()
        .map(|(label, value)| match value {
            toml::Value::Table(table) => Ok((label, table)),
            _ => bail!("[{section}.{label}] must be a table"),
        })
        .collect()
}

/// Takes `type`, then hands back the remaining keys for the type's parser.
fn take_type(table: &mut toml::Table) -> Result<String> {
    match table.remove("type") {
        Some(toml::Value::String(kind)) => Ok(kind),
        Some(_) => bail!("`type` must be a string"),
        None => bail!("missing `type` (\"spin\" or \"redis\")"),
    }
}

fn take_string(table: &mut toml::Table, key: &str) -> Result<Option<String>> {
    match table.remove(key) {
        Some(toml::Value::String(value)) => Ok(Some(value)),
        Some(_) => bail!("`{key}` must be a string"),
        None => Ok(None),
    }
}

fn refuse_leftovers(table: &toml::Table, kind: &str) -> Result<()> {
    if let Some(key) = table.keys().next() {
        bail!("unknown key `{key}` for type = \"{kind}\"");
    }
    Ok(())
}

fn parse_store(mut table: toml::Table, base_dir: &Path) -> Result<KeyValueStoreConfig> {
    let kind = take_type(&mut table)?;
    let store = match kind.as_str() {
        "spin" => {
            let path = take_string(&mut table, "path")?.map(|p| base_dir.join(p));
            KeyValueStoreConfig::Spin { path }
        }
        "redis" => {
            let url = take_string(&mut table, "url")?.context("type = \"redis\" needs a `url`")?;
            redis::parse_redis_url(&url).with_context(|| format!("invalid Redis URL {url:?}"))?;
            KeyValueStoreConfig::Redis { url }
        }
        "azure_cosmos" | "aws_dynamo" => {
            bail!("key-value store type \"{kind}\" is not supported by this host (only \"spin\" and \"redis\")")
        }
        other => bail!(
            "unknown key-value store type \"{other}\" (this host supports \"spin\" and \"redis\")"
        ),
    };
    refuse_leftovers(&table, &kind)?;
    Ok(store)
}

fn parse_database(mut table: toml::Table) -> Result<SqliteDatabaseConfig> {
    let kind = take_type(&mut table)?;
    let database = match kind.as_str() {
        "spin" => {
            let path = match take_string(&mut table, "path")? {
                Some(path) => Some(
                    std::path::absolute(&path)
                        .with_context(|| format!("resolving the SQLite path {path:?}"))?,
                ),
                None => None,
            };
            let allow_attach_file = match table.remove("allow_attach_file") {
                Some(toml::Value::Boolean(allow)) => allow,
                Some(_) => bail!("`allow_attach_file` must be a boolean"),
                None => false,
            };
            SqliteDatabaseConfig::Spin {
                path,
                allow_attach_file,
            }
        }
        "libsql" => {
            bail!("SQLite database type \"libsql\" is not supported by this host (only \"spin\")")
        }
        other => bail!("unknown SQLite database type \"{other}\" (this host supports \"spin\")"),
    };
    refuse_leftovers(&table, &kind)?;
    Ok(database)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeConfig> {
        RuntimeConfig::from_toml(text, Path::new("/app"))
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(config) => panic!("{text} should be refused, got {config:?}"),
            Err(err) => format!("{err:#}"),
        }
    }

    #[test]
    fn empty_config_is_empty() {
        assert_eq!(parse("").ok(), Some(RuntimeConfig::default()));
    }

    #[test]
    fn key_value_stores() {
        let config = parse(
            r#"
            [key_value_store.default]
            type = "redis"
            url = "redis://127.0.0.1:6379"
            [key_value_store.cache]
            type = "spin"
            path = "data/cache.db"
            [key_value_store.scratch]
            type = "spin"
            "#,
        )
        .expect("valid config");
        let stores = &config.key_value_stores;
        assert_eq!(
            stores.get("default"),
            Some(&KeyValueStoreConfig::Redis {
                url: "redis://127.0.0.1:6379".into()
            })
        );
        assert_eq!(
            stores.get("cache"),
            Some(&KeyValueStoreConfig::Spin {
                path: Some(PathBuf::from("/app/data/cache.db"))
            })
        );
        assert_eq!(
            stores.get("scratch"),
            Some(&KeyValueStoreConfig::Spin { path: None })
        );
    }

    #[test]
    fn sqlite_databases() {
        let config = parse(
            r#"
            [sqlite_database.default]
            type = "spin"
            path = "/var/db/app.db"
            allow_attach_file = true
            "#,
        )
        .expect("valid config");
        assert_eq!(
            config.sqlite_databases.get("default"),
            Some(&SqliteDatabaseConfig::Spin {
                path: Some(PathBuf::from("/var/db/app.db")),
                allow_attach_file: true
            })
        );
    }

    #[test]
    fn clear_errors() {
        let cases = [
            (
                "[variables_provider]\ntype = \"vault\"",
                "not supported by this host",
            ),
            (
                "[[llm_compute]]\ntype = \"remote_http\"",
                "not supported by this host",
            ),
            (
                "[key_value_store.default]\ntype = \"azure_cosmos\"",
                "not supported by this host",
            ),
            (
                "[key_value_store.default]\ntype = \"mongo\"",
                "unknown key-value store type",
            ),
            (
                "[key_value_store.default]\ntype = \"redis\"",
                "needs a `url`",
            ),
            (
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"http://x\"",
                "invalid Redis URL",
            ),
            (
                "[key_value_store.default]\ntype = \"spin\"\npaht = \"x\"",
                "unknown key `paht`",
            ),
            ("[key_value_store.default]\npath = \"x\"", "missing `type`"),
            (
                "[sqlite_database.default]\ntype = \"libsql\"",
                "not supported by this host",
            ),
            (
                "[sqlite_database.default]\ntype = \"spin\"\nurl = \"x\"",
                "unknown key `url`",
            ),
            ("key_value_store = 3", "must be a table"),
            ("not toml", "not valid TOML"),
        ];
        for (text, expected) in cases {
            let err = error(text);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn from_file_resolves_against_its_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("runtime-config.toml");
        std::fs::write(
            &file,
            "[key_value_store.default]\ntype = \"spin\"\npath = \"kv.db\"\n",
        )
        .expect("write");
        let config = RuntimeConfig::from_file(&file).expect("valid config");
        assert_eq!(
            config.key_value_stores.get("default"),
            Some(&KeyValueStoreConfig::Spin {
                path: Some(dir.path().join("kv.db"))
            })
        );
        let missing = RuntimeConfig::from_file(&dir.path().join("nope.toml"));
        assert!(missing.is_err());
    }
}
