//! The demo catalogue: records (famous titles first, then composed ones and
//! a few multi-volume sets) and their copies spread over the branches and
//! the online-lending stack.

use super::classics::CLASSICS;
use super::words::*;
use crate::{Error, Result};
use fastrand::Rng;
use std::collections::HashMap;

/// One catalogue record as the demo makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRecord {
    /// Title proper.
    pub title: String,
    /// Statement of responsibility ("余华著").
    pub responsibility: String,
    /// Publisher.
    pub publisher: &'static str,
    /// Year of publication.
    pub year: i64,
    /// 13 digits with a valid check digit, unique within the demo.
    pub isbn13: String,
    /// Subject headings.
    pub subjects: Vec<String>,
    /// CLC class / item number.
    pub call_number: String,
    /// The set this volume belongs to, and which volume it is.
    pub set: Option<(String, i64)>,
}

/// One copy as the demo makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCopy {
    /// "A" and ten digits.
    pub barcode: String,
    /// Index into the records.
    pub record: usize,
    /// Code of its home point.
    pub home_point: String,
    /// on_shelf, on_loan, missing, in_transit or withdrawn.
    pub status: &'static str,
    /// Whether it stands in the online-lending stack.
    pub in_online_stack: bool,
}

impl DemoCopy {
    /// Where the copy is: at home unless in a reader's hands or on the road.
    pub fn current_point(&self) -> Option<&str> {
        match self.status {
            "on_loan" | "in_transit" => None,
            _ => Some(&self.home_point),
        }
    }
}

/// The ISBN-13 check digit of the first twelve digits (weights 1, 3, 1, 3 ...).
pub fn isbn13_check_digit(first_twelve: &str) -> Result<char> {
    if first_twelve.len() != 12 || !first_twelve.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "isbn13",
            "needs exactly twelve digits before the check digit",
        ));
    }
    let sum: u32 = first_twelve
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    let check = (10 - sum % 10) % 10;
    Ok(char::from(b'0' + check as u8))
}

/// Hands out unique ISBNs per publisher: title numbers climb from a seeded
/// start, and a publisher whose range is used up passes to another.
struct Isbns {
    next: Vec<u64>,
}

impl Isbns {
    fn new(rng: &mut Rng) -> Self {
        let next = PUBLISHERS
            .iter()
            .map(|(_, prefix)| rng.u64(..capacity(prefix) / 10))
            .collect();
        Isbns { next }
    }

    fn issue(&mut self, rng: &mut Rng, publisher: usize) -> (&'static str, String) {
        let index = (0..PUBLISHERS.len())
            .map(|offset| (publisher + offset) % PUBLISHERS.len())
            .find(|&i| self.next[i] < capacity(PUBLISHERS[i].1))
            .unwrap_or(0);
        let (name, prefix) = PUBLISHERS[index];
        let width = 8 - prefix.len();
        let number = self.next[index] % capacity(prefix);
        self.next[index] += 1 + rng.u64(..2);
        let twelve = format!("9787{prefix}{number:0width$}");
        // Twelve digits by construction, so the check digit cannot fail.
        let check = isbn13_check_digit(&twelve).unwrap_or('0');
        (name, format!("{twelve}{check}"))
    }
}

fn capacity(prefix: &str) -> u64 {
    10u64.pow(8 - prefix.len() as u32)
}

