-- 0024_wechat_web (SQLite, in step with postgres/0024_wechat_web.sql): the
-- official account's openid of a reader who signed in on the web, and
-- readers_have_an_identity widened to accept it.
--
-- SQLite cannot alter a CHECK, so readers is rebuilt: copied aside,
-- dropped, created anew with every column and constraint it had, filled
-- back with the same ids, and indexed again. Foreign keys into readers are
-- deferred to COMMIT (the pragma ends with the transaction): dropping the
-- table orphans the children for a moment and refilling it restores each
-- parent before the check.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE readers_before_0024 AS SELECT * FROM readers;
DROP TABLE readers;
CREATE TABLE readers (
    id INTEGER PRIMARY KEY,
    alipay_user_id TEXT CONSTRAINT readers_one_per_alipay_user UNIQUE,
    wechat_openid TEXT CONSTRAINT readers_one_per_wechat_openid UNIQUE,
    wechat_unionid TEXT,
    card_number TEXT CONSTRAINT readers_one_per_card_number UNIQUE,
    display_name TEXT NOT NULL,
    phone TEXT,
    credit_source TEXT CONSTRAINT readers_credit_source_known
        CHECK (credit_source IN ('sesame', 'osmanthus', 'card')),
    credit_score BIGINT,
    credit_decided_at_ms BIGINT,
    credit_valid_until_ms BIGINT,
    status TEXT NOT NULL DEFAULT 'active'
        CONSTRAINT readers_status_known CHECK (status IN ('active', 'suspended', 'blocked')),
    loan_quota BIGINT NOT NULL CONSTRAINT readers_loan_quota_not_negative CHECK (loan_quota >= 0),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    osmanthus_ref TEXT,
    standing TEXT CONSTRAINT readers_standing_known
        CHECK (standing IN ('sesame_deposit_free', 'osmanthus_virtual_card', 'deposit', 'refused')),
    deposit_paid_at_ms BIGINT,
    sesame_overdue_since_ms BIGINT,
    wechat_web_openid TEXT CONSTRAINT readers_one_per_wechat_web_openid UNIQUE,
    -- Nobody can sign in without one of the four.
    CONSTRAINT readers_have_an_identity
        CHECK (alipay_user_id IS NOT NULL OR wechat_openid IS NOT NULL
            OR wechat_web_openid IS NOT NULL OR card_number IS NOT NULL),
    -- A score means nothing without who gave it and when.
    CONSTRAINT readers_credit_is_whole
        CHECK ((credit_source IS NULL) = (credit_decided_at_ms IS NULL))
);
INSERT INTO readers (id, alipay_user_id, wechat_openid, wechat_unionid, card_number, display_name,
    phone, credit_source, credit_score, credit_decided_at_ms, credit_valid_until_ms, status,
    loan_quota, created_at_ms, updated_at_ms, osmanthus_ref, standing, deposit_paid_at_ms,
    sesame_overdue_since_ms)
SELECT id, alipay_user_id, wechat_openid, wechat_unionid, card_number, display_name,
    phone, credit_source, credit_score, credit_decided_at_ms, credit_valid_until_ms, status,
    loan_quota, created_at_ms, updated_at_ms, osmanthus_ref, standing, deposit_paid_at_ms,
    sesame_overdue_since_ms
FROM readers_before_0024;
DROP TABLE readers_before_0024;
CREATE INDEX readers_by_unionid ON readers (wechat_unionid);
CREATE UNIQUE INDEX readers_one_per_osmanthus_ref ON readers (osmanthus_ref);
CREATE INDEX readers_by_standing ON readers (standing);
