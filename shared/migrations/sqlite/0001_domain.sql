-- 0001_domain (SQLite): the library's nouns.
--
-- Kept column for column in step with migrations/postgres/0001_domain.sql;
-- the reasons for the types are written there. What differs here:
-- * ids are INTEGER PRIMARY KEY (SQLite's rowid) instead of identity columns;
-- * JSON validity is checked with json_valid, digits with GLOB (no regex);
-- * the append-only events log is guarded by BEFORE triggers that abort.
-- Statements are split at a ';' that ends a line (db/migrate.rs), so a
-- trigger body keeps its inner ';' mid-line.

-- A reader is identified by whichever of Alipay, WeChat or a library card
-- they came with; credit standing is the latest decision, its history is in
-- events.
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
    -- Nobody can sign in without one of the three.
    CONSTRAINT readers_have_an_identity
        CHECK (alipay_user_id IS NOT NULL OR wechat_openid IS NOT NULL OR card_number IS NOT NULL),
    -- A score means nothing without who gave it and when.
    CONSTRAINT readers_credit_is_whole
        CHECK ((credit_source IS NULL) = (credit_decided_at_ms IS NULL))
);

CREATE INDEX readers_by_unionid ON readers (wechat_unionid);

-- Branches, self-service points, metro stations, partner sites and the
-- delivery centre. A point with a locker has all three locker_* columns.
CREATE TABLE service_points (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT service_points_kind_known
        CHECK (kind IN ('branch', 'self_service', 'metro', 'partner', 'delivery_centre')),
    address TEXT NOT NULL,
    district TEXT NOT NULL,
    lat REAL NOT NULL CONSTRAINT service_points_lat_on_globe CHECK (lat BETWEEN -90 AND 90),
    lon REAL NOT NULL CONSTRAINT service_points_lon_on_globe CHECK (lon BETWEEN -180 AND 180),
    -- {"always_open": bool, "hours": [{"day": "mon", "open": "09:00", "close": "21:00"}]}
    opening TEXT NOT NULL CONSTRAINT service_points_opening_is_json CHECK (json_valid(opening)),
    locker_generation BIGINT CONSTRAINT service_points_locker_generation_known
        CHECK (locker_generation IN (1, 2)),
    locker_cell_count BIGINT CONSTRAINT service_points_locker_cell_count_in_range
        CHECK (locker_cell_count BETWEEN 1 AND 240),
    locker_status TEXT CONSTRAINT service_points_locker_status_known
        CHECK (locker_status IN ('online', 'offline')),
    last_heartbeat_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT service_points_locker_is_whole CHECK (
        (locker_generation IS NULL) = (locker_cell_count IS NULL)
        AND (locker_generation IS NULL) = (locker_status IS NULL))
);

CREATE INDEX service_points_by_kind ON service_points (kind, code);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    home_point TEXT NOT NULL REFERENCES service_points (code),
    role TEXT NOT NULL CONSTRAINT staff_role_known
        CHECK (role IN ('librarian', 'picker', 'courier', 'supervisor', 'operator')),
    created_at_ms BIGINT NOT NULL
);

CREATE INDEX staff_by_point ON staff (home_point);

-- A record is a title as catalogued; each volume of a multi-volume set is
-- its own record, tied to the others by set_key.
CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    responsibility TEXT NOT NULL,
    publisher TEXT NOT NULL,
    year BIGINT CONSTRAINT records_year_plausible CHECK (year BETWEEN 1000 AND 2100),
    -- Not unique: ILS imports carry the same ISBN on reprints and sets.
    isbn13 TEXT CONSTRAINT records_isbn13_is_13_digits
        CHECK (length(isbn13) = 13 AND isbn13 NOT GLOB '*[^0-9]*'),
    language TEXT NOT NULL DEFAULT 'chi',
    -- JSON array of subject headings.
    subjects TEXT NOT NULL DEFAULT '[]' CONSTRAINT records_subjects_is_json CHECK (json_valid(subjects)),
    call_number TEXT,
    set_key TEXT,
    volume BIGINT CONSTRAINT records_volume_positive CHECK (volume >= 1),
    created_at_ms BIGINT NOT NULL,
    CONSTRAINT records_volume_needs_a_set CHECK ((set_key IS NULL) = (volume IS NULL)),
    CONSTRAINT records_one_per_set_volume UNIQUE (set_key, volume)
);

CREATE INDEX records_by_isbn13 ON records (isbn13);

