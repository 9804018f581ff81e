//! "You choose, we pay": the reader proposes a book and follows their
//! suggestions (`/api/me/suggestions`).

use serde::Deserialize;
use wangjie_shared::catalogue::normalize_isbn;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::suggestions::{self, Proposal, SuggestionRules};
use wangjie_shared::{now_ms, Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    isbn: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    note: Option<String>,
    point_code: String,
}

/// A trimmed text of at most `max` characters, or none when empty.
fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > max => {
            Err(Error::invalid(field, format!("at most {max} characters")))
        }
        other => Ok(other),
    }
}

fn proposal(body: Body) -> Result<Proposal> {
    let isbn13 = text("isbn", body.isbn, 20)?
        .map(|isbn| normalize_isbn(&isbn).map_err(|reason| Error::invalid("isbn", reason)))
        .transpose()?;
    let title = text("title", body.title, 200)?;
    let author = text("author", body.author, 100)?;
    if isbn13.is_none() && (title.is_none() || author.is_none()) {
        return Err(Error::invalid(
            "isbn",
            "give the ISBN, or the title and the author",
        ));
    }
    let point_code = body.point_code.trim().to_string();
    if point_code.is_empty() || point_code.chars().count() > 32 {
        return Err(Error::invalid("point_code", "a service point's code"));
    }
    Ok(Proposal {
        isbn13,
        title: title.unwrap_or_default(),
        author,
        subject: text("subject", body.subject, 50)?,
        note: text("note", body.note, 500)?,
        point_code,
    })
}

/// `POST /api/me/suggestions`: 201 with the suggestion, `proposed`.
pub fn propose(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let proposal = proposal(request.json()?)?;
    let rules = SuggestionRules::from_settings(config::optional)?;
    let made = suggestions::propose(
        db::connect()?.as_ref(),
        claims.reader_id,
        &proposal,
        &rules,
        now,
    )?;
    Ok(Reply::json(201, &made))
}

/// `GET /api/me/suggestions`: the reader's suggestions, newest first.
pub fn list(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let all = suggestions::list(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &serde_json::json!({ "suggestions": all })))
}
