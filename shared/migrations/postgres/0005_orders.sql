-- 0005_orders: what placing, allocating and fulfilling orders needs beyond
-- the tables of 0001 (docs/orders.md).

-- 1 when the lines' copies stand at more than one point: they travel to
-- the delivery centre first and leave it as one parcel.
ALTER TABLE orders ADD COLUMN consolidate BIGINT NOT NULL DEFAULT 0
    CONSTRAINT orders_consolidate_is_flag CHECK (consolidate IN (0, 1));
-- Where the parcel is packed and dispatched from: the one branch the copies
-- stand at, or the delivery centre.
ALTER TABLE orders ADD COLUMN parcel_point TEXT;
-- Door delivery: the fee must be paid before this, or the order expires
-- and its copies go back on the shelf.
ALTER TABLE orders ADD COLUMN payment_due_at_ms BIGINT;
-- The locker cell reserved at dispatch, when the pickup point is a locker.
ALTER TABLE orders ADD COLUMN locker_cell BIGINT;

-- The point where the promised copy stands, so each branch's pick list is
-- one index range; why a line was left unfilled.
ALTER TABLE order_lines ADD COLUMN pick_point TEXT;
ALTER TABLE order_lines ADD COLUMN picked_at_ms BIGINT;
ALTER TABLE order_lines ADD COLUMN note TEXT;

CREATE INDEX order_lines_to_pick ON order_lines (pick_point, state);
CREATE INDEX orders_awaiting_payment ON orders (payment_due_at_ms) WHERE state = 'awaiting_payment';
