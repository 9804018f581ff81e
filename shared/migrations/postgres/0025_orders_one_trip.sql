-- 0025_orders_one_trip (issue 20): placing an order is one statement on
-- PostgreSQL, one round trip from the component (docs/orders.md, "One
-- round trip"). Kept in step with sqlite/0025_orders_one_trip.sql, which
-- has the table but no function: the SQLite path runs the same steps as
-- separate statements in the component (shared/src/orders/steps.rs).

-- The ids of signed-out session tokens, written beside the key-value
-- store's session:revoked:<id> by every sign-out, so that a statement
-- acting for a token refuses a revoked one itself instead of the component
-- reading the store first. A row past expires_at_ms may go (the retention
-- job deletes it): the token is refused by its expiry by then.
CREATE TABLE session_revocations (
    token_id TEXT PRIMARY KEY,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at_ms);

-- A reader's open loans, counted against the quota on every order and
-- hold (readers::borrowing::held): without it PostgreSQL intersected
-- loans_by_reader with loans_open_by_due, every open loan of the library.
CREATE INDEX loans_open_by_reader ON loans (reader_id) WHERE returned_at_ms IS NULL;

-- The whole placement: the revocation, the idempotency key, the reader's
-- standing, compensation owed, door delivery's Sesame, the quota, the
-- pickup point, the claims, the order, its lines, its event, and the
-- answer built from what was written. Returns JSON text, one of
--   {"outcome": "placed", "order": {...the order as GET /api/orders/{id}}}
--   {"outcome": "existing", "id": N}      the key placed order N already
--   {"outcome": "check_store"}            a token older than this migration:
--                                         its revocation may be only in the
--                                         key-value store; ask it, call again
--                                         with p_store_checked = 1
--   {"outcome": "refused", "refused": "<why>", ...}
-- The refusals' texts are written once, in Rust (orders/refusal.rs).
--
-- Nothing is written until every check passed and every line has a copy:
-- copies are first locked (FOR UPDATE SKIP LOCKED, so concurrent orders
-- pick different copies instead of queueing), and only changed once all
-- are held, so a refusal needs no undo and raises nothing; the locks go
-- with the statement's transaction. The order's id is drawn first so that
-- the row is written once, with its payment reference, never updated.
CREATE FUNCTION wj_place_order(
    p_reader BIGINT, p_token TEXT, p_issued_at_ms BIGINT, p_store_checked BIGINT,
    p_key TEXT, p_records BIGINT[], p_point TEXT, p_address TEXT, p_state TEXT,
    p_channel TEXT, p_fee_fen BIGINT, p_payment_due_at_ms BIGINT, p_trade_prefix TEXT,
    p_now BIGINT
) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    v_door BOOLEAN := p_address IS NOT NULL;
    v_reader readers%ROWTYPE;
    v_target service_points%ROWTYPE;
    v_free BOOLEAN;
    v_count BIGINT;
    v_branch TEXT;
    v_centre TEXT;
    v_cos DOUBLE PRECISION;
    v_barcodes TEXT[] := '{}';
    v_picks TEXT[] := '{}';
    v_barcode TEXT;
    v_pick TEXT;
    v_title TEXT;
    v_consolidate BOOLEAN;
    v_parcel TEXT;
    v_id BIGINT;
    v_lines JSON;
BEGIN
    IF EXISTS (SELECT 1 FROM session_revocations WHERE token_id = p_token) THEN
        RETURN '{"outcome": "refused", "refused": "revoked"}';
    END IF;
    IF p_store_checked = 0 AND p_issued_at_ms <=
            (SELECT applied_at_ms FROM schema_migrations WHERE version = 25) THEN
        RETURN '{"outcome": "check_store"}';
    END IF;
    SELECT id INTO v_id FROM orders WHERE reader_id = p_reader AND idempotency_key = p_key;
    IF FOUND THEN
        RETURN json_build_object('outcome', 'existing', 'id', v_id)::TEXT;
    END IF;

    SELECT * INTO v_reader FROM readers WHERE id = p_reader;
    IF NOT FOUND THEN
        RETURN '{"outcome": "refused", "refused": "reader_not_found"}';
    END IF;
    -- Reader::deposit_free and Reader::may_borrow (readers/store.rs).
    v_free := COALESCE(p_now < v_reader.credit_valid_until_ms, FALSE)
        AND COALESCE(v_reader.standing IN ('sesame_deposit_free', 'osmanthus_virtual_card'), FALSE)
        AND v_reader.sesame_overdue_since_ms IS NULL;
    IF NOT (v_reader.status = 'active' AND (v_reader.deposit_paid_at_ms IS NOT NULL OR v_free)) THEN
        RETURN '{"outcome": "refused", "refused": "may_not_borrow"}';
    END IF;
    SELECT COALESCE(SUM(amount_fen), 0) INTO v_count FROM compensations
        WHERE reader_id = p_reader AND state = 'awaiting_payment';
    IF v_count > 0 THEN
        RETURN json_build_object('outcome', 'refused', 'refused', 'compensation_unpaid',
            'owed_fen', v_count)::TEXT;
    END IF;
    IF v_door AND NOT (v_free AND v_reader.standing = 'sesame_deposit_free') THEN
        RETURN '{"outcome": "refused", "refused": "door_needs_sesame"}';
    END IF;
    -- readers::borrowing::held, the same SQL.
    SELECT (SELECT COUNT(*) FROM loans WHERE reader_id = p_reader AND returned_at_ms IS NULL)
         + (SELECT CAST(COALESCE(SUM((SELECT COUNT(*) FROM order_lines l
                WHERE l.order_id = o.id AND l.state IN ('waiting', 'promised', 'picked'))), 0)
                AS BIGINT)
            FROM orders o WHERE o.reader_id = p_reader)
        INTO v_count;
    IF v_count + cardinality(p_records) > v_reader.loan_quota THEN
        RETURN json_build_object('outcome', 'refused', 'refused', 'quota',
            'would_hold', v_count + cardinality(p_records), 'quota', v_reader.loan_quota)::TEXT;
    END IF;

    -- Where copies are ranked from (place::origin): the pickup point and
    -- the branch serving it, or for door delivery the delivery centre.
    IF v_door THEN
        SELECT * INTO v_target FROM service_points WHERE kind = 'delivery_centre'
            ORDER BY code LIMIT 1;
        IF NOT FOUND THEN
            RETURN '{"outcome": "refused", "refused": "no_delivery_centre"}';
        END IF;
        v_centre := v_target.code;
        v_branch := v_target.code;
    ELSE
        SELECT * INTO v_target FROM service_points WHERE code = p_point;
        IF NOT FOUND THEN
            RETURN '{"outcome": "refused", "refused": "point_not_found"}';
        END IF;
        -- place::can_take.
        IF v_target.kind = 'delivery_centre' THEN
            RETURN '{"outcome": "refused", "refused": "not_a_pickup_point"}';
        END IF;
        IF NOT COALESCE((v_target.opening::jsonb ->> 'always_open')::BOOLEAN, FALSE)
                AND COALESCE(jsonb_array_length(v_target.opening::jsonb -> 'hours'), 0) = 0 THEN
            RETURN json_build_object('outcome', 'refused', 'refused', 'closed',
                'name', v_target.name)::TEXT;
        END IF;
        IF v_target.locker_generation IS NOT NULL THEN
            IF v_target.locker_status <> 'online' THEN
                RETURN json_build_object('outcome', 'refused', 'refused', 'locker_offline',
                    'name', v_target.name)::TEXT;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM locker_cells
                    WHERE point_code = v_target.code AND state = 'empty') THEN
                RETURN json_build_object('outcome', 'refused', 'refused', 'locker_full',
                    'name', v_target.name)::TEXT;
            END IF;
        END IF;
        IF v_target.kind = 'branch' THEN
            v_branch := v_target.code;
        ELSE
            SELECT code INTO v_branch FROM service_points WHERE kind = 'branch'
                ORDER BY (lat - v_target.lat) * (lat - v_target.lat)
                    + (lon - v_target.lon) * (lon - v_target.lon) * cos(radians(v_target.lat)) ^ 2,
                    code
                LIMIT 1;
            v_branch := COALESCE(v_branch, v_target.code);
        END IF;
    END IF;

    -- The claims, in line order, with the preference of place::claim_sql;
    -- locked here, changed below.
    v_cos := cos(radians(v_target.lat)) ^ 2;
    FOR i IN 1 .. cardinality(p_records) LOOP
        SELECT c.barcode, c.current_point INTO v_barcode, v_pick
        FROM copies c JOIN service_points p ON p.code = c.current_point
        WHERE c.record_id = p_records[i] AND c.status = 'on_shelf'
        ORDER BY CASE WHEN c.current_point = v_branch THEN 0 WHEN c.in_online_stack = 1 THEN 1 ELSE 2 END,
            (p.lat - v_target.lat) * (p.lat - v_target.lat)
                + (p.lon - v_target.lon) * (p.lon - v_target.lon) * v_cos,
            c.barcode
        LIMIT 1 FOR UPDATE OF c SKIP LOCKED;
        IF NOT FOUND THEN
            SELECT title INTO v_title FROM records WHERE id = p_records[i];
            IF NOT FOUND THEN
                RETURN '{"outcome": "refused", "refused": "record_not_found"}';
            END IF;
            RETURN json_build_object('outcome', 'refused', 'refused', 'no_copy',
                'title', v_title)::TEXT;
        END IF;
        v_barcodes := v_barcodes || v_barcode;
        v_picks := v_picks || v_pick;
    END LOOP;

    -- A set standing at more than one point meets at the delivery centre.
    v_consolidate := (SELECT COUNT(DISTINCT pick) FROM unnest(v_picks) AS pick) > 1;
    IF v_consolidate THEN
        IF v_centre IS NULL THEN
            SELECT code INTO v_centre FROM service_points WHERE kind = 'delivery_centre'
                ORDER BY code LIMIT 1;
            IF NOT FOUND THEN
                RETURN '{"outcome": "refused", "refused": "no_delivery_centre"}';
            END IF;
        END IF;
        v_parcel := v_centre;
    ELSE
        v_parcel := v_picks[1];
    END IF;

    v_id := nextval(pg_get_serial_sequence('orders', 'id'));
    INSERT INTO orders (id, reader_id, fulfilment, pickup_point, delivery_address, fee_fen, state,
        idempotency_key, payment_due_at_ms, created_at_ms, updated_at_ms, channel, consolidate,
        parcel_point, payment_ref)
    VALUES (v_id, p_reader, CASE WHEN v_door THEN 'door' ELSE 'pickup' END, p_point, p_address,
        p_fee_fen, p_state, p_key, p_payment_due_at_ms, p_now, p_now, p_channel,
        CASE WHEN v_consolidate THEN 1 ELSE 0 END, v_parcel,
        CASE WHEN v_door THEN p_trade_prefix || v_id END)
    ON CONFLICT (reader_id, idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        -- A concurrent request with the same key placed it first; its row
        -- is committed (the insert waited for it), and this statement's
        -- fresh snapshot sees it. Nothing was written here.
        SELECT id INTO v_id FROM orders WHERE reader_id = p_reader AND idempotency_key = p_key;
        RETURN json_build_object('outcome', 'existing', 'id', v_id)::TEXT;
    END IF;

    UPDATE copies SET status = 'promised', updated_at_ms = p_now WHERE barcode = ANY (v_barcodes);
    WITH written AS (
        INSERT INTO order_lines (order_id, record_id, copy_barcode, state, pick_point, updated_at_ms)
        SELECT v_id, u.record_id, u.barcode, 'promised', u.pick, p_now
        FROM unnest(p_records, v_barcodes, v_picks) WITH ORDINALITY AS u (record_id, barcode, pick, n)
        ORDER BY u.n
        RETURNING id, record_id, copy_barcode, pick_point
    )
    SELECT json_agg(json_build_object('id', w.id, 'record_id', w.record_id, 'title', r.title,
            'state', 'promised', 'copy_barcode', w.copy_barcode, 'pick_point', w.pick_point,
            'note', NULL) ORDER BY w.id)
        INTO v_lines
        FROM written w JOIN records r ON r.id = w.record_id;
    INSERT INTO events (at_ms, actor, subject_kind, subject_id, event, detail)
    VALUES (p_now, 'reader:' || p_reader, 'order', v_id::TEXT, 'order_placed',
        json_build_object('state', p_state, 'lines', p_records, 'consolidate', v_consolidate)::TEXT);

    RETURN json_build_object('outcome', 'placed', 'order', json_build_object(
        'id', v_id, 'reader_id', p_reader, 'state', p_state,
        'fulfilment', CASE WHEN v_door THEN 'door' ELSE 'pickup' END,
        'pickup_point', p_point, 'delivery_address', p_address, 'fee_fen', p_fee_fen,
        'payment_ref', CASE WHEN v_door THEN p_trade_prefix || v_id END,
        'payment_due_at_ms', p_payment_due_at_ms, 'consolidate', v_consolidate,
        'parcel_point', v_parcel, 'locker_cell', NULL, 'pickup_deadline_at_ms', NULL,
        'created_at_ms', p_now, 'updated_at_ms', p_now, 'lines', v_lines))::TEXT;
END;
$$;
