//! A search request parsed into what the store runs: groups of keys, every
//! group of which a record must match (one key of it is enough), bonus keys
//! that only add to the score, filters and a page.

use super::isbn;
use super::keys::{han_query_terms, Field};
use super::normalize::{exact_key, tokens, Token};
use crate::geo::Coordinates;
use crate::{Error, Result};

/// Characters of a text parameter that are read; the rest is ignored and
/// the answer says so (`truncated`). Titles are far shorter, and a longer
/// query would only add keys and time.
pub const MAX_QUERY_CHARS: usize = 64;
/// Groups a query may have after truncation: bounds the SQL's size.
pub const MAX_GROUPS: usize = 16;
/// Default and largest page size.
pub const DEFAULT_PER_PAGE: u32 = 20;
#[allow(missing_docs)]
pub const MAX_PER_PAGE: u32 = 100;
/// Pages beyond this are refused: deep paging re-ranks the whole match set.
pub const MAX_PAGE: u32 = 500;

/// Keys of which a record must match at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group(pub Vec<(String, Field)>);

/// The raw parameters of `GET /api/search`, as text.
#[derive(Debug, Clone, Default)]
pub struct SearchParams<'a> {
    #[allow(missing_docs)]
    pub q: Option<&'a str>,
    #[allow(missing_docs)]
    pub title: Option<&'a str>,
    #[allow(missing_docs)]
    pub author: Option<&'a str>,
    #[allow(missing_docs)]
    pub isbn: Option<&'a str>,
    #[allow(missing_docs)]
    pub branch: Option<&'a str>,
    #[allow(missing_docs)]
    pub available: Option<&'a str>,
    #[allow(missing_docs)]
    pub point: Option<&'a str>,
    #[allow(missing_docs)]
    pub language: Option<&'a str>,
    #[allow(missing_docs)]
    pub year: Option<&'a str>,
    #[allow(missing_docs)]
    pub lat: Option<&'a str>,
    #[allow(missing_docs)]
    pub lon: Option<&'a str>,
    #[allow(missing_docs)]
    pub page: Option<&'a str>,
    #[allow(missing_docs)]
    pub per_page: Option<&'a str>,
}

/// A search to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Every group must match.
    pub groups: Vec<Group>,
    /// Keys that only add to the score (the exact title).
    pub bonus: Vec<(String, Field)>,
    /// Only records with a copy whose home or current point is this.
    pub branch: Option<String>,
    /// Only records with a copy on the shelf now.
    pub available: bool,
    /// Only records that can be sent to this pickup point now.
    pub point: Option<String>,
    /// Only records in this language (ISO 639-2, as the facets name it).
    pub language: Option<String>,
    /// Only records published this year.
    pub year: Option<i64>,
    /// Where the reader is, for the nearest pickup point.
    pub from: Option<Coordinates>,
    /// 1-based page.
    pub page: u32,
    #[allow(missing_docs)]
    pub per_page: u32,
    /// Whether some text parameter was cut to [`MAX_QUERY_CHARS`].
    pub truncated: bool,
}

const ALL_WORD_FIELDS: [Field; 6] = [
    Field::Title,
    Field::Author,
    Field::TitlePinyin,
    Field::AuthorPinyin,
    Field::TitleInitials,
    Field::AuthorInitials,
];
const TITLE_FIELDS: [Field; 3] = [Field::Title, Field::TitlePinyin, Field::TitleInitials];
const AUTHOR_FIELDS: [Field; 3] = [Field::Author, Field::AuthorPinyin, Field::AuthorInitials];

