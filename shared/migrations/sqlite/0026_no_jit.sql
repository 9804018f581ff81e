-- 0026_no_jit (SQLite): PostgreSQL's JIT is turned off by the PostgreSQL
-- file of this version; SQLite has no JIT. The version is recorded so that
-- both dialects know the same versions.
SELECT 1;
