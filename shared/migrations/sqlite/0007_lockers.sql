-- 0007_lockers: what the lockers component keeps (docs/locker-protocol.md).
--
-- The last health a locker reported, as its JSON, for the staff dashboard:
-- one column rather than a table, because only the latest matters.
ALTER TABLE service_points ADD COLUMN locker_health TEXT;

-- What we want a locker to do. A locker behind NAT cannot be called, so a
-- command waits here and rides in every heartbeat reply until its ack
-- arrives (acked_at_ms set). The id is the command's id on the wire.
CREATE TABLE locker_commands (
    id INTEGER PRIMARY KEY,
    point_code TEXT NOT NULL REFERENCES service_points (code),
    kind TEXT NOT NULL CONSTRAINT locker_commands_kind_known
        CHECK (kind IN ('open_cell', 'release_cell', 'sync_clock')),
    -- The command's fields as JSON ({"cell": 7, "reader_id": 42, ...}).
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    acked_at_ms BIGINT,
    -- 'done' or 'failed', with the locker's detail in ack_detail.
    outcome TEXT CONSTRAINT locker_commands_outcome_known CHECK (outcome IN ('done', 'failed')),
    ack_detail TEXT
);

-- The pending commands of one locker, read on every heartbeat.
CREATE INDEX locker_commands_pending ON locker_commands (point_code, acked_at_ms);

-- Every event a locker sent, once: the primary key makes a resend a no-op
-- (INSERT ... ON CONFLICT DO NOTHING), whatever order events arrive in.
-- Rejected events stay here for staff to look at.
CREATE TABLE locker_events (
    point_code TEXT NOT NULL REFERENCES service_points (code),
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    outcome TEXT NOT NULL CONSTRAINT locker_events_outcome_known
        CHECK (outcome IN ('recorded', 'rejected')),
    detail TEXT,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (point_code, event_id)
);

-- Nonces seen within the time window: inserting one that is there already
-- inserts nothing, which is the replay check, atomic on both backends.
-- Rows past expires_at_ms may be deleted; the window refuses them anyway.
CREATE TABLE locker_nonces (
    point_code TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (point_code, nonce)
);

CREATE INDEX locker_nonces_by_expiry ON locker_nonces (expires_at_ms);