impl SearchQuery {
    /// Parses the parameters, naming the one at fault when one is wrong.
    pub fn parse(params: &SearchParams) -> Result<Self> {
        let mut truncated = false;
        let mut cut = |text: Option<&str>| {
            text.map(|t| {
                truncated |= t.chars().count() > MAX_QUERY_CHARS;
                t.chars().take(MAX_QUERY_CHARS).collect::<String>()
            })
        };
        let (q, title, author) = (cut(params.q), cut(params.title), cut(params.author));
        let mut groups = Vec::new();
        let mut bonus = Vec::new();
        if let Some(q) = &q {
            groups.extend(text_groups(q, &ALL_WORD_FIELDS, true));
            bonus.push((exact_key(q), Field::Exact));
        }
        if let Some(title) = &title {
            groups.extend(text_groups(title, &TITLE_FIELDS, false));
            bonus.push((exact_key(title), Field::Exact));
        }
        if let Some(author) = &author {
            groups.extend(text_groups(author, &AUTHOR_FIELDS, false));
        }
        if let Some(text) = params.isbn {
            let isbn = isbn::parse(text).ok_or_else(|| {
                Error::invalid(
                    "isbn",
                    "must be an ISBN-10 or ISBN-13 with a valid check digit",
                )
            })?;
            groups.push(Group(vec![(isbn, Field::Isbn)]));
        }
        if groups.is_empty() {
            // A bare browse of a whole province's catalogue is no use to a
            // reader and the most expensive query there is.
            return Err(Error::invalid(
                "q",
                "give q, title, author or isbn with at least one letter, digit or character",
            ));
        }
        truncated |= groups.len() > MAX_GROUPS;
        groups.truncate(MAX_GROUPS);
        bonus.retain(|(term, _)| !term.is_empty());
        Ok(SearchQuery {
            groups,
            bonus,
            branch: params.branch.map(str::to_string),
            available: flag("available", params.available)?,
            point: params.point.map(str::to_string),
            language: language(params.language)?,
            year: match params.year {
                Some(_) => Some(i64::from(number("year", params.year, 0, 1000, 2100)?)),
                None => None,
            },
            from: coordinates(params.lat, params.lon)?,
            page: number("page", params.page, 1, 1, MAX_PAGE)?,
            per_page: number(
                "per_page",
                params.per_page,
                DEFAULT_PER_PAGE,
                1,
                MAX_PER_PAGE,
            )?,
            truncated,
        })
    }
}

/// One group per covering Han n-gram (or lone unigram) and per word: every
/// part of what the reader typed must be found. With `isbn`, a word that
/// looks like an ISBN also matches the ISBN key. Han terms only ever stand
/// in the title and author fields, so a Han group keeps every field it is
/// given: a group of all word fields reads a term's postings whole, in
/// rank order (`store`).
fn text_groups(text: &str, fields: &[Field], isbn: bool) -> Vec<Group> {
    let mut groups = Vec::new();
    if isbn {
        if let Some(isbn13) = isbn::looks_like(text).then(|| isbn::parse(text)).flatten() {
            return vec![Group(vec![(isbn13, Field::Isbn)])];
        }
    }
    for token in tokens(text) {
        match token {
            Token::Han(han) => {
                for term in han_query_terms(&han) {
                    groups.push(Group(fields.iter().map(|f| (term.clone(), *f)).collect()));
                }
            }
            Token::Word(word) => {
                let mut keys: Vec<(String, Field)> =
                    fields.iter().map(|f| (word.clone(), *f)).collect();
                if let (true, Some(isbn13)) = (isbn, isbn::parse(&word)) {
                    keys.push((isbn13, Field::Isbn));
                }
                groups.push(Group(keys));
            }
        }
    }
    groups
}

fn flag(name: &str, text: Option<&str>) -> Result<bool> {
    match text {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(Error::invalid(
            name,
            format!("{other:?} is not 1, 0, true or false"),
        )),
    }
}

/// A language code as the catalogue keeps it: three lower-case letters.
fn language(text: Option<&str>) -> Result<Option<String>> {
    match text {
        None => Ok(None),
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) => {
            Ok(Some(code.to_string()))
        }
        Some(_) => Err(Error::invalid(
            "language",
            "an ISO 639-2 code of three lower-case letters, e.g. chi or eng",
        )),
    }
}

