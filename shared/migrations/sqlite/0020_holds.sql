-- 0020_holds (SQLite, in step with postgres/0020_holds.sql): the holds queue
-- (docs/holds.md).
--
-- A hold is one reader waiting for one title that had no copy on a shelf.
-- It is `waiting` until a copy comes back and is given to it, when it
-- becomes `allocated` and points at the order made for it (that order
-- carries it on through the fulfilment line); or `cancelled` by the
-- reader. The queue is the waiting holds of a record in id order.
CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id),
    record_id BIGINT NOT NULL REFERENCES records (id),
    pickup_point TEXT NOT NULL REFERENCES service_points (code),
    state TEXT NOT NULL CONSTRAINT holds_state_known
        CHECK (state IN ('waiting', 'allocated', 'cancelled')),
    order_id BIGINT CONSTRAINT holds_one_per_order UNIQUE REFERENCES orders (id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    allocated_at_ms BIGINT,
    -- An allocated hold names its order; no other hold does.
    CONSTRAINT holds_order_when_allocated
        CHECK ((state = 'allocated') = (order_id IS NOT NULL))
);

-- A reader waits once per title.
CREATE UNIQUE INDEX holds_one_waiting_per_reader_record ON holds (reader_id, record_id)
    WHERE state = 'waiting';
-- The queue of a title, first come first served.
CREATE INDEX holds_queue ON holds (record_id, state, id);
CREATE INDEX holds_by_reader ON holds (reader_id, state);
