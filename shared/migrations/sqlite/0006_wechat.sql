-- 0006_wechat (SQLite, in step with postgres/0006_wechat.sql): what the
-- official account's server messages need (docs/wechat.md). Only the id
-- differs: INTEGER PRIMARY KEY (SQLite's rowid) for an identity column.
--
-- WeChat pushes follows, unfollows, subscription-message grants and
-- readers' text messages to /webhooks/wechat, and retries a push it got no
-- answer to within 5 seconds, three times. Each table below is keyed so
-- that a retry, or two replicas handling the same push at once, changes
-- nothing the second time.

-- Every push we acted on, by Inbound::dedupe_key (the MsgId of a message,
-- FromUserName + CreateTime + Event of an event): the INSERT ... ON CONFLICT
-- DO NOTHING of the first delivery is the guard, and a retry finds the row.
-- received_at_ms lets old rows be pruned once past the 5-minute window
-- outside which a push is refused anyway.
CREATE TABLE wechat_messages (
    dedupe_key TEXT PRIMARY KEY,
    openid TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL
);

CREATE INDEX wechat_messages_by_received ON wechat_messages (received_at_ms);

-- Who follows the account, by openid, whether or not a reader has signed in
-- with it yet: a later sign-in links through readers.wechat_openid, so no
-- reader id is stored here. updated_at_ms is the push's CreateTime, so a
-- follow and an unfollow delivered out of order leave the later one.
CREATE TABLE wechat_followers (
    openid TEXT PRIMARY KEY,
    subscribed BIGINT NOT NULL CONSTRAINT wechat_followers_subscribed_is_flag
        CHECK (subscribed IN (0, 1)),
    updated_at_ms BIGINT NOT NULL
);

-- A subscription message needs the reader's consent per template, and each
-- accepted popup allows exactly one send: one row per acceptance, spent by
-- setting used_at_ms in the single UPDATE that claims it before a send.
CREATE TABLE wechat_grants (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL,
    template_id TEXT NOT NULL,
    granted_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);

-- Finding an unspent grant for a reader and template, oldest first.
CREATE INDEX wechat_grants_unused ON wechat_grants (openid, template_id, granted_at_ms)
    WHERE used_at_ms IS NULL;
