//! `fermyon:spin/variables@2.0.0`: the component's variables, already
//! resolved by the host core from the manifest and `SPIN_VARIABLE_*`.

use super::bindings::fermyon::spin::variables::{Error, Host};
use super::Capabilities;

/// Spin's rule for a variable name (`spin_expressions::Key`), with its
/// messages: lower-case letters, digits and single underscores, starting
/// with a letter and ending with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), String> {
    let reason = if name.is_empty() {
        "must not be empty".to_string()
    } else if let Some(invalid) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        format!("invalid character {invalid:?}. Variable names may contain only lower-case letters, numbers, and underscores.")
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "must start with a lowercase ASCII letter".to_string()
    } else if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        "must end with a lowercase ASCII letter or digit".to_string()
    } else if name.contains("__") {
        "must not contain multiple consecutive underscores".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{name:?}: {reason}"))
}

impl Host for Capabilities {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        if let Err(message) = validate_name(&name) {
            return Ok(Err(Error::InvalidName(message)));
        }
        Ok(match self.grants.variables.get(&name) {
            Some(value) => Ok(value.clone()),
            None => Err(Error::Undefined(format!("no variable for {name:?}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names_follow_spin() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3", "database_url"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "aX",
            "1bc",
            "_x",
            "x.y",
            "x_",
            "a__b",
            "x-y",
            "DATABASE_URL",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
