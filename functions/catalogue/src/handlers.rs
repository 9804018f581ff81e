//! Parse, call the domain, answer.

use wangjie_shared::catalogue::{self, store, Format, Offsets};
use wangjie_shared::db::migrate;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db};
use wangjie_shared::{auth, now_ms, Error, Result};

/// Lets only the operator's bearer token through.
pub fn authorize(request: &Request) -> Result<()> {
    auth::require_bearer(request, &config::required("admin_token")?)
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
    let summary = store::import(db.as_ref(), parsed, now_ms())?;
    Ok(Reply::json(200, &summary))
}
