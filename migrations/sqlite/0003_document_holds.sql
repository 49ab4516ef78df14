-- Units held by a document belong to it (issue 8): a line keeps how many of
-- its held units documents hold, every entry says which document it belongs
-- to and how it changed that figure, and every held asset names the document
-- holding it. Counts keep what the books said at the moment each figure was
-- recorded, and who recorded it.

ALTER TABLE stock_lines ADD COLUMN doc_held INTEGER NOT NULL DEFAULT 0
    CHECK (doc_held >= 0 AND doc_held <= held AND on_hand <= 1000000000000);

ALTER TABLE ledger_entries ADD COLUMN doc_held_delta INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN owner TEXT;
CREATE INDEX ledger_entries_owner ON ledger_entries (owner) WHERE owner IS NOT NULL;

ALTER TABLE assets ADD COLUMN holder TEXT;
CREATE INDEX assets_holder ON assets (holder) WHERE holder IS NOT NULL;

ALTER TABLE stock_counts ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_counts ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
ALTER TABLE stock_count_lines ADD COLUMN on_hand_at_record INTEGER;
ALTER TABLE stock_count_lines ADD COLUMN serials_at_record TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_count_lines ADD COLUMN held_by_documents TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_count_lines ADD COLUMN recorded_by TEXT;
ALTER TABLE stock_count_lines ADD COLUMN recorded_at INTEGER;
ALTER TABLE stock_count_lines ADD COLUMN entry_ids TEXT NOT NULL DEFAULT '[]';

-- Backfill what existing documents own. The ledger is append-only; this one
-- migration is the only writer allowed to name owners of past entries.
DROP TRIGGER ledger_entries_append_only_update;
UPDATE ledger_entries SET owner = 'scrapApplications/' || (
        SELECT s.id FROM scrap_applications s
        WHERE s.hold_entry_id = ledger_entries.id OR s.final_entry_id = ledger_entries.id),
    doc_held_delta = held_delta
WHERE id IN (SELECT hold_entry_id FROM scrap_applications
             UNION SELECT final_entry_id FROM scrap_applications WHERE final_entry_id IS NOT NULL);
UPDATE ledger_entries SET owner = 'adjustments/' || (
        SELECT a.id FROM adjustments a WHERE a.entry_id = ledger_entries.id)
WHERE id IN (SELECT entry_id FROM adjustments WHERE entry_id IS NOT NULL);
UPDATE ledger_entries SET owner = 'stockCounts/' || (
        SELECT c.count_id FROM stock_count_lines c WHERE c.entry_id = ledger_entries.id)
WHERE id IN (SELECT entry_id FROM stock_count_lines WHERE entry_id IS NOT NULL);
CREATE TRIGGER ledger_entries_append_only_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;

UPDATE stock_lines SET doc_held = COALESCE((
    SELECT SUM(s.quantity) FROM scrap_applications s
    WHERE s.status = 1 AND s.depot_code = stock_lines.depot_code AND s.lot_id = stock_lines.lot_id), 0);
UPDATE assets SET holder = (
    SELECT 'scrapApplications/' || s.id FROM scrap_applications s, json_each(s.serials) j
    WHERE s.status = 1 AND s.item_id = assets.item_id AND j.value = assets.serial_number)
WHERE status = 2;
UPDATE stock_count_lines SET entry_ids = json_array(entry_id) WHERE entry_id IS NOT NULL;

-- Creating, moving and closing depots take this one row first, so they run
-- one at a time and never read a path or a parent another is rewriting.
CREATE TABLE network_tree_lock (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    changes BIGINT NOT NULL
);
INSERT INTO network_tree_lock (id, changes) VALUES (1, 0);
