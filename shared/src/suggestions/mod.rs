//! *Purchase suggestions* ("you choose, we pay", 你选书，我买单): a reader
//! proposes a book the library does not hold (an ISBN, or a title and an
//! author), the library's rules decide what may be bought ([`rules`]), a
//! librarian approves it at a price or declines it with a reason
//! ([`review`]), and when the bought book is catalogued the proposer's
//! order is made for it, as its first loan ([`arrive`]).

pub mod arrive;
pub mod review;
pub mod rules;
pub mod state;

pub use rules::SuggestionRules;
pub use state::{SuggestionState, SuggestionStep};

use crate::db::{in_transaction, Db, Row};
use crate::point::PointKind;
use crate::readers::{borrowing, store as readers};
use crate::{Error, Result};
use serde::Serialize;

/// A suggestion as the reader and staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestionView {
    /// `purchase_suggestions.id`.
    pub id: i64,
    /// Who proposed it.
    pub reader_id: i64,
    /// The ISBN-13, if given.
    pub isbn13: Option<String>,
    /// The title, if given.
    pub title: String,
    /// The author, if given.
    pub author: Option<String>,
    /// The subject the reader gave.
    pub subject: Option<String>,
    /// The reader's note.
    pub note: Option<String>,
    /// Where the proposer will collect it.
    pub pickup_point: Option<String>,
    /// `proposed`, `approved`, `rejected`, `ordered`, `arrived`.
    pub state: SuggestionState,
    /// The price it was approved at, in fen.
    pub price_fen: Option<i64>,
    /// Why it was declined (or a librarian's note on approval).
    pub decision_reason: Option<String>,
    /// When a librarian decided.
    pub decided_at_ms: Option<i64>,
    /// The record it became, once catalogued.
    pub record_id: Option<i64>,
    /// The proposer's order for it.
    pub order_id: Option<i64>,
    /// When it was proposed.
    pub created_at_ms: i64,
}

pub(crate) const SQL_VIEW: &str =
    "SELECT s.id, s.reader_id, s.isbn13, s.title, s.author, s.subject, \
       s.note, s.pickup_point, s.state, s.price_fen, s.decision_reason, s.decided_at_ms, \
       s.record_id, COALESCE(s.order_id, h.order_id) AS order_id, s.created_at_ms \
     FROM purchase_suggestions s LEFT JOIN holds h ON h.id = s.hold_id";

pub(crate) fn from_row(row: &Row<'_>) -> Result<SuggestionView> {
    Ok(SuggestionView {
        id: row.i64("id")?,
        reader_id: row.i64("reader_id")?,
        isbn13: row.opt_text("isbn13")?.map(str::to_string),
        title: row.text("title")?.to_string(),
        author: row.opt_text("author")?.map(str::to_string),
        subject: row.opt_text("subject")?.map(str::to_string),
        note: row.opt_text("note")?.map(str::to_string),
        pickup_point: row.opt_text("pickup_point")?.map(str::to_string),
        state: SuggestionState::parse(row.text("state")?)?,
        price_fen: row.opt_i64("price_fen")?,
        decision_reason: row.opt_text("decision_reason")?.map(str::to_string),
        decided_at_ms: row.opt_i64("decided_at_ms")?,
        record_id: row.opt_i64("record_id")?,
        order_id: row.opt_i64("order_id")?,
        created_at_ms: row.i64("created_at_ms")?,
    })
}

/// The reader's suggestions, newest first.
pub fn list(db: &dyn Db, reader_id: i64) -> Result<Vec<SuggestionView>> {
    let sql = format!("{SQL_VIEW} WHERE s.reader_id = $1 ORDER BY s.id DESC LIMIT 100");
    let rows = db.query(&sql, &[reader_id.into()])?;
    rows.iter().map(|row| from_row(&row)).collect()
}

/// Suggestion `id`, whoever proposed it.
pub fn get(db: &dyn Db, id: i64) -> Result<SuggestionView> {
    let sql = format!("{SQL_VIEW} WHERE s.id = $1");
    let rows = db.query(&sql, &[id.into()])?;
    rows.first()
        .map(|row| from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound { what: "suggestion" })
}

/// What a reader proposes, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// A checked ISBN-13, or none (then title and author are given).
    pub isbn13: Option<String>,
    /// The title ("" when only the ISBN is given).
    pub title: String,
    /// The author.
    pub author: Option<String>,
    /// The subject, as the reader names it.
    pub subject: Option<String>,
    /// Why the reader wants it.
    pub note: Option<String>,
    /// Where the reader will collect it.
    pub point_code: String,
}

