-- The network, the catalogue, reserve norms, and the audit log, whose
-- events also record each change's request id and answer (idempotency).
-- Times are UTC milliseconds, money is fen, all as INTEGER.
-- Column types stay within INTEGER, REAL, TEXT so one SQL text serves both engines.

CREATE TABLE depots (
    code            TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    tier            INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 4),
    parent_code     TEXT    REFERENCES depots (code),
    path            TEXT    NOT NULL UNIQUE,
    division_code   TEXT    NOT NULL,
    latitude        REAL    NOT NULL,
    longitude       REAL    NOT NULL,
    address         TEXT    NOT NULL,
    storage_area_m2 REAL    NOT NULL CHECK (storage_area_m2 >= 0),
    operating_unit  TEXT    NOT NULL,
    owning_tier     INTEGER NOT NULL CHECK (owning_tier BETWEEN 1 AND 4),
    contacts        TEXT    NOT NULL,
    status          INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((tier = 1) = (parent_code IS NULL))
);
CREATE INDEX depots_parent ON depots (parent_code);

CREATE TABLE items (
    id                         TEXT    PRIMARY KEY,
    code                       TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    specification              TEXT    NOT NULL,
    unit                       TEXT    NOT NULL,
    tracking                   INTEGER NOT NULL CHECK (tracking IN (1, 2)),
    shelf_life_days            INTEGER NOT NULL CHECK (shelf_life_days >= 0),
    quality_test_interval_days INTEGER NOT NULL CHECK (quality_test_interval_days >= 0),
    near_expiry_days           INTEGER NOT NULL CHECK (near_expiry_days > 0),
    upkeep_interval_days       INTEGER NOT NULL CHECK (upkeep_interval_days >= 0),
    recoverable                INTEGER NOT NULL CHECK (recoverable IN (0, 1)),
    leasable                   INTEGER NOT NULL CHECK (leasable IN (0, 1)),
    unit_value_fen             INTEGER NOT NULL CHECK (unit_value_fen >= 0),
    volume_per_unit_cm3        INTEGER NOT NULL CHECK (volume_per_unit_cm3 >= 0),
    owner_depot                TEXT    NOT NULL REFERENCES depots (code),
    version                    INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE INDEX items_code ON items (code);

CREATE TABLE reserve_norms (
    depot_code TEXT    NOT NULL REFERENCES depots (code),
    item_id    TEXT    NOT NULL REFERENCES items (id),
    minimum    INTEGER NOT NULL CHECK (minimum >= 0),
    target     INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (depot_code, item_id),
    CHECK (target >= minimum)
);

-- Every change appends one event here in its own transaction. The depot is
-- not a foreign key: depots are never deleted, and a key-share lock on the
-- depot row for every change would make busy depots contend.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    actor_name  TEXT    NOT NULL,
    actor_roles TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    depot_code  TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    request_hash TEXT   NOT NULL,
    changes     TEXT    NOT NULL,
    response    TEXT    NOT NULL
);
CREATE INDEX audit_events_depot ON audit_events (depot_code, seq);
-- One change per (user, request id): a retry finds the answer it was given.
CREATE UNIQUE INDEX audit_events_request ON audit_events (actor, request_id);

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
