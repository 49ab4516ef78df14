-- Units held by a document belong to it (issue 8): a line keeps how many of
-- its held units documents hold, every entry says which document it belongs
-- to and how it changed that figure, and every held asset names the document
-- holding it. Counts keep what the books said at the moment each figure was
-- recorded, and who recorded it.

ALTER TABLE stock_lines ADD COLUMN doc_held BIGINT NOT NULL DEFAULT 0;

ALTER TABLE ledger_entries ADD COLUMN doc_held_delta BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN owner TEXT;
CREATE INDEX ledger_entries_owner ON ledger_entries (owner) WHERE owner IS NOT NULL;

ALTER TABLE assets ADD COLUMN holder TEXT;
CREATE INDEX assets_holder ON assets (holder) WHERE holder IS NOT NULL;

ALTER TABLE stock_counts ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_counts ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
ALTER TABLE stock_count_lines ADD COLUMN on_hand_at_record BIGINT;
ALTER TABLE stock_count_lines ADD COLUMN serials_at_record TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_count_lines ADD COLUMN held_by_documents TEXT NOT NULL DEFAULT '[]';
ALTER TABLE stock_count_lines ADD COLUMN recorded_by TEXT;
ALTER TABLE stock_count_lines ADD COLUMN recorded_at BIGINT;
ALTER TABLE stock_count_lines ADD COLUMN entry_ids TEXT NOT NULL DEFAULT '[]';

-- Backfill what existing documents own. The ledger is append-only; this one
-- migration is the only writer allowed to name owners of past entries.
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
UPDATE ledger_entries e SET owner = 'scrapApplications/' || s.id, doc_held_delta = e.held_delta
FROM scrap_applications s WHERE e.id = s.hold_entry_id OR e.id = s.final_entry_id;
UPDATE ledger_entries e SET owner = 'adjustments/' || a.id
FROM adjustments a WHERE e.id = a.entry_id;
UPDATE ledger_entries e SET owner = 'stockCounts/' || c.count_id
FROM stock_count_lines c WHERE e.id = c.entry_id;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;

UPDATE stock_lines l SET doc_held = s.q
FROM (SELECT depot_code, lot_id, SUM(quantity) AS q FROM scrap_applications WHERE status = 1
      GROUP BY depot_code, lot_id) s
WHERE l.depot_code = s.depot_code AND l.lot_id = s.lot_id;
UPDATE assets a SET holder = 'scrapApplications/' || s.id
FROM scrap_applications s, json_array_elements_text(s.serials::json) j(serial)
WHERE s.status = 1 AND a.status = 2 AND s.item_id = a.item_id AND j.serial = a.serial_number;
UPDATE stock_count_lines SET entry_ids = json_build_array(entry_id)::text WHERE entry_id IS NOT NULL;

ALTER TABLE stock_lines ADD CONSTRAINT stock_lines_doc_held
    CHECK (doc_held >= 0 AND doc_held <= held AND on_hand <= 1000000000000);

-- Creating, moving and closing depots take this one row first, so they run
-- one at a time and never read a path or a parent another is rewriting.
CREATE TABLE network_tree_lock (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    changes BIGINT NOT NULL
);
INSERT INTO network_tree_lock (id, changes) VALUES (1, 0);
