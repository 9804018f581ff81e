-- 0011_copy_rfid: a copy's RFID tag, from the catalogue import (the CSV
-- column `rfid`), so that a locker's return slot that reads only the tag
-- can close the loan (docs/locker-protocol.md, `return_drop`).
--
-- Not unique: tags are written by the library's own staff and a re-tagged
-- copy may keep its old tag in an older import; a return whose tag names
-- more than one copy is rejected for staff rather than guessed.
ALTER TABLE copies ADD COLUMN rfid TEXT;
CREATE INDEX copies_by_rfid ON copies (rfid);
