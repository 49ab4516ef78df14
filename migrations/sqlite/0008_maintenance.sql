-- Maintenance (issue 12): upkeep plans (an item at a depot and below, or one
-- asset), append-only upkeep records, the upkeep state of lot-tracked stock
-- per (depot, item) (assets keep theirs on the asset row, see 0006), and
-- repairs, which hold their asset until they end. Days are day numbers
-- since 1970-01-01; money is integer fen.

CREATE TABLE upkeep_plans (
    id              TEXT    PRIMARY KEY,
    target_key      TEXT    NOT NULL UNIQUE,
    depot_code      TEXT    REFERENCES depots (code),
    item_id         TEXT    NOT NULL REFERENCES items (id),
    serial_number   TEXT,
    interval_days   INTEGER NOT NULL CHECK (interval_days BETWEEN 0 AND 3650),
    interval_months INTEGER NOT NULL CHECK (interval_months BETWEEN 0 AND 120),
    kind            INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 7),
    note            TEXT    NOT NULL,
    active          INTEGER NOT NULL CHECK (active IN (0, 1)),
    set_by          TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    CHECK ((interval_days > 0 AND interval_months = 0) OR (interval_days = 0 AND interval_months > 0)),
    CHECK ((depot_code IS NULL) <> (serial_number IS NULL))
);
CREATE INDEX upkeep_plans_item ON upkeep_plans (item_id);

CREATE TABLE upkeep_records (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    depot_code    TEXT    NOT NULL REFERENCES depots (code),
    item_id       TEXT    NOT NULL REFERENCES items (id),
    serial_number TEXT,
    kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 7),
    day           INTEGER NOT NULL,
    result        INTEGER NOT NULL CHECK (result BETWEEN 1 AND 3),
    condition     INTEGER CHECK (condition BETWEEN 1 AND 4),
    cost_fen      INTEGER NOT NULL CHECK (cost_fen BETWEEN 0 AND 10000000000),
    notes         TEXT    NOT NULL,
    next_due_day  INTEGER,
    repair_id     TEXT,
    recorded_by   TEXT    NOT NULL,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX upkeep_records_unit ON upkeep_records (depot_code, item_id, serial_number);
CREATE TRIGGER upkeep_records_append_only_update BEFORE UPDATE ON upkeep_records
BEGIN
    SELECT RAISE(ABORT, 'upkeep_records is append-only');
END;
CREATE TRIGGER upkeep_records_append_only_delete BEFORE DELETE ON upkeep_records
BEGIN
    SELECT RAISE(ABORT, 'upkeep_records is append-only');
END;

CREATE TABLE upkeep_status (
    depot_code      TEXT    NOT NULL REFERENCES depots (code),
    item_id         TEXT    NOT NULL REFERENCES items (id),
    last_upkeep_day INTEGER,
    next_upkeep_day INTEGER,
    version         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (depot_code, item_id)
);

CREATE TABLE repairs (
    id                   TEXT    PRIMARY KEY,
    depot_code           TEXT    NOT NULL REFERENCES depots (code),
    item_id              TEXT    NOT NULL REFERENCES items (id),
    lot_id               TEXT    NOT NULL REFERENCES lots (id),
    serial_number        TEXT    NOT NULL,
    fault                TEXT    NOT NULL,
    status               INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    started_by           TEXT    NOT NULL,
    started_at           INTEGER NOT NULL,
    finished_by          TEXT,
    finished_at          INTEGER,
    cost_fen             INTEGER NOT NULL CHECK (cost_fen BETWEEN 0 AND 10000000000),
    notes                TEXT    NOT NULL,
    hold_entry_id        TEXT    NOT NULL,
    final_entry_id       TEXT,
    scrap_application_id TEXT,
    version              INTEGER NOT NULL
);
-- One open repair per asset.
CREATE UNIQUE INDEX repairs_open_asset ON repairs (item_id, serial_number) WHERE status = 1;
CREATE INDEX repairs_depot ON repairs (depot_code, started_at);
