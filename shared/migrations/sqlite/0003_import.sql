-- Catalogue import bookkeeping (issue 3). Placeholder until written.
CREATE TABLE IF NOT EXISTS placeholder_0003 (id BIGINT);
