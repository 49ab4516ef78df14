-- Leases (issue 12): the document as JSON beside the columns lists filter
-- on, and per line and lot the units out and back as rows, moved only by
-- guarded updates. A lease owns its units on lease (stock_lines.on_lease).

CREATE TABLE lease_numbers (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL CHECK (last >= 1)
);

CREATE TABLE leases (
    id              TEXT    PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    depot_code      TEXT    NOT NULL REFERENCES depots (code),
    state           INTEGER NOT NULL CHECK (state IN (1, 2)),
    lessee_name     TEXT    NOT NULL,
    credit_code     TEXT    NOT NULL CHECK (length(credit_code) = 18),
    recallable      INTEGER NOT NULL CHECK (recallable IN (0, 1)),
    start_at        INTEGER NOT NULL,
    due_day         INTEGER NOT NULL,
    recalled_at     INTEGER,
    recall_deadline INTEGER,
    body            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    CHECK ((recalled_at IS NULL) = (recall_deadline IS NULL))
);
CREATE INDEX leases_depot ON leases (depot_code, state);
CREATE INDEX leases_open_due ON leases (due_day) WHERE state = 1;
CREATE INDEX leases_start ON leases (start_at, id);

CREATE TABLE lease_shares (
    lease_id    TEXT    NOT NULL REFERENCES leases (id),
    line_number INTEGER NOT NULL CHECK (line_number >= 1),
    lot_id      TEXT    NOT NULL REFERENCES lots (id),
    depot_code  TEXT    NOT NULL REFERENCES depots (code),
    item_id     TEXT    NOT NULL REFERENCES items (id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    returned    INTEGER NOT NULL,
    damaged     INTEGER NOT NULL,
    PRIMARY KEY (lease_id, line_number, lot_id),
    CHECK (returned >= 0 AND damaged >= 0 AND damaged <= returned AND returned <= quantity)
);
CREATE INDEX lease_shares_out ON lease_shares (depot_code, lot_id) WHERE returned < quantity;