/// Gives each CLC class its next item number, as a library's 种次号 does.
#[derive(Default)]
struct CallNumbers(HashMap<&'static str, u32>);

impl CallNumbers {
    fn next(&mut self, class: &'static str) -> String {
        let n = self.0.entry(class).or_insert(0);
        *n += 1;
        format!("{class}/{n}")
    }
}

/// `count` records: the famous titles first, then composed ones.
pub fn records(rng: &mut Rng, count: usize) -> Vec<DemoRecord> {
    let mut isbns = Isbns::new(rng);
    let mut calls = CallNumbers::default();
    let mut records = Vec::with_capacity(count);
    for classic in CLASSICS.iter().take(count) {
        let publisher = PUBLISHERS
            .iter()
            .position(|(name, _)| *name == classic.publisher)
            .unwrap_or(0);
        let (publisher, isbn13) = isbns.issue(rng, publisher);
        records.push(DemoRecord {
            title: classic.title.into(),
            responsibility: classic.responsibility.into(),
            publisher,
            year: classic.year,
            isbn13,
            subjects: vec!["名著".into()],
            call_number: calls.next(classic.class),
            set: None,
        });
    }
    let mut sets = 0;
    while records.len() < count {
        let left = count - records.len();
        if left >= 3 && rng.u8(..100) < 1 {
            sets += 1;
            let volumes = rng.usize(3..=8).min(left);
            records.extend(set(rng, &mut isbns, &mut calls, sets, volumes));
        } else {
            records.push(composed(rng, &mut isbns, &mut calls));
        }
    }
    records
}

fn composed(rng: &mut Rng, isbns: &mut Isbns, calls: &mut CallNumbers) -> DemoRecord {
    let by = |rng: &mut Rng, role: &str| format!("{}{role}", person_name(rng));
    let (title, responsibility, subjects, class): (String, String, Vec<String>, &'static str) =
        match rng.u8(..100) {
            0..=19 => {
                let (place, theme) = (pick(rng, PLACES), pick(rng, THEMES));
                let class = if ["世界", "东亚", "海上"].contains(&place) {
                    "K10"
                } else {
                    "K29"
                };
                let title = format!("{place}{theme}{}", pick(rng, HISTORY_ENDINGS));
                (
                    title,
                    by(rng, "著"),
                    vec![place.into(), format!("{theme}史")],
                    class,
                )
            }
            20..=49 => {
                let title = literary_title(rng);
                let (form, class) = pick(
                    rng,
                    &[
                        ("长篇小说", "I247.5"),
                        ("短篇小说集", "I247.7"),
                        ("散文集", "I267"),
                        ("诗集", "I227"),
                    ],
                );
                (
                    title,
                    by(rng, "著"),
                    vec![form.into(), "中国".into(), "当代".into()],
                    class,
                )
            }
            50..=74 => {
                let (topic, class) = pick(rng, TOPICS);
                let pattern = pick(rng, TOPIC_PATTERNS);
                // "新编" fits before "心理学入门", not before "给孩子的心理学".
                let prefix = if pattern.starts_with("{}") {
                    pick(rng, TOPIC_PREFIXES)
                } else {
                    ""
                };
                let mut title = format!("{prefix}{}", pattern.replace("{}", topic));
                if rng.u8(..5) == 0 {
                    title.push_str(&format!("（第{}版）", rng.u8(2..=6)));
                }
                let role = pick(rng, &["著", "编著", "主编"]);
                (
                    title,
                    by(rng, role),
                    vec![topic.into(), "普及读物".into()],
                    class,
                )
            }
            75..=84 => {
                let title = format!("{}与{}", pick(rng, NOUNS), pick(rng, NOUNS));
                (
                    title,
                    by(rng, "著"),
                    vec!["散文集".into(), "中国".into()],
                    "I267",
                )
            }
            85..=94 => {
                let title = format!("{}{}", pick(rng, ANIMALS), pick(rng, ADVENTURES));
                let responsibility = format!("{}文；{}图", person_name(rng), person_name(rng));
                (
                    title,
                    responsibility,
                    vec!["图画故事".into(), "儿童文学".into()],
                    "I287.8",
                )
            }
            _ => {
                let (country, author) = pick(rng, FOREIGN_AUTHORS);
                let title = literary_title(rng);
                let responsibility = format!("〔{country}〕{author}著；{}译", person_name(rng));
                (
                    title,
                    responsibility,
                    vec!["长篇小说".into(), country.into()],
                    "I106.4",
                )
            }
        };
    let publisher = publisher_for(rng, class);
    let (publisher, isbn13) = isbns.issue(rng, publisher);
    DemoRecord {
        title,
        responsibility,
        publisher,
        year: publication_year(rng),
        isbn13,
        subjects,
        call_number: calls.next(class),
        set: None,
    }
}

/// Volumes of one set: same publisher, year and authors; call numbers that
/// differ only in the volume.
fn set(
    rng: &mut Rng,
    isbns: &mut Isbns,
    calls: &mut CallNumbers,
    number: usize,
    volumes: usize,
) -> Vec<DemoRecord> {
    const NUMERALS: [&str; 8] = ["一", "二", "三", "四", "五", "六", "七", "八"];
    let (base, class) = pick(rng, SET_TITLES);
    let responsibility = format!("{}主编", person_name(rng));
    let publisher = rng.usize(..PUBLISHERS.len());
    let year = publication_year(rng);
    let call_number = calls.next(class);
    let set_key = format!("SET{number:05}");
    (1..=volumes)
        .map(|volume| {
            let (publisher, isbn13) = isbns.issue(rng, publisher);
            DemoRecord {
                title: format!("{base}（第{}卷）", NUMERALS[volume - 1]),
                responsibility: responsibility.clone(),
                publisher,
                year,
                isbn13,
                subjects: vec![base.into(), "丛书".into()],
                call_number: format!("{call_number}:{volume}"),
                set: Some((set_key.clone(), volume as i64)),
            }
        })
        .collect()
}

/// 1980 to 2025, recent years the more common, as in a lending collection.
fn publication_year(rng: &mut Rng) -> i64 {
    2025 - (rng.f64().powf(1.5) * 46.0) as i64
}

/// A literary title from one of a few common shapes.
fn literary_title(rng: &mut Rng) -> String {
    match rng.u8(..4) {
        0 => format!("{}的{}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        1 => format!("{}{}", pick(rng, PLACES), pick(rng, NOUNS)),
        2 => format!("{}里的{}", pick(rng, NOUNS), pick(rng, NOUNS)),
        _ => format!("{}的{}", pick(rng, NOUNS), pick(rng, NOUNS)),
    }
}

/// A publisher that fits the class: children's books from children's
/// presses, computing from technical ones, the rest from anyone.
fn publisher_for(rng: &mut Rng, class: &str) -> usize {
    let fitting: &[&str] = if class.starts_with("I287") {
        &["接力出版社", "江苏凤凰少年儿童出版社", "浙江文艺出版社"]
    } else if class.starts_with("TP") {
        &[
            "机械工业出版社",
            "人民邮电出版社",
            "电子工业出版社",
            "清华大学出版社",
        ]
    } else {
        &[]
    };
    let wanted = if fitting.is_empty() {
        None
    } else {
        Some(pick(rng, fitting))
    };
    wanted
        .and_then(|name| PUBLISHERS.iter().position(|(p, _)| *p == name))
        .unwrap_or_else(|| rng.usize(..PUBLISHERS.len()))
}

/// About three copies per record (famous titles more), over the branches;
/// some in the online-lending stack; a few on loan, missing, travelling or
/// withdrawn. `branches` are point codes, the central library first.
pub fn copies(
    rng: &mut Rng,
    records: &[DemoRecord],
    branches: &[String],
    centre: &str,
) -> Vec<DemoCopy> {
    let mut copies = Vec::with_capacity(records.len() * 3);
    let mut barcode = 1_000_000_000 + rng.u64(..1_000_000);
    for (index, _) in records.iter().enumerate() {
        let famous = index < CLASSICS.len();
        let count = if famous {
            rng.usize(6..=12)
        } else {
            match rng.u8(..100) {
                0..=24 => 1,
                25..=49 => 2,
                50..=69 => 3,
                70..=84 => 4,
                _ => rng.usize(5..=8),
            }
        };
        for _ in 0..count {
            barcode += 1 + rng.u64(..3);
            let stack_share = if famous { 25 } else { 6 };
            let in_online_stack = rng.u8(..100) < stack_share;
            let home_point = if in_online_stack {
                centre.to_string()
            } else if rng.u8(..4) == 0 {
                branches[0].clone()
            } else {
                branches[rng.usize(..branches.len())].clone()
            };
            let status = match rng.u16(..1000) {
                0..=39 => "on_loan",
                40..=49 => "missing",
                50..=54 => "in_transit",
                55..=57 => "withdrawn",
                _ => "on_shelf",
            };
            copies.push(DemoCopy {
                barcode: format!("A{barcode:010}"),
                record: index,
                home_point,
                status,
                in_online_stack,
            });
        }
    }
    copies
}
