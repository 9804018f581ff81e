-- 0022_sesame_orders (SQLite, in step with postgres/0022_sesame_orders.sql):
-- Sesame credit-borrowing orders (信用借还), one per
-- loan started on a Sesame deposit-free standing (docs/credit.md, "Credit
-- that remembers").
--
-- state is where the promise stands on our side: open (on loan), overdue
-- (reported: the reader lost the deposit-free standing), completed (the
-- book came back, or was declared lost). pending is the provider call still
-- owed (create, modify, complete, report), an outbox row like a notice:
-- a sender leases it (lease_until_ms), calls Alipay's gateway, and clears
-- it, or counts the attempt and retries later (next_attempt_at_ms).
CREATE TABLE sesame_orders (
    id INTEGER PRIMARY KEY,
    loan_id BIGINT NOT NULL CONSTRAINT sesame_orders_one_per_loan UNIQUE REFERENCES loans (id),
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    -- Ours, from the loan id (WJZM<loan id>): Sesame is idempotent on it.
    out_order_no TEXT NOT NULL CONSTRAINT sesame_orders_one_per_out_order_no UNIQUE,
    -- Sesame's order_no, once created.
    zm_order_no TEXT,
    state TEXT NOT NULL CONSTRAINT sesame_orders_state_known
        CHECK (state IN ('open', 'overdue', 'completed')),
    pending TEXT CONSTRAINT sesame_orders_pending_known
        CHECK (pending IN ('create', 'modify', 'complete', 'report')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT,
    lease_until_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    reported_at_ms BIGINT,
    completed_at_ms BIGINT
);

CREATE INDEX sesame_orders_owed ON sesame_orders (pending, next_attempt_at_ms);
CREATE INDEX sesame_orders_by_reader ON sesame_orders (reader_id, state);

-- Set while a Sesame overdue of the reader's is reported and not settled:
-- no deposit-free lending until then.
ALTER TABLE readers ADD COLUMN sesame_overdue_since_ms BIGINT;
