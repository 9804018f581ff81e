//! The library's rule for what a lost or damaged copy costs the reader:
//! the record's list price, or a default price when the catalogue has
//! none, times a factor (variables `compensation_factor`,
//! `compensation_default_price_fen`).

use crate::{Error, Result};

/// The rule, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompensationRules {
    /// The factor in thousandths (2.5 is 2500), so money stays integral.
    pub factor_permille: i64,
    /// The price used when the record has none, in fen.
    pub default_price_fen: i64,
}

impl CompensationRules {
    /// Reads the factor as a decimal (`"2"`, `"1.5"`, at most three
    /// decimals, between 0.001 and 100).
    pub fn new(factor: &str, default_price_fen: i64) -> Result<Self> {
        let bad = |reason: &str| Error::Config {
            name: "compensation_factor",
            reason: format!("{factor:?} {reason}"),
        };
        let text = factor.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty()
            || fraction.len() > 3
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("is not a decimal with at most three decimals"));
        }
        let whole: i64 = whole.parse().map_err(|_| bad("is too large"))?;
        let fraction: i64 = format!("{fraction:0<3}").parse().unwrap_or(0);
        let factor_permille = whole.saturating_mul(1000).saturating_add(fraction);
        if !(1..=100_000).contains(&factor_permille) {
            return Err(bad("must be between 0.001 and 100"));
        }
        if default_price_fen <= 0 {
            return Err(Error::Config {
                name: "compensation_default_price_fen",
                reason: "must be a positive number of fen".into(),
            });
        }
        Ok(CompensationRules {
            factor_permille,
            default_price_fen,
        })
    }

    /// Reads the variables through `lookup`: factor 2 and 50 yuan unless
    /// the library sets them.
    pub fn from_settings<F>(lookup: F) -> Result<Self>
    where
        F: Fn(&'static str) -> Result<Option<String>>,
    {
        let factor = lookup("compensation_factor")?.unwrap_or_else(|| "2".into());
        let price = match lookup("compensation_default_price_fen")? {
            None => 5000,
            Some(text) => text.trim().parse().map_err(|_| Error::Config {
                name: "compensation_default_price_fen",
                reason: format!("{text:?} is not a whole number"),
            })?,
        };
        Self::new(&factor, price)
    }

    /// What a copy of a record priced `list_price_fen` costs, in fen,
    /// rounded half up, never below one fen.
    pub fn amount_fen(&self, list_price_fen: Option<i64>) -> i64 {
        let price = list_price_fen
            .filter(|p| *p > 0)
            .unwrap_or(self.default_price_fen);
        ((price.saturating_mul(self.factor_permille) + 500) / 1000).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_price_times_the_factor() {
        let rules = CompensationRules::new("2", 5000).unwrap();
        assert_eq!(rules.amount_fen(Some(3580)), 7160);
        let rules = CompensationRules::new("1.5", 5000).unwrap();
        assert_eq!(rules.amount_fen(Some(3333)), 5000);
    }

    #[test]
    fn a_record_without_a_price_costs_the_default() {
        let rules = CompensationRules::new("2", 5000).unwrap();
        assert_eq!(rules.amount_fen(None), 10000);
        assert_eq!(rules.amount_fen(Some(0)), 10000);
    }

    #[test]
    fn malformed_factors_name_the_variable() {
        for bad in ["", "x", "1.2345", "-1", "0", "1e3", "101"] {
            match CompensationRules::new(bad, 5000) {
                Err(Error::Config { name, .. }) => assert_eq!(name, "compensation_factor"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(CompensationRules::new("2", 0).is_err());
    }
}
