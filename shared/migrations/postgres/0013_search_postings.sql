-- 0013_search_postings: the posting lists of record_terms answered from the
-- index alone. The primary key (term, field, record_id) did not carry the
-- weight, so summing a common key's weights fetched one heap row per
-- posting, in insertion order: thousands of random reads for 文化
-- (docs/benchmarks.md). The same uniqueness, now with the weight included,
-- lets PostgreSQL run the search's join as an index-only scan.
ALTER TABLE record_terms DROP CONSTRAINT record_terms_one_per_term_record_field;
CREATE UNIQUE INDEX record_terms_postings ON record_terms (term, field, record_id) INCLUDE (weight);
