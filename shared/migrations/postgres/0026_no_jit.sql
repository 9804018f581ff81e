-- 0026_no_jit: PostgreSQL's JIT off for the app's database.
--
-- JIT compiles a statement whose *estimated* cost passes jit_above_cost
-- (100,000 by default), and the compile is paid on every execution. The
-- app runs short statements that read few rows, but a search of many
-- groups (q=a b c ... p: sixteen one-letter words) is a large statement
-- whose estimate passes the threshold whatever it reads: it took 2.0-2.5 s
-- at 2,000 records, nearly all of it compiling, and 14 ms with JIT off
-- (docs/search.md, "Every query shape bounded"). The import's delete had
-- the same trouble (docs/benchmarks.md). Nothing here is analytical enough
-- to win the compile back.
--
-- A setting of the database takes effect in new sessions only: pooled
-- connections opened before this migration keep JIT until they are
-- replaced (restart the app after migrating, as docs/operations.md says).
-- Only the database's owner may alter it; another role turns JIT off for
-- itself instead, which is what the app's sessions need.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    EXECUTE 'ALTER ROLE CURRENT_USER SET jit = off';
END
$$;
