-- 0013_search_postings: the posting lists of record_terms answered from an
-- index alone, as on PostgreSQL (docs/benchmarks.md). SQLite cannot change
-- a table's primary key in place and has no INCLUDE, so a second index
-- carries the weight; SQLite then reads the search's join from it only.
CREATE INDEX record_terms_postings ON record_terms (term, field, record_id, weight);
