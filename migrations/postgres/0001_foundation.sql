-- The network, the catalogue, reserve norms, and the audit log, whose
-- events also record each change's request id and answer (idempotency).
-- Times are UTC milliseconds, money is fen, all as BIGINT.
-- Column types stay within BIGINT, DOUBLE PRECISION, TEXT so one SQL text
-- serves both engines.

CREATE TABLE depots (
    code            TEXT             PRIMARY KEY,
    name            TEXT             NOT NULL,
    tier            BIGINT           NOT NULL CHECK (tier BETWEEN 1 AND 4),
    parent_code     TEXT             REFERENCES depots (code),
    path            TEXT             NOT NULL UNIQUE,
    division_code   TEXT             NOT NULL,
    latitude        DOUBLE PRECISION NOT NULL,
    longitude       DOUBLE PRECISION NOT NULL,
    address         TEXT             NOT NULL,
    storage_area_m2 DOUBLE PRECISION NOT NULL CHECK (storage_area_m2 >= 0),
    operating_unit  TEXT             NOT NULL,
    owning_tier     BIGINT           NOT NULL CHECK (owning_tier BETWEEN 1 AND 4),
    contacts        TEXT             NOT NULL,
    status          BIGINT           NOT NULL CHECK (status BETWEEN 1 AND 3),
    version         BIGINT           NOT NULL,
    created_at      BIGINT           NOT NULL,
    updated_at      BIGINT           NOT NULL,
    CHECK ((tier = 1) = (parent_code IS NULL))
);
CREATE INDEX depots_parent ON depots (parent_code);
CREATE INDEX depots_path_prefix ON depots (path text_pattern_ops);

CREATE TABLE items (
    id                         TEXT   PRIMARY KEY,
    code                       TEXT   NOT NULL,
    name                       TEXT   NOT NULL,
    specification              TEXT   NOT NULL,
    unit                       TEXT   NOT NULL,
    tracking                   BIGINT NOT NULL CHECK (tracking IN (1, 2)),
    shelf_life_days            BIGINT NOT NULL CHECK (shelf_life_days >= 0),
    quality_test_interval_days BIGINT NOT NULL CHECK (quality_test_interval_days >= 0),
    near_expiry_days           BIGINT NOT NULL CHECK (near_expiry_days > 0),
    upkeep_interval_days       BIGINT NOT NULL CHECK (upkeep_interval_days >= 0),
    recoverable                BIGINT NOT NULL CHECK (recoverable IN (0, 1)),
    leasable                   BIGINT NOT NULL CHECK (leasable IN (0, 1)),
    unit_value_fen             BIGINT NOT NULL CHECK (unit_value_fen >= 0),
    volume_per_unit_cm3        BIGINT NOT NULL CHECK (volume_per_unit_cm3 >= 0),
    owner_depot                TEXT   NOT NULL REFERENCES depots (code),
    version                    BIGINT NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX items_code ON items (code);

CREATE TABLE reserve_norms (
    depot_code TEXT   NOT NULL REFERENCES depots (code),
    item_id    TEXT   NOT NULL REFERENCES items (id),
    minimum    BIGINT NOT NULL CHECK (minimum >= 0),
    target     BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (depot_code, item_id),
    CHECK (target >= minimum)
);

-- Every change appends one event here in its own transaction. The depot is
-- not a foreign key: depots are never deleted, and a key-share lock on the
-- depot row for every change would make busy depots contend.
CREATE TABLE audit_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    actor_name  TEXT   NOT NULL,
    actor_roles TEXT   NOT NULL,
    method      TEXT   NOT NULL,
    resource    TEXT   NOT NULL,
    depot_code  TEXT   NOT NULL,
    request_id  TEXT   NOT NULL,
    request_hash TEXT  NOT NULL,
    changes     TEXT   NOT NULL,
    response    TEXT   NOT NULL
);
CREATE INDEX audit_events_depot ON audit_events (depot_code, seq);
-- One change per (user, request id): a retry finds the answer it was given.
CREATE UNIQUE INDEX audit_events_request ON audit_events (actor, request_id);

CREATE FUNCTION reserve_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reserve_append_only();
