//! *Search* finds records by keyword, title, author or ISBN, the way
//! Chinese readers type them: characters (simplified or traditional),
//! pinyin in full or by initials, ISBN-10 or ISBN-13 with or without
//! hyphens.
//!
//! All the language work happens when a record is indexed ([`index`]):
//! each record's fields become *search keys* (rows of `search_postings`), so a
//! request only folds its own few characters and looks keys up. Spin makes
//! a fresh instance per request, and nothing here loads a dictionary.
//!
//! - [`normalize`]: folding text to one form (case, full width, traditional).
//! - [`isbn`]: reading ISBNs in any of their written forms.
//! - [`keys`]: the keys of a record, and the same segmentation for queries.
//! - [`query`]: a search request parsed into groups of keys and filters.
//! - [`matched`]: the SQL of the matched set, bounded by its candidates.
//! - [`store`]: a search run: the driving group, the page, total and facets.
//! - [`detail`]: a record with its copies and whether it can be borrowed online.

pub mod detail;
pub mod index;
pub mod isbn;
pub mod keys;
pub mod matched;
pub mod normalize;
pub mod query;
pub mod store;
pub mod summary;
