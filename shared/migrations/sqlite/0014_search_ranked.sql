-- 0014_search_ranked (SQLite): one posting per term and record, read in
-- rank order.
--
-- Kept in step with migrations/postgres/0014_search_ranked.sql, which says
-- why. SQLite has no INCLUDE: the table is kept in primary-key order
-- (WITHOUT ROWID), so a probe reads the row from the key, and the fields
-- are the ranked index's last column. The index is empty after this migration until the operator's
-- reindex walk has been over the catalogue; record_terms is left for a
-- later migration to drop.
CREATE TABLE search_postings (
    term TEXT NOT NULL,
    record_id BIGINT NOT NULL CONSTRAINT search_postings_record_exists REFERENCES records (id) ON DELETE CASCADE,
    score BIGINT NOT NULL CONSTRAINT search_postings_score_positive CHECK (score > 0),
    fields BIGINT NOT NULL CONSTRAINT search_postings_fields_known CHECK (fields > 0 AND fields < 256),
    CONSTRAINT search_postings_one_per_record_term PRIMARY KEY (record_id, term)
) WITHOUT ROWID;
CREATE INDEX search_postings_ranked ON search_postings (term, score DESC, record_id, fields);

-- Copies by record with the points, as on PostgreSQL. records needs no
-- such index here: its id is the rowid, and one look-up reads the row.
DROP INDEX copies_by_record_and_status;
CREATE INDEX copies_by_record_and_status ON copies (record_id, status, home_point, current_point);
