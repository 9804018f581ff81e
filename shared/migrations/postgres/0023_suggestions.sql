-- 0023_suggestions: "you choose, we pay" (你选书，我买单) on the
-- purchase_suggestions table of 0001 (docs/suggestions.md).
--
-- Where the proposer will collect the book, the subject they gave (the
-- library excludes some), the price staff approved it at (the yearly
-- budget adds these up), and the hold that makes the proposer's order
-- when the bought book is catalogued.
ALTER TABLE purchase_suggestions ADD COLUMN pickup_point TEXT REFERENCES service_points (code);
ALTER TABLE purchase_suggestions ADD COLUMN subject TEXT;
ALTER TABLE purchase_suggestions ADD COLUMN price_fen BIGINT
    CONSTRAINT purchase_suggestions_price_not_negative CHECK (price_fen >= 0);
ALTER TABLE purchase_suggestions ADD COLUMN hold_id BIGINT REFERENCES holds (id);

CREATE INDEX purchase_suggestions_by_reader ON purchase_suggestions (reader_id, created_at_ms);
CREATE INDEX purchase_suggestions_by_isbn ON purchase_suggestions (isbn13, state);
