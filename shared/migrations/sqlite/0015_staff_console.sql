-- 0015_staff_console (SQLite): what the staff console needs
-- (issue 16; docs/operations.md "Staff accounts", docs/jobs.md).
--
-- Kept column for column in step with migrations/postgres/0015_staff_console.sql.

-- Staff sign in with a staff number and a password or a one-time code.
-- The password is stored only as an argon2id PHC string; the one-time code
-- only as a SHA-256 hash with its expiry, cleared when it is used and
-- refused after code_attempts wrong guesses.
ALTER TABLE staff ADD COLUMN staff_no TEXT;
ALTER TABLE staff ADD COLUMN password_hash TEXT;
ALTER TABLE staff ADD COLUMN code_hash TEXT;
ALTER TABLE staff ADD COLUMN code_expires_at_ms BIGINT;
ALTER TABLE staff ADD COLUMN code_attempts BIGINT NOT NULL DEFAULT 0
    CONSTRAINT staff_code_attempts_not_negative CHECK (code_attempts >= 0);

-- Existing staff get a number from their id: S0001 .. S9999, then S10000.
UPDATE staff SET staff_no = CASE WHEN id < 10000
    THEN 'S' || substr('0000' || id, -4, 4) ELSE 'S' || CAST(id AS TEXT) END;

CREATE UNIQUE INDEX staff_one_per_staff_no ON staff (staff_no);

-- How the reader's session was made when the order was placed, and when the
-- order became ready at its point or cell (the roll-up's latency figures).
ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'web'
    CONSTRAINT orders_channel_known CHECK (channel IN ('alipay', 'wechat', 'web'));
ALTER TABLE orders ADD COLUMN ready_at_ms BIGINT;

-- The daily roll-up reads each day through these time ranges only.
CREATE INDEX loans_by_start ON loans (started_at_ms);
CREATE INDEX loans_by_return ON loans (returned_at_ms);
CREATE INDEX orders_by_created ON orders (created_at_ms);
CREATE INDEX orders_by_ready ON orders (ready_at_ms);
-- Readers by standing, counted once per roll-up.
CREATE INDEX readers_by_standing ON readers (standing);

-- The dashboard's figures per Beijing day. Snapshots (locker cells,
-- readers by standing) are taken while the day is current; open and
-- overdue loans are as at the day's end (or the roll-up, for today).
ALTER TABLE daily_stats ADD COLUMN orders BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN active_readers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN orders_by_channel TEXT NOT NULL DEFAULT '{}'
    CONSTRAINT daily_stats_orders_by_channel_is_json CHECK (json_valid(orders_by_channel));
ALTER TABLE daily_stats ADD COLUMN orders_by_point_kind TEXT NOT NULL DEFAULT '{}'
    CONSTRAINT daily_stats_orders_by_point_kind_is_json CHECK (json_valid(orders_by_point_kind));
ALTER TABLE daily_stats ADD COLUMN ready_p50_ms BIGINT;
ALTER TABLE daily_stats ADD COLUMN ready_p90_ms BIGINT;
ALTER TABLE daily_stats ADD COLUMN locker_cells_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN locker_cells_used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN locker_cells_faulty BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN open_loans BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN overdue_loans BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN readers_credit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN readers_deposit BIGINT NOT NULL DEFAULT 0;

-- The last run of each scheduled job (GET /admin/jobs).
CREATE TABLE job_runs (
    job TEXT PRIMARY KEY,
    last_run_ms BIGINT NOT NULL,
    last_ok BIGINT NOT NULL CONSTRAINT job_runs_last_ok_is_flag CHECK (last_ok IN (0, 1)),
    last_report TEXT NOT NULL DEFAULT '{}'
        CONSTRAINT job_runs_last_report_is_json CHECK (json_valid(last_report))
);
