-- What upkeep and leasing need of the stock tables (issue 12): units out on
-- lease per line and per entry, assets under repair or on lease (each held
-- by its repair or lease), and each asset's upkeep dates and condition.

ALTER TABLE stock_lines ADD COLUMN on_lease INTEGER NOT NULL DEFAULT 0
    CHECK (on_lease >= 0 AND on_lease <= 1000000000000);
ALTER TABLE ledger_entries ADD COLUMN on_lease_delta INTEGER NOT NULL DEFAULT 0;

-- Widening the status CHECK in place (see 0005): 9 under repair, 10 on lease,
-- both held by a document that the asset names.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(replace(sql,
        'CHECK (status BETWEEN 1 AND 8)', 'CHECK (status BETWEEN 1 AND 10)'),
        'CHECK (status NOT IN (7, 8) OR holder IS NOT NULL)', 'CHECK (status NOT IN (7, 8, 9, 10) OR holder IS NOT NULL)')
WHERE type = 'table' AND name = 'assets';
PRAGMA writable_schema = OFF;
PRAGMA schema_version = 1000006;

-- Upkeep: day numbers like every date in the stock tables; condition
-- 1 good, 2 worn but serviceable, 3 needs repair, 4 unserviceable.
ALTER TABLE assets ADD COLUMN last_upkeep_day INTEGER;
ALTER TABLE assets ADD COLUMN next_upkeep_day INTEGER;
ALTER TABLE assets ADD COLUMN condition INTEGER NOT NULL DEFAULT 1 CHECK (condition BETWEEN 1 AND 4);
CREATE INDEX assets_upkeep_due ON assets (next_upkeep_day) WHERE next_upkeep_day IS NOT NULL;
