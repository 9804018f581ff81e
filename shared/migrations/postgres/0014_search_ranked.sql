-- 0014_search_ranked (PostgreSQL): one posting per term and record, read
-- in rank order.
--
-- Kept in step with migrations/sqlite/0014_search_ranked.sql. record_terms
-- held a row per term, field and record, so a term's score per record was
-- a sum over fields, and ranking a common term (文化: 58,903 records of
-- 1,000,000) meant reading and sorting all of it for every page. Here a
-- row carries the summed weight (score) and the fields as bits
-- (shared/src/search/keys.rs), and search_postings_ranked holds each
-- term's postings best first, so a page, a capped count and a facet sample
-- stop after the rows they need (docs/search.md).
--
-- The keys are derived data and changed too (Han n-grams up to four
-- characters), so nothing is copied: the index is empty after this
-- migration until the operator's reindex walk (wangjie-import --reindex)
-- has been over the catalogue (docs/operations.md). record_terms is left
-- for instances still on the old code during a rollout; a later migration
-- drops it.
CREATE TABLE search_postings (
    term TEXT NOT NULL,
    record_id BIGINT NOT NULL CONSTRAINT search_postings_record_exists REFERENCES records (id) ON DELETE CASCADE,
    score BIGINT NOT NULL CONSTRAINT search_postings_score_positive CHECK (score > 0),
    fields BIGINT NOT NULL CONSTRAINT search_postings_fields_known CHECK (fields > 0 AND fields < 256),
    -- By record first: re-keying deletes a record's postings, and a search
    -- probes one (record, term) pair at a time, from the index alone.
    CONSTRAINT search_postings_one_per_record_term PRIMARY KEY (record_id, term) INCLUDE (score, fields)
);
CREATE INDEX search_postings_ranked ON search_postings (term, score DESC, record_id) INCLUDE (fields);

-- A search reads copies by record for its filters, the page's shelves and
-- the branch facet, and records by id for the year and language facets:
-- with those columns in the indexes, from the indexes alone (at 1,000,000
-- records a facet sample of 1,000 was 4,000 heap fetches).
DROP INDEX copies_by_record_and_status;
CREATE INDEX copies_by_record_and_status ON copies (record_id, status) INCLUDE (home_point, current_point);
CREATE INDEX records_search_facets ON records (id) INCLUDE (year, language);