fn number(name: &str, text: Option<&str>, default: u32, min: u32, max: u32) -> Result<u32> {
    let Some(text) = text else { return Ok(default) };
    let value: u32 = text
        .parse()
        .map_err(|_| Error::invalid(name, format!("{text:?} is not a whole number")))?;
    if !(min..=max).contains(&value) {
        return Err(Error::invalid(
            name,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(value)
}

fn coordinates(lat: Option<&str>, lon: Option<&str>) -> Result<Option<Coordinates>> {
    let parse = |name: &str, text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::invalid(name, format!("{text:?} is not a number")))
    };
    match (lat, lon) {
        (Some(lat), Some(lon)) => Ok(Some(Coordinates::new(
            parse("lat", lat)?,
            parse("lon", lon)?,
        )?)),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::invalid("lon", "lat and lon go together")),
        (None, Some(_)) => Err(Error::invalid("lat", "lat and lon go together")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> SearchParams<'_> {
        SearchParams {
            q: Some(text),
            ..SearchParams::default()
        }
    }

    #[test]
    fn language_and_year_are_checked() {
        let ok = SearchQuery::parse(&SearchParams {
            language: Some("eng"),
            year: Some("2008"),
            ..q("santi")
        })
        .unwrap();
        assert_eq!((ok.language.as_deref(), ok.year), (Some("eng"), Some(2008)));
        for (language, year) in [(Some("EN"), None), (None, Some("99")), (None, Some("x"))] {
            assert!(matches!(
                SearchQuery::parse(&SearchParams {
                    language,
                    year,
                    ..q("santi")
                }),
                Err(Error::Invalid { .. })
            ));
        }
    }

    #[test]
    fn han_text_becomes_one_group_per_covering_n_gram() {
        let query = SearchQuery::parse(&q("三體黑暗")).unwrap();
        let terms: Vec<&str> = query.groups.iter().map(|g| g.0[0].0.as_str()).collect();
        assert_eq!(terms, ["三体黑暗"]);
        assert_eq!(query.bonus, vec![("三体黑暗".to_string(), Field::Exact)]);
        let query = SearchQuery::parse(&q("三體黑暗森林")).unwrap();
        let terms: Vec<&str> = query.groups.iter().map(|g| g.0[0].0.as_str()).collect();
        assert_eq!(terms, ["三体黑暗", "黑暗森林"]);
    }

    #[test]
    fn a_latin_word_may_be_pinyin_initials_or_a_word() {
        let query = SearchQuery::parse(&q("santi")).unwrap();
        assert_eq!(query.groups.len(), 1);
        assert!(query.groups[0]
            .0
            .contains(&("santi".into(), Field::TitlePinyin)));
        assert!(query.groups[0]
            .0
            .contains(&("santi".into(), Field::TitleInitials)));
    }

    #[test]
    fn a_hyphenated_isbn_in_q_is_one_isbn_key() {
        let query = SearchQuery::parse(&q("978-7-5366-9293-0")).unwrap();
        assert_eq!(
            query.groups,
            vec![Group(vec![("9787536692930".into(), Field::Isbn)])]
        );
    }

    #[test]
    fn an_empty_query_names_q() {
        let error = SearchQuery::parse(&q("  ·· ")).unwrap_err();
        assert!(error.to_string().starts_with("invalid q"), "{error}");
        assert!(SearchQuery::parse(&SearchParams::default()).is_err());
    }

    #[test]
    fn a_long_query_is_truncated_not_refused() {
        let long = "三体".repeat(500);
        let query = SearchQuery::parse(&q(&long)).unwrap();
        assert!(query.truncated);
        assert!(query.groups.len() <= MAX_GROUPS);
    }

    #[test]
    fn malformed_parameters_name_themselves() {
        let bad = |params: SearchParams| SearchQuery::parse(&params).unwrap_err().to_string();
        assert!(bad(SearchParams {
            page: Some("x"),
            ..q("a")
        })
        .starts_with("invalid page"));
        assert!(bad(SearchParams {
            per_page: Some("1000"),
            ..q("a")
        })
        .starts_with("invalid per_page"));
        assert!(bad(SearchParams {
            available: Some("yes"),
            ..q("a")
        })
        .starts_with("invalid available"));
        assert!(bad(SearchParams {
            lat: Some("30"),
            ..q("a")
        })
        .starts_with("invalid lon"));
        assert!(bad(SearchParams {
            isbn: Some("123"),
            ..q("a")
        })
        .starts_with("invalid isbn"));
    }
}
