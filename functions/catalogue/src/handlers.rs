//! Parse, call the domain, answer.

use serde_json::json;
use wangjie_shared::catalogue::{self, store, Format, Offsets};
use wangjie_shared::db::migrate;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::search::index;
use wangjie_shared::spin::{db, operator};
use wangjie_shared::suggestions;
use wangjie_shared::{auth, now_ms, Error, Result};

/// Lets the operator through: the admin token, or an operator's staff
/// session (`spin::operator::authorize`, shared with the admin component).
pub fn authorize(request: &Request) -> Result<()> {
    operator::authorize(request, auth::Access::Write)
}

/// `POST /admin/catalogue/import?format=csv|marc|marcxml`: imports one
/// batch. `record_offset`, `line_offset` and `byte_offset` say where the
/// batch starts in its file, so rejections name positions in the file.
pub fn import_batch(request: &Request) -> Result<Reply> {
    let format: Format = request
        .param("format")
        .ok_or_else(|| Error::invalid("format", "required: csv, marc or marcxml"))?
        .parse()?;
    let offset = |name| request.parse_param::<u64>(name, "a whole number");
    let offsets = Offsets {
        records: offset("record_offset")?.unwrap_or(0),
        lines: offset("line_offset")?.unwrap_or(0),
        bytes: offset("byte_offset")?.unwrap_or(0),
    };
    if request.body.is_empty() {
        return Err(Error::invalid(
            "body",
            "empty: a batch holds at least one record",
        ));
    }
    // Parse before connecting: a malformed batch costs no connection.
    let parsed = catalogue::parse(format, &request.body, offsets)?;
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    let now = now_ms();
    let summary = store::import(db.as_ref(), parsed, now)?;
    // A bought book that readers suggested becomes its proposer's order.
    let arrived = suggestions::arrive::arrive_imported(db.as_ref(), now)?;
    let mut answer = serde_json::to_value(&summary).map_err(anyhow::Error::from)?;
    answer["suggestions_arrived"] = arrived.into();
    Ok(Reply::json(200, &answer))
}

/// Records re-keyed per reindex request unless `limit` says otherwise: a
/// few seconds of work, well inside any request timeout.
const REINDEX_LIMIT: u64 = 2_000;
const REINDEX_MAX: u64 = 20_000;

/// `POST /admin/catalogue/reindex?after=ID&limit=N`: rebuilds the search
/// keys of the next `limit` records after the id `after` (0 to start) and
/// answers `{"reindexed": n, "last_id": id, "next_after": id}`, with
/// `"next_after": null` when the catalogue is done. An operator walks the whole catalogue this
/// way after the keys' derivation changes (docs/operations.md); each step
/// commits on its own, so an interrupted walk resumes where it stopped.
pub fn reindex(request: &Request) -> Result<Reply> {
    let after = request
        .parse_param::<u64>("after", "a record id, 0 or more")?
        .unwrap_or(0);
    let after = i64::try_from(after).map_err(|_| Error::invalid("after", "too large"))?;
    let limit = request.count_param("limit", REINDEX_LIMIT, 1, REINDEX_MAX)?;
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    let done = index::reindex_after(db.as_ref(), after, limit as i64)?;
    Ok(Reply::json(
        200,
        &json!({
            "reindexed": done.count,
            "last_id": done.last,
            "next_after": done.next_after,
        }),
    ))
}
