-- 0025_orders_one_trip (SQLite, in step with postgres/0025_orders_one_trip.sql):
-- the ids of signed-out session tokens, beside the key-value store's
-- session:revoked:<id>, so that placing an order checks the revocation in
-- the database it writes to (docs/orders.md, "One round trip"). PostgreSQL
-- also gets the placement as one function; SQLite is embedded, with no
-- round trip to save, and runs the same steps statement by statement
-- (shared/src/orders/steps.rs).
CREATE TABLE session_revocations (
    token_id TEXT PRIMARY KEY,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at_ms);

-- A reader's open loans, counted against the quota on every order and hold.
CREATE INDEX loans_open_by_reader ON loans (reader_id) WHERE returned_at_ms IS NULL;
