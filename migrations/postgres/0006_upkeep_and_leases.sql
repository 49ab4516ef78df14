-- What upkeep and leasing need of the stock tables (issue 12): units out on
-- lease per line and per entry, assets under repair or on lease (each held
-- by its repair or lease), and each asset's upkeep dates and condition.

ALTER TABLE stock_lines ADD COLUMN on_lease BIGINT NOT NULL DEFAULT 0
    CHECK (on_lease >= 0 AND on_lease <= 1000000000000);
ALTER TABLE ledger_entries ADD COLUMN on_lease_delta BIGINT NOT NULL DEFAULT 0;

-- 9 under repair, 10 on lease, both held by a document that the asset names.
ALTER TABLE assets DROP CONSTRAINT assets_status_check;
ALTER TABLE assets ADD CONSTRAINT assets_status_check CHECK (status BETWEEN 1 AND 10);
ALTER TABLE assets DROP CONSTRAINT assets_order_holder;
ALTER TABLE assets ADD CONSTRAINT assets_document_holder CHECK (status NOT IN (7, 8, 9, 10) OR holder IS NOT NULL);

-- Upkeep: day numbers like every date in the stock tables; condition
-- 1 good, 2 worn but serviceable, 3 needs repair, 4 unserviceable.
ALTER TABLE assets ADD COLUMN last_upkeep_day BIGINT;
ALTER TABLE assets ADD COLUMN next_upkeep_day BIGINT;
ALTER TABLE assets ADD COLUMN condition BIGINT NOT NULL DEFAULT 1 CHECK (condition BETWEEN 1 AND 4);
CREATE INDEX assets_upkeep_due ON assets (next_upkeep_day) WHERE next_upkeep_day IS NOT NULL;
