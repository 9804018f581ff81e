-- 0004_credit (SQLite, in step with postgres/0004_credit.sql): what sign-in, credit decisions, virtual cards and deposits
-- need.
--
-- readers.standing is the reader's current standing (the latest decision,
-- or a paid deposit); NULL until the first decision. credit_decisions is the
-- history, with the raw score kept only while its decision is trusted: the
-- daily job clears scores whose valid_until has passed (docs/credit.md).

-- A citizen's Osmanthus score lends to one reader account only.
ALTER TABLE readers ADD COLUMN osmanthus_ref TEXT;
CREATE UNIQUE INDEX readers_one_per_osmanthus_ref ON readers (osmanthus_ref);

ALTER TABLE readers ADD COLUMN standing TEXT CONSTRAINT readers_standing_known
    CHECK (standing IN ('sesame_deposit_free', 'osmanthus_virtual_card', 'deposit', 'refused'));
ALTER TABLE readers ADD COLUMN deposit_paid_at_ms BIGINT;

CREATE TABLE credit_decisions (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    source TEXT NOT NULL CONSTRAINT credit_decisions_source_known
        CHECK (source IN ('sesame', 'osmanthus')),
    standing TEXT NOT NULL CONSTRAINT credit_decisions_standing_known
        CHECK (standing IN ('sesame_deposit_free', 'osmanthus_virtual_card', 'deposit', 'refused')),
    score BIGINT,
    reason TEXT,
    loan_quota BIGINT NOT NULL,
    decided_at_ms BIGINT NOT NULL,
    valid_until_ms BIGINT NOT NULL,
    CONSTRAINT credit_decisions_end_after_start CHECK (valid_until_ms >= decided_at_ms)
);

CREATE INDEX credit_decisions_by_reader ON credit_decisions (reader_id, decided_at_ms);
CREATE INDEX credit_decisions_scores_to_clear ON credit_decisions (valid_until_ms) WHERE score IS NOT NULL;

-- A deposit is an Alipay trade (out_trade_no is ours); the asynchronous
-- notification moves it to paid. One open or paid deposit per reader.
CREATE TABLE deposits (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    out_trade_no TEXT NOT NULL CONSTRAINT deposits_one_per_out_trade_no UNIQUE,
    amount_fen BIGINT NOT NULL CONSTRAINT deposits_amount_positive CHECK (amount_fen > 0),
    state TEXT NOT NULL CONSTRAINT deposits_state_known
        CHECK (state IN ('awaiting_payment', 'paid', 'closed')),
    alipay_trade_no TEXT CONSTRAINT deposits_one_per_alipay_trade UNIQUE,
    created_at_ms BIGINT NOT NULL,
    paid_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT deposits_paid_is_whole CHECK ((state = 'paid') = (paid_at_ms IS NOT NULL) OR state = 'closed')
);

CREATE UNIQUE INDEX deposits_one_open_per_reader ON deposits (reader_id)
    WHERE state IN ('awaiting_payment', 'paid');

-- Every Alipay asynchronous notification we acted on, by notify_id: a
-- replay finds its row and changes nothing.
CREATE TABLE alipay_notifications (
    notify_id TEXT PRIMARY KEY,
    notify_type TEXT NOT NULL,
    out_trade_no TEXT,
    trade_status TEXT,
    outcome TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);
