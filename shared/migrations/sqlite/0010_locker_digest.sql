-- 0010_locker_digest: a heartbeat that reports the same cells as the one
-- before costs no cell comparison (shared/src/locker/store.rs).
--
-- The digest of the cells last reported (with a five-minute time bucket in
-- it, so that every locker's cells are compared in full at least that
-- often), and when it last differed: the heartbeat's one UPDATE of the
-- point returns that time, and only a new one leads to the comparison.
ALTER TABLE service_points ADD COLUMN locker_cells_digest TEXT;
ALTER TABLE service_points ADD COLUMN locker_cells_changed_at_ms BIGINT;
