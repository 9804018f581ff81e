-- 0008_notices: what the notifications sender needs (docs/notifications.md).
--
-- A sender claims a due notice by setting lease_until_ms in a conditional
-- UPDATE (only if no live lease is held), so two runs at once never send the
-- same notice; a sender that dies leaves a lease that simply runs out. A
-- lease column rather than a 'sending' state, because SQLite cannot change
-- the state CHECK constraint in place.
ALTER TABLE notices ADD COLUMN lease_until_ms BIGINT;