-- A copy is a barcoded physical item. current_point is NULL while the copy
-- is in a reader's hands or on the road.
CREATE TABLE copies (
    barcode TEXT PRIMARY KEY,
    record_id BIGINT NOT NULL REFERENCES records (id),
    home_point TEXT NOT NULL REFERENCES service_points (code),
    current_point TEXT REFERENCES service_points (code),
    call_number TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT copies_status_known CHECK (status IN
        ('on_shelf', 'promised', 'in_transit', 'on_hold', 'on_loan', 'missing', 'withdrawn')),
    -- 1 when the copy sits in the delivery centre's dedicated online-lending stack.
    in_online_stack BIGINT NOT NULL DEFAULT 0 CONSTRAINT copies_in_online_stack_is_flag
        CHECK (in_online_stack IN (0, 1)),
    updated_at_ms BIGINT NOT NULL
);

CREATE INDEX copies_by_record_and_status ON copies (record_id, status);
CREATE INDEX copies_by_current_point ON copies (current_point, status);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    fulfilment TEXT NOT NULL CONSTRAINT orders_fulfilment_known CHECK (fulfilment IN ('pickup', 'door')),
    pickup_point TEXT REFERENCES service_points (code),
    delivery_address TEXT,
    fee_fen BIGINT NOT NULL DEFAULT 0 CONSTRAINT orders_fee_not_negative CHECK (fee_fen >= 0),
    state TEXT NOT NULL CONSTRAINT orders_state_known CHECK (state IN
        ('created', 'awaiting_payment', 'picking', 'in_transit', 'awaiting_pickup',
         'picked_up', 'cancelled', 'unfilled', 'pickup_expired')),
    -- The client's key: a retried "place order" finds the first order.
    idempotency_key TEXT NOT NULL,
    -- Our out_trade_no with Alipay, so a payment notification finds its order.
    payment_ref TEXT CONSTRAINT orders_one_per_payment_ref UNIQUE,
    paid_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    pickup_deadline_at_ms BIGINT,
    CONSTRAINT orders_one_per_idempotency_key UNIQUE (reader_id, idempotency_key),
    CONSTRAINT orders_fulfilment_is_whole CHECK (
        (fulfilment = 'pickup' AND pickup_point IS NOT NULL AND delivery_address IS NULL)
        OR (fulfilment = 'door' AND delivery_address IS NOT NULL))
);

CREATE INDEX orders_by_reader ON orders (reader_id, created_at_ms);
CREATE INDEX orders_by_state ON orders (state, updated_at_ms);

-- One line per title asked for; a multi-volume set is one order with a
-- line per volume.
CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    record_id BIGINT NOT NULL REFERENCES records (id),
    copy_barcode TEXT REFERENCES copies (barcode),
    -- waiting: no copy yet; promised: a copy is set aside; picked: the copy
    -- is off the shelf and travelling with the order; collected: the loan
    -- started; unfilled and cancelled close a line without a loan.
    state TEXT NOT NULL CONSTRAINT order_lines_state_known CHECK (state IN
        ('waiting', 'promised', 'picked', 'collected', 'unfilled', 'cancelled')),
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT order_lines_one_per_record UNIQUE (order_id, record_id),
    CONSTRAINT order_lines_copy_when_promised
        CHECK (state NOT IN ('promised', 'picked', 'collected') OR copy_barcode IS NOT NULL)
);

CREATE INDEX order_lines_by_order ON order_lines (order_id);
-- THE allocation invariant: a copy is promised to at most one open line,
-- whatever the concurrency. The second INSERT/UPDATE fails on this index.
CREATE UNIQUE INDEX copies_one_open_promise ON order_lines (copy_barcode)
    WHERE state IN ('promised', 'picked');

CREATE TABLE locker_cells (
    point_code TEXT NOT NULL REFERENCES service_points (code),
    cell_no BIGINT NOT NULL CONSTRAINT locker_cells_cell_no_in_range CHECK (cell_no BETWEEN 1 AND 240),
    state TEXT NOT NULL CONSTRAINT locker_cells_state_known
        CHECK (state IN ('empty', 'reserved', 'occupied', 'fault', 'door_open')),
    reserved_for_order BIGINT REFERENCES orders (id),
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (point_code, cell_no),
    CONSTRAINT locker_cells_reserved_for_an_order
        CHECK (state <> 'reserved' OR reserved_for_order IS NOT NULL)
);

-- Finding a free cell at a locker.
CREATE INDEX locker_cells_by_state ON locker_cells (point_code, state);
CREATE INDEX locker_cells_by_order ON locker_cells (reserved_for_order);

