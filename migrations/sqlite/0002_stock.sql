-- Stock: lots, balances per (depot, lot), serialised assets, the append-only
-- ledger, and the documents that post to it (adjustments, scrap
-- applications, stock counts). Dates are day numbers since 1970-01-01, so
-- both engines compare and add days the same way.

CREATE TABLE lots (
    id              TEXT    PRIMARY KEY,
    item_id         TEXT    NOT NULL REFERENCES items (id),
    lot_number      TEXT    NOT NULL,
    production_day  INTEGER,
    expiry_day      INTEGER,
    manufacturer    TEXT    NOT NULL,
    funding_source  INTEGER NOT NULL CHECK (funding_source BETWEEN 1 AND 3),
    owning_tier     INTEGER NOT NULL CHECK (owning_tier BETWEEN 1 AND 4),
    created_at      INTEGER NOT NULL,
    UNIQUE (item_id, lot_number)
);

-- The balance of one lot at one depot. The CHECK is the last line of defence
-- for the rules the code enforces first.
CREATE TABLE stock_lines (
    depot_code TEXT    NOT NULL REFERENCES depots (code),
    lot_id     TEXT    NOT NULL REFERENCES lots (id),
    item_id    TEXT    NOT NULL REFERENCES items (id),
    on_hand    INTEGER NOT NULL,
    reserved   INTEGER NOT NULL,
    held       INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (depot_code, lot_id),
    CHECK (on_hand >= 0 AND reserved >= 0 AND held >= 0 AND reserved + held <= on_hand)
);
CREATE INDEX stock_lines_item ON stock_lines (item_id, depot_code);

CREATE TABLE assets (
    item_id       TEXT    NOT NULL REFERENCES items (id),
    serial_number TEXT    NOT NULL,
    lot_id        TEXT    NOT NULL REFERENCES lots (id),
    depot_code    TEXT    NOT NULL REFERENCES depots (code),
    status        INTEGER NOT NULL CHECK (status BETWEEN 1 AND 6),
    version       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (item_id, serial_number)
);
CREATE INDEX assets_line ON assets (depot_code, lot_id, status);

-- The composite key to stock_lines is the one foreign key an entry needs:
-- the line exists only for an existing depot, item and lot.
CREATE TABLE ledger_entries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    entry_type       INTEGER NOT NULL,
    depot_code       TEXT    NOT NULL,
    item_id          TEXT    NOT NULL,
    lot_id           TEXT    NOT NULL,
    quantity         INTEGER NOT NULL,
    held_delta       INTEGER NOT NULL,
    reserved_delta   INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    document         TEXT    NOT NULL,
    counterparty     TEXT    NOT NULL,
    occurred_at      INTEGER NOT NULL,
    recorded_at      INTEGER NOT NULL,
    actor            TEXT    NOT NULL,
    countersigned_by TEXT,
    reverses_id      TEXT    REFERENCES ledger_entries (id),
    request_id       TEXT    NOT NULL,
    serials          TEXT    NOT NULL,
    FOREIGN KEY (depot_code, lot_id) REFERENCES stock_lines (depot_code, lot_id)
);
CREATE INDEX ledger_entries_line ON ledger_entries (depot_code, lot_id, seq);
-- An entry is reversed at most once; only reversals carry the column.
CREATE UNIQUE INDEX ledger_entries_reversal ON ledger_entries (reverses_id) WHERE reverses_id IS NOT NULL;

CREATE TRIGGER ledger_entries_append_only_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;
CREATE TRIGGER ledger_entries_append_only_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger_entries is append-only');
END;

-- Corrections waiting for a second signature.
CREATE TABLE adjustments (
    id            TEXT    PRIMARY KEY,
    depot_code    TEXT    NOT NULL REFERENCES depots (code),
    item_id       TEXT    NOT NULL REFERENCES items (id),
    lot_id        TEXT    NOT NULL REFERENCES lots (id),
    quantity      INTEGER NOT NULL CHECK (quantity <> 0),
    serials       TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    status        INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    requested_by  TEXT    NOT NULL,
    requested_at  INTEGER NOT NULL,
    decided_by    TEXT,
    decided_at    INTEGER,
    decision_note TEXT    NOT NULL,
    entry_id      TEXT    REFERENCES ledger_entries (id),
    version       INTEGER NOT NULL
);
CREATE INDEX adjustments_depot ON adjustments (depot_code, status);

CREATE TABLE scrap_applications (
    id             TEXT    PRIMARY KEY,
    depot_code     TEXT    NOT NULL REFERENCES depots (code),
    item_id        TEXT    NOT NULL REFERENCES items (id),
    lot_id         TEXT    NOT NULL REFERENCES lots (id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    serials        TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    disposal       INTEGER NOT NULL CHECK (disposal BETWEEN 1 AND 3),
    status         INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    applied_by     TEXT    NOT NULL,
    applied_at     INTEGER NOT NULL,
    decided_by     TEXT,
    decided_at     INTEGER,
    decision_note  TEXT    NOT NULL,
    hold_entry_id  TEXT    NOT NULL REFERENCES ledger_entries (id),
    final_entry_id TEXT    REFERENCES ledger_entries (id),
    version        INTEGER NOT NULL
);
CREATE INDEX scrap_applications_depot ON scrap_applications (depot_code, status);

CREATE TABLE stock_counts (
    id           TEXT    PRIMARY KEY,
    depot_code   TEXT    NOT NULL REFERENCES depots (code),
    status       INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
    scope_items  TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    opened_by    TEXT    NOT NULL,
    opened_at    INTEGER NOT NULL,
    submitted_by TEXT,
    submitted_at INTEGER,
    decided_by   TEXT,
    decided_at   INTEGER,
    version      INTEGER NOT NULL
);
CREATE INDEX stock_counts_depot ON stock_counts (depot_code, status);
-- At most one count in progress (open or submitted) per depot.
CREATE UNIQUE INDEX stock_counts_one_in_progress ON stock_counts (depot_code) WHERE status IN (1, 2);

CREATE TABLE stock_count_lines (
    count_id         TEXT    NOT NULL REFERENCES stock_counts (id),
    lot_id           TEXT    NOT NULL REFERENCES lots (id),
    item_id          TEXT    NOT NULL REFERENCES items (id),
    expected         INTEGER NOT NULL,
    expected_serials TEXT    NOT NULL,
    counted          INTEGER,
    counted_serials  TEXT,
    on_hand_at_post  INTEGER,
    posted_variance  INTEGER,
    entry_id         TEXT    REFERENCES ledger_entries (id),
    PRIMARY KEY (count_id, lot_id)
);
