-- Enterprise reserves and call-offs (issue 11), deliveries funded by an
-- agreement, and the event stream: an outbox every write appends to in its
-- own transaction, and the events it is sequenced into, in commit order.

-- Lots may now be funded by an agreement (4). SQLite cannot alter a CHECK in
-- place, and lots is referenced by other tables, so it cannot be rebuilt in
-- the migration's transaction with foreign keys on. SQLite documents editing
-- the stored definition for a change that leaves the stored rows valid
-- (https://www.sqlite.org/lang_altertable.html, "making other kinds of table
-- schema changes", the simpler procedure): widening a CHECK is one. Setting
-- schema_version makes every connection, this one included, reload the
-- schema; any value other than the current one does.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (funding_source BETWEEN 1 AND 3)', 'CHECK (funding_source BETWEEN 1 AND 4)')
WHERE type = 'table' AND name = 'lots';
PRAGMA writable_schema = OFF;
PRAGMA schema_version = 1000005;

CREATE TABLE agreements (
    id             TEXT    PRIMARY KEY,
    kind           INTEGER NOT NULL CHECK (kind IN (1, 2)),
    company_name   TEXT    NOT NULL,
    credit_code    TEXT    NOT NULL CHECK (length(credit_code) = 18),
    depot_code     TEXT    NOT NULL REFERENCES depots (code),
    response_hours REAL    NOT NULL CHECK (response_hours > 0),
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL,
    contact        TEXT    NOT NULL,
    note           TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    CHECK (valid_until >= valid_from)
);
CREATE INDEX agreements_until ON agreements (valid_until, id);

-- What each agreement commits, and how much of it has been called off and
-- delivered; a call-off moves called_off only by a guarded update.
CREATE TABLE agreement_items (
    agreement_id TEXT    NOT NULL REFERENCES agreements (id),
    item_id      TEXT    NOT NULL REFERENCES items (id),
    committed    INTEGER NOT NULL CHECK (committed > 0),
    called_off   INTEGER NOT NULL CHECK (called_off >= 0),
    delivered    INTEGER NOT NULL CHECK (delivered >= 0),
    PRIMARY KEY (agreement_id, item_id),
    CHECK (called_off <= committed AND delivered <= called_off)
);
CREATE INDEX agreement_items_item ON agreement_items (item_id);

CREATE TABLE call_offs (
    id           TEXT    PRIMARY KEY,
    agreement_id TEXT    NOT NULL REFERENCES agreements (id),
    depot_code   TEXT    NOT NULL REFERENCES depots (code),
    order_id     TEXT    REFERENCES allocation_orders (id),
    incident_id  TEXT    REFERENCES incidents (id),
    reason       TEXT    NOT NULL,
    called_by    TEXT    NOT NULL,
    called_at    INTEGER NOT NULL,
    due_at       INTEGER NOT NULL
);
CREATE INDEX call_offs_called ON call_offs (called_at, id);

CREATE TABLE call_off_lines (
    call_off_id TEXT    NOT NULL REFERENCES call_offs (id),
    item_id     TEXT    NOT NULL REFERENCES items (id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    delivered   INTEGER NOT NULL CHECK (delivered >= 0),
    PRIMARY KEY (call_off_id, item_id),
    CHECK (delivered <= quantity)
);

-- Every change appends to the outbox in its own transaction; a sequencer
-- (one at a time, under the event_sequence row) moves committed rows into
-- events with ids increasing in the order they were sequenced, so a reader
-- that resumes after id N never misses a row committed later with a
-- smaller id.
CREATE TABLE event_outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    depot_code  TEXT    NOT NULL,
    depot_path  TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    depot_code  TEXT    NOT NULL,
    depot_path  TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);

CREATE TABLE event_sequence (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO event_sequence (id, last) VALUES (1, 0);

-- Alerts raised and not yet cleared, so each is raised once while it holds.
CREATE TABLE alerts_raised (
    key        TEXT    PRIMARY KEY,
    raised_at  INTEGER NOT NULL
);