-- A loan starts at pickup (or at a locker's on-the-spot borrow, which has
-- no order line) and ends at a return anywhere.
CREATE TABLE loans (
    id INTEGER PRIMARY KEY,
    copy_barcode TEXT NOT NULL REFERENCES copies (barcode),
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    order_line_id BIGINT CONSTRAINT loans_one_per_order_line UNIQUE REFERENCES order_lines (id),
    started_at_ms BIGINT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    renewals BIGINT NOT NULL DEFAULT 0 CONSTRAINT loans_renewals_not_negative CHECK (renewals >= 0),
    returned_at_ms BIGINT,
    return_point TEXT REFERENCES service_points (code),
    -- Declared lost: counts against the reader's credit.
    lost_at_ms BIGINT,
    CONSTRAINT loans_due_after_start CHECK (due_at_ms > started_at_ms)
);

-- A copy is in at most one pair of hands; a duplicate return-drop callback
-- finds the loan already closed.
CREATE UNIQUE INDEX loans_one_open_per_copy ON loans (copy_barcode) WHERE returned_at_ms IS NULL;
CREATE INDEX loans_open_by_due ON loans (due_at_ms) WHERE returned_at_ms IS NULL;
CREATE INDEX loans_by_reader ON loans (reader_id, started_at_ms);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    kind TEXT NOT NULL CONSTRAINT notices_kind_known CHECK (kind IN
        ('ready_for_pickup', 'due_soon', 'overdue_1', 'overdue_2', 'overdue_3',
         'order_changed', 'line_unfilled', 'suggestion_decided', 'credit_changed')),
    channel TEXT NOT NULL CONSTRAINT notices_channel_known CHECK (channel IN ('wechat', 'alipay', 'sms')),
    -- One notice per event ("ready_for_pickup:order:42"): a second cron run
    -- or a duplicate callback inserts nothing.
    dedup_key TEXT NOT NULL CONSTRAINT notices_one_per_dedup_key UNIQUE,
    -- What the notice is about, so it is re-checked against the current
    -- state just before sending.
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL CONSTRAINT notices_payload_is_json CHECK (json_valid(payload)),
    state TEXT NOT NULL CONSTRAINT notices_state_known
        CHECK (state IN ('queued', 'sent', 'failed', 'superseded')),
    attempts BIGINT NOT NULL DEFAULT 0,
    provider_answer TEXT,
    next_attempt_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE INDEX notices_due ON notices (state, next_attempt_at_ms);
CREATE INDEX notices_by_reader ON notices (reader_id, created_at_ms);

-- Every try at a provider, kept even after a fallback succeeds.
CREATE TABLE notice_attempts (
    id INTEGER PRIMARY KEY,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    attempt_no BIGINT NOT NULL,
    channel TEXT NOT NULL CONSTRAINT notice_attempts_channel_known CHECK (channel IN ('wechat', 'alipay', 'sms')),
    at_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL CONSTRAINT notice_attempts_outcome_known
        CHECK (outcome IN ('sent', 'failed', 'skipped')),
    provider_code TEXT,
    provider_answer TEXT,
    CONSTRAINT notice_attempts_one_per_number UNIQUE (notice_id, attempt_no)
);

-- "You choose, we pay": proposed -> approved | rejected; approved ->
-- ordered (from the vendor) -> arrived, when it becomes the reader's order.
CREATE TABLE purchase_suggestions (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    title TEXT NOT NULL,
    author TEXT,
    isbn13 TEXT,
    note TEXT,
    state TEXT NOT NULL CONSTRAINT purchase_suggestions_state_known
        CHECK (state IN ('proposed', 'approved', 'rejected', 'ordered', 'arrived')),
    decided_by BIGINT REFERENCES staff (id),
    decided_at_ms BIGINT,
    decision_reason TEXT,
    record_id BIGINT REFERENCES records (id),
    order_id BIGINT REFERENCES orders (id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- A reader asks for the same book once while the first request is open.
CREATE UNIQUE INDEX purchase_suggestions_one_open_per_isbn ON purchase_suggestions (reader_id, isbn13)
    WHERE state IN ('proposed', 'approved', 'ordered');
CREATE INDEX purchase_suggestions_by_state ON purchase_suggestions (state, created_at_ms);

-- Who or what did what to which thing, and when: the audit trail of every
-- transition. Append-only, enforced below.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    -- "reader:12", "staff:3", "locker:SS01", "cron:overdue", "system".
    actor TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}' CONSTRAINT events_detail_is_json CHECK (json_valid(detail))
);

CREATE INDEX events_by_subject ON events (subject_kind, subject_id, at_ms);

-- Triggers rather than permissions: SQLite has none.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
