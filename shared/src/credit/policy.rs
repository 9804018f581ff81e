//! The *credit policy*: the numbers the SPEC leaves to the library, read
//! from Spin variables once and checked, so a typo in a deployment fails
//! loudly at the first request instead of lending on a threshold of zero.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `credit_sesame_threshold` | 600 | lowest Sesame score that lends deposit-free with door delivery |
//! | `credit_osmanthus_threshold` | 100 | lowest Osmanthus score that earns a deposit-free virtual card |
//! | `credit_decision_ttl_ms` | 86400000 | how long a decision is trusted before the provider is asked again |
//! | `loan_quota_sesame` | 10 | books a Sesame reader may hold at once |
//! | `loan_quota_osmanthus` | 10 | books a virtual-card reader may hold at once |
//! | `loan_quota_deposit` | 5 | books a reader who paid a deposit may hold at once |

use super::{CreditScore, CreditSource};
use crate::{Error, Result};

/// The variable naming the Sesame threshold.
pub const VAR_SESAME_THRESHOLD: &str = "credit_sesame_threshold";
/// The variable naming the Osmanthus threshold.
pub const VAR_OSMANTHUS_THRESHOLD: &str = "credit_osmanthus_threshold";
/// The variable naming how long a decision is trusted, in milliseconds.
pub const VAR_DECISION_TTL_MS: &str = "credit_decision_ttl_ms";
/// The variable naming the loan quota of a Sesame reader.
pub const VAR_QUOTA_SESAME: &str = "loan_quota_sesame";
/// The variable naming the loan quota of a virtual-card reader.
pub const VAR_QUOTA_OSMANTHUS: &str = "loan_quota_osmanthus";
/// The variable naming the loan quota of a deposit reader.
pub const VAR_QUOTA_DEPOSIT: &str = "loan_quota_deposit";

/// The longest a decision may be trusted: a month. Credit changes, and the
/// SPEC wants overdue readers to lose it, so a longer cache is a mistake.
pub const MAX_DECISION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The most books any standing may hold at once; a larger quota is a typo.
pub const MAX_LOAN_QUOTA: u32 = 100;

/// The library's credit configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPolicy {
    /// A Sesame score at or above this lends deposit-free with door delivery.
    pub sesame_threshold: CreditScore,
    /// An Osmanthus score at or above this earns a deposit-free virtual card.
    pub osmanthus_threshold: CreditScore,
    /// How long a decision is trusted, in milliseconds; always positive.
    pub decision_ttl_ms: i64,
    /// Books a Sesame reader may hold at once.
    pub quota_sesame: u32,
    /// Books a virtual-card reader may hold at once.
    pub quota_osmanthus: u32,
    /// Books a reader who paid a deposit may hold at once.
    pub quota_deposit: u32,
}

impl CreditPolicy {
    /// The policy with every default: the SPEC's thresholds, a day's trust.
    pub fn defaults() -> Self {
        CreditPolicy {
            sesame_threshold: CreditScore(600),
            osmanthus_threshold: CreditScore(100),
            decision_ttl_ms: 24 * 60 * 60 * 1000,
            quota_sesame: 10,
            quota_osmanthus: 10,
            quota_deposit: 5,
        }
    }