/// Reader `reader_id` proposes a book. Refused: 403 when the reader may
/// not borrow; 404 for an unknown point, 400 for the delivery centre; 409
/// for an excluded subject, a book the library holds, one already
/// suggested and not yet decided against, or past the monthly limit.
pub fn propose(
    db: &dyn Db,
    reader_id: i64,
    proposal: &Proposal,
    rules: &SuggestionRules,
    now_ms: i64,
) -> Result<SuggestionView> {
    let reader = readers::get(db, reader_id)?;
    borrowing::check(db, &reader, now_ms)?;
    let point = crate::orders::place::pickup_point(db, &proposal.point_code)?;
    if point.kind == PointKind::DeliveryCentre {
        return Err(Error::invalid(
            "point_code",
            "the delivery centre is not a pickup point",
        ));
    }
    if let Some(excluded) = proposal.subject.as_deref().and_then(|s| rules.excludes(s)) {
        return Err(Error::Conflict(format!(
            "the library does not buy books on {excluded} through suggestions"
        )));
    }
    if let Some(title) = held(db, proposal)? {
        return Err(Error::Conflict(format!(
            "the library holds «{title}» already: order it, or join its queue"
        )));
    }
    if already_suggested(db, proposal)? {
        return Err(Error::Conflict(
            "this book is suggested already and is being considered or bought".into(),
        ));
    }
    let (month_start, _) = rules::month_and_year_start(now_ms);
    let id = in_transaction(db, |db| {
        // The reader's row first: two proposals at once are counted one
        // after the other.
        db.execute(
            "UPDATE readers SET updated_at_ms = $2 WHERE id = $1",
            &[reader_id.into(), now_ms.into()],
        )?;
        let made = db.query(
            "SELECT COUNT(*) AS n FROM purchase_suggestions WHERE reader_id = $1 AND created_at_ms >= $2",
            &[reader_id.into(), month_start.into()],
        )?;
        let made = made.first().map(|r| r.i64("n")).transpose()?.unwrap_or(0);
        if made >= rules.monthly_limit {
            return Err(Error::Conflict(format!(
                "{made} suggestions this month already, the most allowed"
            )));
        }
        let rows = db.query(
            "INSERT INTO purchase_suggestions (reader_id, title, author, isbn13, note, subject, \
               pickup_point, state, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING RETURNING id",
            &[
                reader_id.into(),
                proposal.title.as_str().into(),
                proposal.author.clone().into(),
                proposal.isbn13.clone().into(),
                proposal.note.clone().into(),
                proposal.subject.clone().into(),
                proposal.point_code.as_str().into(),
                SuggestionState::Proposed.as_str().into(),
                now_ms.into(),
            ],
        )?;
        let id = rows
            .first()
            .map(|r| r.i64("id"))
            .transpose()?
            .ok_or_else(|| Error::Conflict("you suggested this book already".into()))?;
        EVENTS.log(
            db,
            now_ms,
            &format!("reader:{reader_id}"),
            id,
            "suggestion_proposed",
            serde_json::json!({
                "isbn13": proposal.isbn13, "title": proposal.title, "point": proposal.point_code,
            }),
        )?;
        Ok(id)
    })?;
    get(db, id)
}

/// The title of a record the library holds (a copy not withdrawn) that is
/// the proposed book: by ISBN, or by title and author.
fn held(db: &dyn Db, proposal: &Proposal) -> Result<Option<String>> {
    let rows = match &proposal.isbn13 {
        Some(isbn) => db.query(
            "SELECT r.title FROM records r WHERE r.isbn13 = $1 AND EXISTS (SELECT 1 FROM copies c \
             WHERE c.record_id = r.id AND c.status <> 'withdrawn') LIMIT 1",
            &[isbn.as_str().into()],
        )?,
        None => db.query(
            "SELECT r.title FROM records r WHERE r.title = $1 AND r.responsibility LIKE $2 \
             AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = r.id AND c.status <> 'withdrawn') \
             LIMIT 1",
            &[
                proposal.title.as_str().into(),
                format!("%{}%", proposal.author.as_deref().unwrap_or_default()).into(),
            ],
        )?,
    };
    rows.first()
        .map(|r| Ok(r.text("title")?.to_string()))
        .transpose()
}

/// Whether anyone suggested the same book and it is not decided against.
fn already_suggested(db: &dyn Db, proposal: &Proposal) -> Result<bool> {
    let rows = match &proposal.isbn13 {
        Some(isbn) => db.query(
            "SELECT 1 AS found FROM purchase_suggestions WHERE isbn13 = $1 \
             AND state IN ('proposed', 'approved', 'ordered') LIMIT 1",
            &[isbn.as_str().into()],
        )?,
        None => db.query(
            "SELECT 1 AS found FROM purchase_suggestions WHERE title = $1 AND author = $2 \
             AND state IN ('proposed', 'approved', 'ordered') LIMIT 1",
            &[
                proposal.title.as_str().into(),
                proposal.author.clone().unwrap_or_default().into(),
            ],
        )?,
    };
    Ok(!rows.is_empty())
}

/// This module's rows in the event log.
pub(crate) const EVENTS: crate::events::Subject = crate::events::Subject("suggestion");
