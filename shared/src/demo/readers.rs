//! Demo readers (Alipay and WeChat identities, credit standings around the
//! thresholds, virtual cards) and the loans of the copies the catalogue
//! left on loan.

use super::catalogue::DemoCopy;
use super::words::person_name;
use fastrand::Rng;

const DAY_MS: i64 = 86_400_000;
/// Credit decisions are cached this long in the demo, so some are stale.
const CREDIT_VALID_MS: i64 = 30 * DAY_MS;
/// Loans run this long in the demo.
const LOAN_MS: i64 = 30 * DAY_MS;
/// The demo keeps each reader to this many loans.
const LOANS_PER_READER: usize = 3;

/// One reader as the demo makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReader {
    /// "2088" and twelve digits.
    pub alipay_user_id: Option<String>,
    /// "o" and 27 URL-safe characters.
    pub wechat_openid: Option<String>,
    /// Set together with the openid.
    pub wechat_unionid: Option<String>,
    /// A virtual card (Osmanthus) or a deposit card.
    pub card_number: Option<String>,
    /// Name.
    pub display_name: String,
    /// sesame, osmanthus or card.
    pub credit_source: &'static str,
    /// The score; none for a deposit card.
    pub credit_score: Option<i64>,
    /// When the standing was decided.
    pub credit_decided_at_ms: i64,
    /// When it must be checked again.
    pub credit_valid_until_ms: i64,
    /// active, suspended or blocked.
    pub status: &'static str,
    /// How many loans the reader may hold.
    pub loan_quota: i64,
    /// When the reader registered.
    pub created_at_ms: i64,
}

impl DemoReader {
    /// Whichever identity the reader has first: unique among demo readers,
    /// so rows returned by an INSERT can be matched back to readers.
    pub fn identity(&self) -> Option<&str> {
        self.alipay_user_id
            .as_deref()
            .or(self.wechat_openid.as_deref())
            .or(self.card_number.as_deref())
    }
}

/// A loan of a demo copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLoan {
    /// Index into the copies.
    pub copy: usize,
    /// Index into the readers.
    pub reader: usize,
    /// When it started.
    pub started_at_ms: i64,
    /// When it is due; some are past.
    pub due_at_ms: i64,
    /// Renewals so far.
    pub renewals: i64,
}

/// `count` readers: most come through Alipay (Sesame score), many through
/// WeChat (Osmanthus score, virtual card), a few with a deposit card.
pub fn readers(rng: &mut Rng, count: usize, now_ms: i64) -> Vec<DemoReader> {
    let mut alipay = 2_088_000_000_000_000 + rng.u64(..1_000_000_000_000);
    let mut card = rng.u64(..10_000_000);
    (0..count)
        .map(|_| {
            let created_at_ms = now_ms - rng.i64(DAY_MS..3 * 365 * DAY_MS);
            let route = rng.u8(..100);
            let alipay_user_id = (route < 55 || (80..95).contains(&route)).then(|| {
                alipay += 1 + rng.u64(..1000);
                alipay.to_string()
            });
            let wechat = (55..95).contains(&route);
            let (source, score) = match (alipay_user_id.is_some(), route < 95) {
                // Sesame: 350..950, centred so that about a sixth fall below 600.
                (true, _) => (
                    "sesame",
                    Some(normal(rng, 690.0, 90.0).clamp(350.0, 950.0) as i64),
                ),
                // Osmanthus: about an eighth below 100.
                (false, true) => (
                    "osmanthus",
                    Some(normal(rng, 150.0, 45.0).clamp(0.0, 300.0) as i64),
                ),
                (false, false) => ("card", None),
            };
            // A virtual card comes with an Osmanthus score of 100 or more; a
            // deposit card is how the rest came in.
            let carded = source == "card" || (source == "osmanthus" && score.unwrap_or(0) >= 100);
            let card_number = carded.then(|| {
                card += 1 + rng.u64(..100);
                format!("3301{card:08}")
            });
            let credit_decided_at_ms = (now_ms - rng.i64(0..45 * DAY_MS)).max(created_at_ms);
            DemoReader {
                alipay_user_id,
                wechat_openid: wechat.then(|| wechat_id(rng)),
                wechat_unionid: wechat.then(|| wechat_id(rng)),
                card_number,
                display_name: person_name(rng),
                credit_source: source,
                credit_score: score,
                credit_decided_at_ms,
                credit_valid_until_ms: credit_decided_at_ms + CREDIT_VALID_MS,
                status: match rng.u8(..100) {
                    0..=2 => "suspended",
                    3 => "blocked",
                    _ => "active",
                },
                loan_quota: if source == "osmanthus" { 5 } else { 10 },
                created_at_ms,
            }
        })
        .collect()
}

fn wechat_id(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::iter::once('o')
        .chain((0..27).map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())])))
        .collect()
}

/// A normally distributed value (Box-Muller).
fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    let u = rng.f64().max(f64::MIN_POSITIVE);
    let v = rng.f64();
    mean + sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// A loan for each copy left on loan, to an active reader; copies beyond
/// what the readers can hold go back on the shelf.
pub fn loans(
    rng: &mut Rng,
    copies: &mut [DemoCopy],
    readers: &[DemoReader],
    now_ms: i64,
) -> Vec<DemoLoan> {
    let active: Vec<usize> = (0..readers.len())
        .filter(|&i| readers[i].status == "active")
        .collect();
    let mut held = vec![0usize; readers.len()];
    let mut loans = Vec::new();
    for (index, copy) in copies
        .iter_mut()
        .enumerate()
        .filter(|(_, c)| c.status == "on_loan")
    {
        let reader = (!active.is_empty())
            .then(|| active[rng.usize(..active.len())])
            .filter(|&r| held[r] < LOANS_PER_READER);
        let Some(reader) = reader else {
            copy.status = "on_shelf";
            continue;
        };
        held[reader] += 1;
        let started_at_ms = now_ms - rng.i64(DAY_MS..50 * DAY_MS);
        let renewals = i64::from(rng.u8(..4) == 0);
        loans.push(DemoLoan {
            copy: index,
            reader,
            started_at_ms,
            due_at_ms: started_at_ms + LOAN_MS * (1 + renewals),
            renewals,
        });
    }
    loans
}
