-- 0021_compensation (SQLite, in step with postgres/0021_compensation.sql): lost
-- and damaged books (docs/loans.md, "Lost and
-- damaged").
--
-- A record's list price, when the catalogue knows it; compensation is
-- that price (or the library's default) times the library's factor.
ALTER TABLE records ADD COLUMN list_price_fen BIGINT
    CONSTRAINT records_list_price_not_negative CHECK (list_price_fen >= 0);

-- What a reader owes for a copy lost on loan, or returned damaged: an
-- Alipay trade (out_trade_no = WJCMP<loan id>, one per loan) whose verified
-- notification marks it paid. While one is unpaid the reader borrows
-- nothing more.
CREATE TABLE compensations (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    loan_id BIGINT NOT NULL CONSTRAINT compensations_one_per_loan UNIQUE REFERENCES loans (id),
    copy_barcode TEXT NOT NULL REFERENCES copies (barcode),
    reason TEXT NOT NULL CONSTRAINT compensations_reason_known CHECK (reason IN ('lost', 'damaged')),
    amount_fen BIGINT NOT NULL CONSTRAINT compensations_amount_positive CHECK (amount_fen > 0),
    out_trade_no TEXT NOT NULL CONSTRAINT compensations_one_per_out_trade_no UNIQUE,
    state TEXT NOT NULL CONSTRAINT compensations_state_known
        CHECK (state IN ('awaiting_payment', 'paid')),
    alipay_trade_no TEXT,
    -- "reader:12" for a loss declared, "staff:3" for damage found.
    opened_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    paid_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT compensations_paid_is_whole CHECK ((state = 'paid') = (paid_at_ms IS NOT NULL))
);

CREATE INDEX compensations_by_reader ON compensations (reader_id, state);
