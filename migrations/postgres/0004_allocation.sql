-- Allocation orders (issue 10): ownership per holding, incidents, orders
-- with their reservations and transit as rows, and the asset states an
-- order gives its serials (reserved, in transit).

-- Ownership (事权) lives with the holding, not the lot: a lot received by the
-- city and moved to a county is the county's there and the city's here.
ALTER TABLE stock_lines ADD COLUMN owning_tier BIGINT NOT NULL DEFAULT 2
    CHECK (owning_tier BETWEEN 1 AND 4);
UPDATE stock_lines l SET owning_tier = t.owning_tier FROM lots t WHERE t.id = l.lot_id;
ALTER TABLE lots DROP COLUMN owning_tier;

-- Assets may now be reserved (8) or in transit (7) by an order, which then
-- holds them.
ALTER TABLE assets DROP CONSTRAINT assets_status_check;
ALTER TABLE assets ADD CONSTRAINT assets_status_check CHECK (status BETWEEN 1 AND 8);
ALTER TABLE assets ADD CONSTRAINT assets_order_holder CHECK (status NOT IN (7, 8) OR holder IS NOT NULL);

-- A counted line recorded before 0003 kept no figures at recording: take the
-- snapshot's, so approving it still writes off what was not seen.
UPDATE stock_count_lines SET on_hand_at_record = expected, serials_at_record = expected_serials
WHERE counted IS NOT NULL AND on_hand_at_record IS NULL
  AND count_id IN (SELECT id FROM stock_counts WHERE status IN (1, 2));

CREATE TABLE incidents (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    type        BIGINT  NOT NULL CHECK (type BETWEEN 1 AND 8),
    occurred_at BIGINT  NOT NULL,
    latitude    DOUBLE PRECISION NOT NULL,
    longitude   DOUBLE PRECISION NOT NULL,
    address     TEXT    NOT NULL,
    depot_code  TEXT    NOT NULL REFERENCES depots (code),
    description TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX incidents_occurred ON incidents (occurred_at, id);

-- Issues and orders name the incident their units went to.
ALTER TABLE ledger_entries ADD COLUMN incident_id TEXT REFERENCES incidents (id);
CREATE INDEX ledger_entries_incident ON ledger_entries (incident_id) WHERE incident_id IS NOT NULL;

-- Readable order numbers, increasing within a year.
CREATE TABLE allocation_numbers (
    year BIGINT PRIMARY KEY,
    last BIGINT  NOT NULL CHECK (last >= 1)
);

-- An order: the columns its lists filter on, and the document itself
-- (lines, contacts, dispatches, overrides, timeline) as JSON. Its shares are
-- rows of allocation_shares.
CREATE TABLE allocation_orders (
    id                     TEXT    PRIMARY KEY,
    number                 TEXT    NOT NULL UNIQUE,
    kind                   BIGINT  NOT NULL CHECK (kind BETWEEN 1 AND 3),
    priority               BIGINT  NOT NULL CHECK (priority BETWEEN 1 AND 3),
    state                  BIGINT  NOT NULL CHECK (state BETWEEN 1 AND 8),
    incident_id            TEXT    REFERENCES incidents (id),
    command_depot_code     TEXT    NOT NULL REFERENCES depots (code),
    destination_depot_code TEXT    REFERENCES depots (code),
    raised_at              BIGINT  NOT NULL,
    approved_at            BIGINT,
    backfill_due           BIGINT,
    body                   TEXT    NOT NULL,
    version                BIGINT  NOT NULL
);
CREATE INDEX allocation_orders_raised ON allocation_orders (raised_at, id);
CREATE INDEX allocation_orders_backfill ON allocation_orders (backfill_due)
    WHERE backfill_due IS NOT NULL AND approved_at IS NULL;

-- Every depot an order touches (command, destination, sources), for lists
-- over a subtree and for closing a depot.
CREATE TABLE allocation_order_depots (
    order_id   TEXT NOT NULL REFERENCES allocation_orders (id),
    depot_code TEXT NOT NULL REFERENCES depots (code),
    PRIMARY KEY (order_id, depot_code)
);
CREATE INDEX allocation_order_depots_depot ON allocation_order_depots (depot_code);

-- Reservations and transit are rows: the units of one line from one source
-- in one lot, reserved there now, dispatched, and what became of them.
CREATE TABLE allocation_shares (
    order_id          TEXT    NOT NULL REFERENCES allocation_orders (id),
    line_number       BIGINT  NOT NULL CHECK (line_number >= 1),
    source_depot_code TEXT    NOT NULL REFERENCES depots (code),
    lot_id            TEXT    NOT NULL REFERENCES lots (id),
    item_id           TEXT    NOT NULL REFERENCES items (id),
    serials           TEXT    NOT NULL,
    arrived           TEXT    NOT NULL,
    reserved          BIGINT  NOT NULL,
    dispatched        BIGINT  NOT NULL,
    received          BIGINT  NOT NULL,
    damaged           BIGINT  NOT NULL,
    rejected          BIGINT  NOT NULL,
    short             BIGINT  NOT NULL,
    PRIMARY KEY (order_id, line_number, source_depot_code, lot_id),
    CHECK (reserved >= 0 AND dispatched >= 0 AND received >= 0 AND damaged >= 0 AND rejected >= 0
           AND short >= 0 AND received + damaged + rejected + short <= dispatched)
);
CREATE INDEX allocation_shares_reserved ON allocation_shares (source_depot_code, lot_id) WHERE reserved > 0;
