-- Search index for the catalogue (issue 3). Placeholder until written.
CREATE TABLE IF NOT EXISTS placeholder_0002 (id BIGINT);
