//! A *credit decision*: what a reader may do, decided from one provider's
//! answer under the [`CreditPolicy`], with when it was made and until when
//! it is trusted. A *provider outcome* is that answer as the component that
//! called the provider understood it, failures included.

use super::{CreditPolicy, CreditScore, CreditSource};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// What a reader may do, as far as credit goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Standing {
    /// Sesame credit at or above the threshold: no deposit, no card, online
    /// borrowing, and delivery to the door.
    SesameDepositFree {
        /// Whether books may be brought to the reader's door.
        door_delivery: bool,
    },
    /// Osmanthus credit at or above the threshold: a deposit-free virtual
    /// card, usable online and at the counter.
    OsmanthusVirtualCard,
    /// Not enough credit: the reader may still register by paying a deposit.
    Deposit {
        /// Why credit was not enough, to tell the reader.
        reason: String,
    },
    /// No lending at all. Credit alone never refuses (a deposit is always
    /// offered); the caller sets this when the reader's own record forbids
    /// lending, such as a suspension for overdue books.
    Refused {
        /// Why, to tell the reader.
        reason: String,
    },
}

impl Standing {
    /// Whether this standing lends without a deposit.
    pub fn is_deposit_free(&self) -> bool {
        matches!(
            self,
            Standing::SesameDepositFree { .. } | Standing::OsmanthusVirtualCard
        )
    }
}

/// One decision about one reader's credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DecisionRecord")]
pub struct CreditDecision {
    /// What the reader may do.
    pub standing: Standing,
    /// Which provider answered.
    pub source: CreditSource,
    /// The score, when the provider gave one; an admit decision has none.
    pub score: Option<CreditScore>,
    /// When the decision was made, epoch milliseconds.
    pub decided_at_ms: i64,
    /// The first instant the decision is no longer trusted.
    pub valid_until_ms: i64,
    /// How many books the reader may hold at once under this standing (for
    /// a deposit standing: once the deposit is paid).
    pub loan_quota: u32,
}

impl CreditDecision {
    /// Whether the decision may still be used at `now_ms` without asking the
    /// provider again. A decision stamped in the future (a clock that went
    /// back) is not trusted either.
    pub fn is_fresh(&self, now_ms: i64) -> bool {
        self.decided_at_ms <= now_ms && now_ms < self.valid_until_ms
    }
}

/// A decision as it is cached, before its score is checked against its
/// source: what comes back from the key-value store is parsed like any
/// other input.
#[derive(Deserialize)]
struct DecisionRecord {
    standing: Standing,
    source: CreditSource,
    score: Option<i64>,
    decided_at_ms: i64,
    valid_until_ms: i64,
    loan_quota: u32,
}

impl TryFrom<DecisionRecord> for CreditDecision {
    type Error = Error;

    fn try_from(record: DecisionRecord) -> Result<Self> {
        let score = record
            .score
            .map(|value| CreditScore::new(record.source, value))
            .transpose()?;
        let standing_fits_source = !matches!(
            (&record.standing, record.source),
            (Standing::SesameDepositFree { .. }, CreditSource::Osmanthus)
                | (Standing::OsmanthusVirtualCard, CreditSource::Sesame)
        );
        if !standing_fits_source {
            return Err(Error::invalid("standing", "not one the source can grant"));
        }
        if record.valid_until_ms < record.decided_at_ms {
            return Err(Error::invalid(
                "valid_until_ms",
                "ends before the decision was made",
            ));
        }
        Ok(CreditDecision {
            standing: record.standing,
            source: record.source,
            score,
            decided_at_ms: record.decided_at_ms,
            valid_until_ms: record.valid_until_ms,
            loan_quota: record.loan_quota,
        })
    }
}

/// What a provider answered, as the component that asked understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// A score, not yet checked against the source's range.
    Score(i64),
    /// An admit or deny decision (Sesame's credit-borrowing product), for a
    /// library contracted for decisions rather than scores.
    Admit(bool),
    /// The provider could not be reached, timed out or answered 5xx. The
    /// reason reaches the reader: say what failed ("timed out after 3 s"),
    /// never quote the provider's body.
    Unavailable(String),
    /// The provider answered something that could not be read; the reason
    /// is shown like [`ProviderOutcome::Unavailable`]'s.
    Malformed(String),
    /// The answer's signature did not verify.
    BadSignature,
}

