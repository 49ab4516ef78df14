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
    interval_days   BIGINT  NOT NULL CHECK (interval_days BETWEEN 0 AND 3650),
    interval_months BIGINT  NOT NULL CHECK (interval_months BETWEEN 0 AND 120),
    kind            BIGINT  NOT NULL CHECK (kind BETWEEN 1 AND 7),
    note            TEXT    NOT NULL,
    active          BIGINT  NOT NULL CHECK (active IN (0, 1)),
    set_by          TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL,
    version         BIGINT  NOT NULL,
    CHECK ((interval_days > 0 AND interval_months = 0) OR (interval_days = 0 AND interval_months > 0)),
    CHECK ((depot_code IS NULL) <> (serial_number IS NULL))
);
CREATE INDEX upkeep_plans_item ON upkeep_plans (item_id);

CREATE TABLE upkeep_records (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    depot_code    TEXT    NOT NULL REFERENCES depots (code),
    item_id       TEXT    NOT NULL REFERENCES items (id),
    serial_number TEXT,
    kind          BIGINT  NOT NULL CHECK (kind BETWEEN 1 AND 7),
    day           BIGINT  NOT NULL,
    result        BIGINT  NOT NULL CHECK (result BETWEEN 1 AND 3),
    condition     BIGINT  CHECK (condition BETWEEN 1 AND 4),
    cost_fen      BIGINT  NOT NULL CHECK (cost_fen BETWEEN 0 AND 10000000000),
    notes         TEXT    NOT NULL,
    next_due_day  BIGINT,
    repair_id     TEXT,
    recorded_by   TEXT    NOT NULL,
    recorded_at   BIGINT  NOT NULL
);
CREATE INDEX upkeep_records_unit ON upkeep_records (depot_code, item_id, serial_number);
CREATE TRIGGER upkeep_records_append_only BEFORE UPDATE OR DELETE ON upkeep_records
    FOR EACH ROW EXECUTE FUNCTION reserve_append_only();

CREATE TABLE upkeep_status (
    depot_code      TEXT    NOT NULL REFERENCES depots (code),
    item_id         TEXT    NOT NULL REFERENCES items (id),
    last_upkeep_day BIGINT,
    next_upkeep_day BIGINT,
    version         BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (depot_code, item_id)
);

CREATE TABLE repairs (
    id                   TEXT    PRIMARY KEY,
    depot_code           TEXT    NOT NULL REFERENCES depots (code),
    item_id              TEXT    NOT NULL REFERENCES items (id),
    lot_id               TEXT    NOT NULL REFERENCES lots (id),
    serial_number        TEXT    NOT NULL,
    fault                TEXT    NOT NULL,
    status               BIGINT  NOT NULL CHECK (status BETWEEN 1 AND 3),
    started_by           TEXT    NOT NULL,
    started_at           BIGINT  NOT NULL,
    finished_by          TEXT,
    finished_at          BIGINT,
    cost_fen             BIGINT  NOT NULL CHECK (cost_fen BETWEEN 0 AND 10000000000),
    notes                TEXT    NOT NULL,
    hold_entry_id        TEXT    NOT NULL,
    final_entry_id       TEXT,
    scrap_application_id TEXT,
    version              BIGINT  NOT NULL
);
-- One open repair per asset.
CREATE UNIQUE INDEX repairs_open_asset ON repairs (item_id, serial_number) WHERE status = 1;
CREATE INDEX repairs_depot ON repairs (depot_code, started_at);
