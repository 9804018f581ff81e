-- 0002_search (PostgreSQL): the inverted index of the catalogue.
--
-- Kept in step with migrations/sqlite/0002_search.sql. One row per search
-- key of a record: a character bigram, a word, a pinyin or initials key, an
-- ISBN-13, or the whole folded title (field 'exact'). Keys are computed by
-- the app when records are written (shared/src/search/index.rs), never per
-- request. weight is BIGINT because the Db seam binds every integer as int8.
CREATE TABLE record_terms (
    term TEXT NOT NULL,
    record_id BIGINT NOT NULL CONSTRAINT record_terms_record_exists REFERENCES records (id) ON DELETE CASCADE,
    field TEXT NOT NULL CONSTRAINT record_terms_field_known CHECK (field IN
        ('exact', 'title', 'title_pinyin', 'title_initials',
         'author', 'author_pinyin', 'author_initials', 'isbn')),
    weight BIGINT NOT NULL CONSTRAINT record_terms_weight_positive CHECK (weight > 0),
    CONSTRAINT record_terms_one_per_term_record_field PRIMARY KEY (term, field, record_id)
);

-- Re-keying a record deletes its old keys by record.
CREATE INDEX record_terms_by_record ON record_terms (record_id);
-- Filters, facets and availability read copies by record (indexed in
-- 0001). No index by home point: SQLite would scan all copies through it
-- for the branch facet.