    /// Builds the policy from configuration. `lookup` answers a variable's
    /// text, or `None` when it is not set (then the default applies); in a
    /// component it is `crate::spin::config::optional`, in tests a map.
    pub fn from_settings<F>(lookup: F) -> Result<Self>
    where
        F: Fn(&'static str) -> Result<Option<String>>,
    {
        let defaults = Self::defaults();
        let threshold =
            |name: &'static str, source: CreditSource, default: CreditScore| match lookup(name)? {
                None => Ok(default),
                Some(text) => CreditScore::parse(source, &text).map_err(|e| config(name, e)),
            };
        let number = |name: &'static str, default: i64, max: i64| -> Result<i64> {
            let Some(text) = lookup(name)? else {
                return Ok(default);
            };
            let value: i64 = text.trim().parse().map_err(|_| Error::Config {
                name,
                reason: format!("{text:?} is not a whole number"),
            })?;
            if !(1..=max).contains(&value) {
                return Err(Error::Config {
                    name,
                    reason: format!("{value} is outside 1..={max}"),
                });
            }
            Ok(value)
        };
        let quota = |name: &'static str, default: u32| -> Result<u32> {
            let value = number(name, i64::from(default), i64::from(MAX_LOAN_QUOTA))?;
            // In range 1..=MAX_LOAN_QUOTA, so it fits.
            u32::try_from(value).map_err(|e| Error::Internal(e.into()))
        };
        Ok(CreditPolicy {
            sesame_threshold: threshold(
                VAR_SESAME_THRESHOLD,
                CreditSource::Sesame,
                defaults.sesame_threshold,
            )?,
            osmanthus_threshold: threshold(
                VAR_OSMANTHUS_THRESHOLD,
                CreditSource::Osmanthus,
                defaults.osmanthus_threshold,
            )?,
            decision_ttl_ms: number(
                VAR_DECISION_TTL_MS,
                defaults.decision_ttl_ms,
                MAX_DECISION_TTL_MS,
            )?,
            quota_sesame: quota(VAR_QUOTA_SESAME, defaults.quota_sesame)?,
            quota_osmanthus: quota(VAR_QUOTA_OSMANTHUS, defaults.quota_osmanthus)?,
            quota_deposit: quota(VAR_QUOTA_DEPOSIT, defaults.quota_deposit)?,
        })
    }

    /// The threshold of `source`.
    pub fn threshold(&self, source: CreditSource) -> CreditScore {
        match source {
            CreditSource::Sesame => self.sesame_threshold,
            CreditSource::Osmanthus => self.osmanthus_threshold,
        }
    }
}

/// A threshold outside its source's range is the deployment's fault.
fn config(name: &'static str, error: Error) -> Error {
    let reason = match error {
        Error::Invalid { reason, .. } => reason,
        other => other.to_string(),
    };
    Error::Config { name, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn policy_from(pairs: &[(&'static str, &str)]) -> Result<CreditPolicy> {
        let map: HashMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        CreditPolicy::from_settings(|name| Ok(map.get(name).cloned()))
    }

    fn config_error_names(result: Result<CreditPolicy>) -> &'static str {
        match result {
            Err(Error::Config { name, .. }) => name,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn unset_variables_give_the_spec_defaults() {
        let policy = policy_from(&[]).unwrap();
        assert_eq!(policy, CreditPolicy::defaults());
        assert_eq!(policy.threshold(CreditSource::Sesame).value(), 600);
        assert_eq!(policy.threshold(CreditSource::Osmanthus).value(), 100);
    }

    #[test]
    fn set_variables_override_the_defaults() {
        let policy = policy_from(&[
            (VAR_SESAME_THRESHOLD, "650"),
            (VAR_OSMANTHUS_THRESHOLD, " 120 "),
            (VAR_DECISION_TTL_MS, "3600000"),
            (VAR_QUOTA_DEPOSIT, "3"),
        ])
        .unwrap();
        assert_eq!(policy.sesame_threshold.value(), 650);
        assert_eq!(policy.osmanthus_threshold.value(), 120);
        assert_eq!(policy.decision_ttl_ms, 3_600_000);
        assert_eq!(policy.quota_deposit, 3);
    }

    #[test]
    fn a_threshold_outside_the_sources_range_names_its_variable() {
        let result = policy_from(&[(VAR_SESAME_THRESHOLD, "0")]);
        assert_eq!(config_error_names(result), VAR_SESAME_THRESHOLD);
        let result = policy_from(&[(VAR_OSMANTHUS_THRESHOLD, "lots")]);
        assert_eq!(config_error_names(result), VAR_OSMANTHUS_THRESHOLD);
    }

    #[test]
    fn a_zero_negative_or_huge_lifetime_or_quota_names_its_variable() {
        for bad in ["0", "-5", "99999999999", "soon"] {
            let result = policy_from(&[(VAR_DECISION_TTL_MS, bad)]);
            assert_eq!(config_error_names(result), VAR_DECISION_TTL_MS, "{bad}");
        }
        let result = policy_from(&[(VAR_QUOTA_SESAME, "0")]);
        assert_eq!(config_error_names(result), VAR_QUOTA_SESAME);
        let result = policy_from(&[(VAR_QUOTA_OSMANTHUS, "101")]);
        assert_eq!(config_error_names(result), VAR_QUOTA_OSMANTHUS);
    }

    #[test]
    fn a_variable_that_cannot_be_read_stops_the_policy() {
        let result = CreditPolicy::from_settings(|name| {
            Err(Error::Config {
                name,
                reason: "host refused".into(),
            })
        });
        assert_eq!(config_error_names(result), VAR_SESAME_THRESHOLD);
    }
}
