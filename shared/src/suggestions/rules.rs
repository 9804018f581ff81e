//! The library's rules for buying what readers suggest (variables
//! `suggestion_price_cap_fen`, `suggestion_yearly_budget_fen`,
//! `suggestion_monthly_limit`, `suggestion_excluded_subjects`), and the
//! Beijing calendar periods they count in.

use crate::{Error, Result};

/// The rules, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionRules {
    /// The most one book may cost, in fen.
    pub price_cap_fen: i64,
    /// What all approved suggestions of a (Beijing) year may cost.
    pub yearly_budget_fen: i64,
    /// Suggestions one reader may make in a (Beijing) month.
    pub monthly_limit: i64,
    /// Subjects the library does not buy for (matched ignoring case, as a
    /// part of the subject the reader gives).
    pub excluded_subjects: Vec<String>,
}

impl SuggestionRules {
    /// Reads the variables through `lookup`, with defaults: 200 yuan a
    /// book, 100,000 yuan a year, 3 a month, nothing excluded.
    pub fn from_settings<F>(lookup: F) -> Result<Self>
    where
        F: Fn(&'static str) -> Result<Option<String>>,
    {
        let number = |name: &'static str, default: i64| -> Result<i64> {
            match lookup(name)? {
                None => Ok(default),
                Some(text) if text.trim().is_empty() => Ok(default),
                Some(text) => match text.trim().parse::<i64>() {
                    Ok(n) if n >= 0 => Ok(n),
                    _ => Err(Error::Config {
                        name,
                        reason: format!("{text:?} is not a whole number, 0 or more"),
                    }),
                },
            }
        };
        Ok(SuggestionRules {
            price_cap_fen: number("suggestion_price_cap_fen", 20_000)?,
            yearly_budget_fen: number("suggestion_yearly_budget_fen", 10_000_000)?,
            monthly_limit: number("suggestion_monthly_limit", 3)?,
            excluded_subjects: lookup("suggestion_excluded_subjects")?
                .unwrap_or_default()
                .split([',', '，'])
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
        })
    }

    /// The excluded subject `subject` falls under, if any.
    pub fn excludes(&self, subject: &str) -> Option<&str> {
        let subject = subject.to_lowercase();
        self.excluded_subjects
            .iter()
            .find(|excluded| subject.contains(excluded.as_str()))
            .map(String::as_str)
    }
}

const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// The start (epoch ms) of the Beijing month and year `now_ms` falls in.
pub fn month_and_year_start(now_ms: i64) -> (i64, i64) {
    use chrono::{Datelike, TimeZone};
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let local = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&offset);
    let start = |month: u32| {
        offset
            .with_ymd_and_hms(local.year(), month, 1, 0, 0, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or(now_ms - BEIJING_OFFSET_MS)
    };
    (start(local.month()), start(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(excluded: &str) -> SuggestionRules {
        let excluded = excluded.to_string();
        SuggestionRules::from_settings(move |name| {
            Ok((name == "suggestion_excluded_subjects").then(|| excluded.clone()))
        })
        .unwrap()
    }

    #[test]
    fn defaults_and_excluded_subjects() {
        let rules = rules("教辅, 考试，Comics");
        assert_eq!(rules.price_cap_fen, 20_000);
        assert_eq!(rules.monthly_limit, 3);
        assert_eq!(rules.excludes("高考考试指南"), Some("考试"));
        assert_eq!(rules.excludes("Marvel comics"), Some("comics"));
        assert_eq!(rules.excludes("小说"), None);
    }

    #[test]
    fn a_malformed_number_names_its_variable() {
        let error = SuggestionRules::from_settings(|name| {
            Ok((name == "suggestion_monthly_limit").then(|| "many".to_string()))
        })
        .unwrap_err();
        assert!(matches!(
            error,
            Error::Config {
                name: "suggestion_monthly_limit",
                ..
            }
        ));
    }

    #[test]
    fn periods_start_at_beijing_midnight_on_the_first() {
        // 2026-12-02 10:00 Beijing.
        let now = 1_796_176_800_000;
        let (month, year) = month_and_year_start(now);
        // 2026-12-01 00:00 and 2026-01-01 00:00 Beijing.
        assert_eq!(month, 1_796_054_400_000);
        assert_eq!(year, 1_767_196_800_000);
        // Just after midnight of the 1st, UTC still on the month before.
        assert_eq!(month_and_year_start(month + 1).0, month);
        assert_eq!(month_and_year_start(month - 1).0, 1_793_462_400_000);
    }
}
