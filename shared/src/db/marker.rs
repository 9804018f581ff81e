//! A marker row, so that no PostgreSQL query ever returns zero rows.
//!
//! Spin 4.0.0 to 4.0.2 never answer a synchronous `spin:postgres` `query`
//! whose result is empty (spinframework/spin issue 3671, fixed by pull
//! request 3673 after 4.0.2): the request hangs. Every statement that can
//! find nothing (an unknown id, a fresh idempotency key, an empty pick list)
//! would hang on the newest released Spin. So the PostgreSQL adapter sends
//! each query in a form that always yields at least one row and removes the
//! marker before the domain sees the rows:
//!
//! ```sql
//! WITH [its own CTEs,] wj_rows__ AS (<the statement>)
//! SELECT r.* FROM (VALUES (1)) AS wj_one__ (x)
//! LEFT JOIN (SELECT *, TRUE AS wj_present__ FROM wj_rows__) AS r ON TRUE
//! ```
//!
//! The left join yields the statement's rows, each with `wj_present__` true,
//! or one row of NULLs when there are none. The statement goes into a CTE
//! rather than a subquery because a data-modifying statement (`UPDATE ...
//! RETURNING`, or one with data-modifying CTEs of its own) is allowed only
//! in a top-level `WITH`; a statement's own `WITH` list is therefore
//! extended, not nested. A side-effect-free CTE used once is inlined by
//! PostgreSQL 12 and later, so a plain `SELECT` keeps its plan.
//!
//! Finding where a statement's own `WITH` list ends needs only parentheses
//! outside quotes and comments; the statements are the app's own.

use super::{Rows, Value};

/// The column the marker adds; removed by [`strip`].
pub const PRESENT: &str = "wj_present__";

/// The keywords that can begin the main statement after a `WITH` list.
const MAIN_KEYWORDS: [&str; 7] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "VALUES", "TABLE", "MERGE",
];

/// `sql` rewritten to yield at least one row (see the module's text).
pub fn wrap(sql: &str) -> String {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let (with_list, main) = split_with(sql);
    let ctes = match with_list {
        Some(list) => format!("{list}, wj_rows__ AS ({main})"),
        None => format!("WITH wj_rows__ AS ({main})"),
    };
    format!(
        "{ctes} SELECT r.* FROM (VALUES (1)) AS wj_one__ (x) \
         LEFT JOIN (SELECT *, TRUE AS {PRESENT} FROM wj_rows__) AS r ON TRUE"
    )
}

/// Removes the marker column, and the marker row of an empty result.
/// Rows without the marker column (a statement not sent through [`wrap`])
/// are returned as they are.
pub fn strip(mut rows: Rows) -> Rows {
    if rows.columns.last().map(String::as_str) != Some(PRESENT) {
        return rows;
    }
    rows.columns.pop();
    rows.rows
        .retain_mut(|row| !matches!(row.pop(), None | Some(Value::Null)));
    rows
}

/// Splits `sql` into its own `WITH` list (up to the last CTE's closing
/// parenthesis) and the main statement; `None` when it has no `WITH`.
fn split_with(sql: &str) -> (Option<&str>, &str) {
    let mut tokens = Tokens::new(sql);
    match tokens.next_word() {
        Some((_, word)) if word.eq_ignore_ascii_case("WITH") => {}
        _ => return (None, sql),
    }
    while let Some((start, word)) = tokens.next_word() {
        if MAIN_KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
            return (Some(sql[..start].trim_end()), &sql[start..]);
        }
    }
    // Not a statement we understand: sent as it was, PostgreSQL judges it.
    (None, sql)
}

/// The words of a statement that stand outside parentheses, quotes and
/// comments, with their byte offsets.
struct Tokens<'a> {
    sql: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn new(sql: &'a str) -> Self {
        Tokens { sql, at: 0 }
    }

    fn next_word(&mut self) -> Option<(usize, &'a str)> {
        let bytes = self.sql.as_bytes();
        let mut depth = 0usize;
        while self.at < bytes.len() {
            let rest = &self.sql[self.at..];
            let c = bytes[self.at];
            if rest.starts_with("--") {
                self.at += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.at += block_comment_len(rest);
            } else if c == b'\'' || c == b'"' {
                self.at += quoted_len(rest, c);
            } else if c == b'$' {
                self.at += dollar_len(rest);
            } else if c == b'(' {
                depth += 1;
                self.at += 1;
            } else if c == b')' {
                depth = depth.saturating_sub(1);
                self.at += 1;
            } else if depth == 0 && (c.is_ascii_alphabetic() || c == b'_') {
                let start = self.at;
                let len = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len());
                self.at += len;
                return Some((start, &self.sql[start..start + len]));
            } else {
                // Any other character (a multi-byte one included) moves on
                // by its own width.
                self.at += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        None
    }
}

/// `/* ... */`, which PostgreSQL nests.
fn block_comment_len(text: &str) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("/*") {
            depth += 1;
            i += 2;
        } else if rest.starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

/// `'...'` or `"..."`, a doubled quote standing for itself.
fn quoted_len(text: &str, quote: u8) -> usize {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    text.len()
}

/// `$1` (a parameter) or `$tag$ ... $tag$` (a dollar-quoted string).
fn dollar_len(text: &str) -> usize {
    let tag_len = text[1..]
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .map_or(text.len(), |n| n + 1);
    let tag = &text[..tag_len];
    let is_parameter = tag.len() > 1 && tag[1..].bytes().all(|b| b.is_ascii_digit());
    if is_parameter || !text[tag_len..].starts_with('$') {
        return tag_len.max(1);
    }
    let open = &text[..=tag_len];
    text[open.len()..]
        .find(open)
        .map_or(text.len(), |end| open.len() + end + open.len())
}

#[cfg(test)]
#[path = "marker_tests.rs"]
mod tests;