/// Decides a reader's standing from a score `source` gave at `now_ms`.
pub fn decide(
    policy: &CreditPolicy,
    source: CreditSource,
    score: CreditScore,
    now_ms: i64,
) -> CreditDecision {
    let threshold = policy.threshold(source);
    if score >= threshold {
        granted(policy, source, Some(score), now_ms)
    } else {
        let reason = format!(
            "{} score {} is below {}",
            source.as_str(),
            score.value(),
            threshold.value()
        );
        deposit(policy, source, Some(score), reason, now_ms)
    }
}

/// Decides from whatever the provider answered. Every failure, a score
/// outside the source's range included, is [`Error::CreditUnavailable`]:
/// a provider that fails never grants credit, and never takes away a
/// standing the reader already has either; the caller keeps the old one.
pub fn decide_outcome(
    policy: &CreditPolicy,
    source: CreditSource,
    outcome: ProviderOutcome,
    now_ms: i64,
) -> Result<CreditDecision> {
    let unavailable = |reason: String| Error::CreditUnavailable {
        provider: source.as_str(),
        reason,
    };
    match outcome {
        ProviderOutcome::Score(value) => {
            let score = CreditScore::new(source, value).map_err(|_| {
                unavailable(format!("malformed answer: score {value} out of range"))
            })?;
            Ok(decide(policy, source, score, now_ms))
        }
        ProviderOutcome::Admit(true) => Ok(granted(policy, source, None, now_ms)),
        ProviderOutcome::Admit(false) => {
            let reason = format!("{} did not admit the reader", source.as_str());
            Ok(deposit(policy, source, None, reason, now_ms))
        }
        ProviderOutcome::Unavailable(reason) => Err(unavailable(reason)),
        ProviderOutcome::Malformed(reason) => {
            Err(unavailable(format!("malformed answer: {reason}")))
        }
        ProviderOutcome::BadSignature => Err(unavailable("answer failed signature check".into())),
    }
}

/// The deposit-free standing `source` grants.
fn granted(
    policy: &CreditPolicy,
    source: CreditSource,
    score: Option<CreditScore>,
    now_ms: i64,
) -> CreditDecision {
    let (standing, loan_quota) = match source {
        CreditSource::Sesame => (
            Standing::SesameDepositFree {
                door_delivery: true,
            },
            policy.quota_sesame,
        ),
        CreditSource::Osmanthus => (Standing::OsmanthusVirtualCard, policy.quota_osmanthus),
    };
    stamp(policy, standing, source, score, loan_quota, now_ms)
}

fn deposit(
    policy: &CreditPolicy,
    source: CreditSource,
    score: Option<CreditScore>,
    reason: String,
    now_ms: i64,
) -> CreditDecision {
    let standing = Standing::Deposit { reason };
    stamp(
        policy,
        standing,
        source,
        score,
        policy.quota_deposit,
        now_ms,
    )
}

