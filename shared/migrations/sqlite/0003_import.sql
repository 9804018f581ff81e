-- 0003_import: what a catalogue import needs to be idempotent.
--
-- records.source_id is the ILS control number (MARC 001, the CSV
-- record_id): re-importing a record finds it by this key, so it is unique.
-- NULL for records that did not come from an ILS (the demo), which an
-- import then matches by ISBN. Each imported batch also leaves a
-- 'batch_imported' row in events with its counts.
ALTER TABLE records ADD COLUMN source_id TEXT;

CREATE UNIQUE INDEX records_one_per_source_id ON records (source_id);
