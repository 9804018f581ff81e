//! Application and component variables, resolved once at start-up.
//!
//! Spin's rules: an application variable takes its value from a provider
//! (here `SPIN_VARIABLE_<NAME>` or the programmatic map) or else its
//! default; a required one without a value stops start-up. Component
//! variables and `allowed_outbound_hosts` entries are templates whose
//! `{{ name }}` expressions name application variables.

use crate::manifest::Variable;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap};

/// The environment prefix Spin's environment provider reads.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

/// Application variables with their final values.
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: HashMap<String, String>,
}

impl AppVariables {
    /// Resolves every declared variable: `supplied` (lower-case names) wins
    /// over the default; a required variable without a value is an error.
    pub fn resolve(
        declared: &BTreeMap<String, Variable>,
        supplied: &HashMap<String, String>,
    ) -> Result<Self> {
        // Names are case-insensitive on the way in, as env var names are.
        let supplied: HashMap<String, &String> = supplied
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        for name in supplied.keys() {
            if !declared.contains_key(name) {
                // Spin ignores values for undeclared variables too; say so, as
                // it is usually a typo.
                eprintln!("warning: variable `{name}` is supplied but not declared in [variables]; ignored");
            }
        }
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        for (name, variable) in declared {
            match supplied.get(name).copied().or(variable.default.as_ref()) {
                Some(value) => {
                    values.insert(name.clone(), value.clone());
                }
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            let how: Vec<String> = missing
                .iter()
                .map(|name| format!("{ENV_PREFIX}{}", name.to_ascii_uppercase()))
                .collect();
            bail!(
                "required variable(s) {} have no value; set {}",
                missing.join(", "),
                how.join(", ")
            );
        }
        Ok(Self { values })
    }

    /// Renders a template such as `postgres://{{ pg_host }}`.
    pub fn render(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("unmatched '{{{{' in template {template:?}");
            };
            let name = after[..end].trim();
            let value = self.values.get(name).with_context(|| {
                format!("template {template:?} refers to `{name}`, which is not declared in [variables]")
            })?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A component's variables: its `[component.X.variables]` rendered.
    pub fn for_component(
        &self,
        component: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        templates
            .iter()
            .map(|(name, template)| {
                let value = self
                    .render(template)
                    .with_context(|| format!("component `{component}`: variable `{name}`"))?;
                Ok((name.clone(), value))
            })
            .collect()
    }

    /// `allowed_outbound_hosts` with their templates rendered.
    pub fn hosts(&self, component: &str, entries: &[String]) -> Result<Vec<String>> {
        entries
            .iter()
            .map(|entry| {
                self.render(entry).with_context(|| {
                    format!("component `{component}`: allowed_outbound_hosts entry {entry:?}")
                })
            })
            .collect()
    }
}

/// `SPIN_VARIABLE_<NAME>` from the process environment, as lower-case names.
pub fn from_env() -> HashMap<String, String> {
    std::env::vars()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix(ENV_PREFIX)?;
            Some((name.to_ascii_lowercase(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> BTreeMap<String, Variable> {
        let mut declared = BTreeMap::new();
        let default = |value: &str| Variable {
            default: Some(value.into()),
            ..Variable::default()
        };
        declared.insert("pg_host".to_string(), default("127.0.0.1:5432"));
        declared.insert("limit".to_string(), default("10"));
        declared.insert(
            "admin_token".to_string(),
            Variable {
                required: true,
                secret: true,
                ..Variable::default()
            },
        );
        declared
    }

    fn supplied(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn supplied_values_beat_defaults() -> Result<()> {
        let vars = AppVariables::resolve(
            &declared(),
            &supplied(&[("admin_token", "t"), ("limit", "5")]),
        )?;
        assert_eq!(vars.render("{{ limit }}/{{pg_host}}")?, "5/127.0.0.1:5432");
        assert_eq!(vars.render("Bearer {{  admin_token  }}!")?, "Bearer t!");
        Ok(())
    }

    #[test]
    fn a_missing_required_variable_is_named() {
        let error = AppVariables::resolve(&declared(), &HashMap::new())
            .map(|_| ())
            .expect_err("admin_token is required");
        let text = format!("{error:#}");
        assert!(text.contains("admin_token"), "{text}");
        assert!(text.contains("SPIN_VARIABLE_ADMIN_TOKEN"), "{text}");
    }

    #[test]
    fn templates_render_for_components_and_hosts() -> Result<()> {
        let vars = AppVariables::resolve(&declared(), &supplied(&[("admin_token", "t")]))?;
        let templates = BTreeMap::from([
            ("token".to_string(), "{{ admin_token }}".to_string()),
            ("plain".to_string(), "literal".to_string()),
        ]);
        let component = vars.for_component("admin", &templates)?;
        assert_eq!(component["token"], "t");
        assert_eq!(component["plain"], "literal");
        let hosts = vars.hosts("admin", &["postgres://{{ pg_host }}".to_string()])?;
        assert_eq!(hosts, ["postgres://127.0.0.1:5432"]);
        Ok(())
    }

    #[test]
    fn bad_templates_are_refused() -> Result<()> {
        let vars = AppVariables::resolve(&declared(), &supplied(&[("admin_token", "t")]))?;
        let undeclared = vars
            .render("{{ nope }}")
            .map(|_| ())
            .expect_err("undeclared");
        assert!(format!("{undeclared:#}").contains("`nope`"));
        let unmatched = vars
            .render("a {{ limit")
            .map(|_| ())
            .expect_err("unmatched");
        assert!(format!("{unmatched:#}").contains("unmatched"));
        Ok(())
    }
}