fn stamp(
    policy: &CreditPolicy,
    standing: Standing,
    source: CreditSource,
    score: Option<CreditScore>,
    loan_quota: u32,
    now_ms: i64,
) -> CreditDecision {
    CreditDecision {
        standing,
        source,
        score,
        decided_at_ms: now_ms,
        valid_until_ms: now_ms.saturating_add(policy.decision_ttl_ms),
        loan_quota,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn score_outcome(source: CreditSource, value: i64) -> CreditDecision {
        decide_outcome(
            &CreditPolicy::defaults(),
            source,
            ProviderOutcome::Score(value),
            NOW,
        )
        .unwrap()
    }

    #[test]
    fn a_sesame_score_of_599_asks_for_a_deposit() {
        let decision = score_outcome(CreditSource::Sesame, 599);
        assert!(!decision.standing.is_deposit_free());
        assert!(
            matches!(decision.standing, Standing::Deposit { ref reason } if reason.contains("599"))
        );
        assert_eq!(decision.loan_quota, CreditPolicy::defaults().quota_deposit);
    }

    #[test]
    fn a_sesame_score_of_600_lends_deposit_free_to_the_door() {
        let decision = score_outcome(CreditSource::Sesame, 600);
        assert_eq!(
            decision.standing,
            Standing::SesameDepositFree {
                door_delivery: true
            }
        );
        assert_eq!(decision.score.map(CreditScore::value), Some(600));
        assert_eq!(decision.loan_quota, CreditPolicy::defaults().quota_sesame);
    }

    #[test]
    fn an_osmanthus_score_of_99_asks_for_a_deposit() {
        let decision = score_outcome(CreditSource::Osmanthus, 99);
        assert!(matches!(decision.standing, Standing::Deposit { .. }));
    }

    #[test]
    fn an_osmanthus_score_of_100_earns_a_virtual_card() {
        let decision = score_outcome(CreditSource::Osmanthus, 100);
        assert_eq!(decision.standing, Standing::OsmanthusVirtualCard);
        assert_eq!(decision.source, CreditSource::Osmanthus);
    }

    #[test]
    fn a_configured_threshold_moves_the_limit() {
        let policy = CreditPolicy {
            sesame_threshold: CreditScore::new(CreditSource::Sesame, 650).unwrap(),
            ..CreditPolicy::defaults()
        };
        let at = |value| {
            decide(
                &policy,
                CreditSource::Sesame,
                CreditScore::new(CreditSource::Sesame, value).unwrap(),
                NOW,
            )
        };
        assert!(!at(649).standing.is_deposit_free());
        assert!(at(650).standing.is_deposit_free());
    }

    #[test]
    fn an_admit_decision_grants_without_a_score() {
        let policy = CreditPolicy::defaults();
        let yes = decide_outcome(
            &policy,
            CreditSource::Sesame,
            ProviderOutcome::Admit(true),
            NOW,
        )
        .unwrap();
        assert!(yes.standing.is_deposit_free());
        assert_eq!(yes.score, None);
        let no = decide_outcome(
            &policy,
            CreditSource::Sesame,
            ProviderOutcome::Admit(false),
            NOW,
        )
        .unwrap();
        assert!(matches!(no.standing, Standing::Deposit { .. }));
    }

    #[test]
    fn a_decision_is_fresh_until_its_lifetime_ends() {
        let decision = score_outcome(CreditSource::Sesame, 700);
        let ttl = CreditPolicy::defaults().decision_ttl_ms;
        assert_eq!(decision.valid_until_ms, NOW + ttl);
        assert!(decision.is_fresh(NOW));
        assert!(decision.is_fresh(NOW + ttl - 1));
        assert!(!decision.is_fresh(NOW + ttl));
        assert!(!decision.is_fresh(NOW - 1), "stamped in the future");
    }

    #[test]
    fn no_provider_failure_grants_credit() {
        let failures = [
            ProviderOutcome::Unavailable("timed out after 3s".into()),
            ProviderOutcome::Unavailable("answered 502".into()),
            ProviderOutcome::Malformed("not json".into()),
            ProviderOutcome::BadSignature,
            ProviderOutcome::Score(951),
            ProviderOutcome::Score(-1),
        ];
        for outcome in failures {
            let result = decide_outcome(
                &CreditPolicy::defaults(),
                CreditSource::Sesame,
                outcome.clone(),
                NOW,
            );
            assert!(
                matches!(
                    result,
                    Err(Error::CreditUnavailable {
                        provider: "sesame",
                        ..
                    })
                ),
                "{outcome:?} gave {result:?}"
            );
        }
    }

    #[test]
    fn a_cached_decision_reads_back_what_it_wrote() {
        let decision = score_outcome(CreditSource::Osmanthus, 420);
        let json = serde_json::to_string(&decision).unwrap();
        assert!(
            json.contains(r#""kind":"osmanthus_virtual_card""#),
            "{json}"
        );
        let back: CreditDecision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, decision);
    }

    #[test]
    fn a_cached_decision_with_an_impossible_score_is_refused() {
        let json = r#"{"standing":{"kind":"sesame_deposit_free","door_delivery":true},
            "source":"sesame","score":9999,"decided_at_ms":1,"valid_until_ms":2,"loan_quota":10}"#;
        assert!(serde_json::from_str::<CreditDecision>(json).is_err());
    }

    #[test]
    fn a_cached_decision_whose_standing_does_not_fit_its_source_is_refused() {
        let json = r#"{"standing":{"kind":"sesame_deposit_free","door_delivery":true},
            "source":"osmanthus","score":500,"decided_at_ms":1,"valid_until_ms":2,"loan_quota":10}"#;
        assert!(serde_json::from_str::<CreditDecision>(json).is_err());
    }
}
