-- Enterprise reserves and call-offs (issue 11), deliveries funded by an
-- agreement, and the event stream: an outbox every write appends to in its
-- own transaction, and the events it is sequenced into, in commit order.

-- Lots may now be funded by an agreement (4).
ALTER TABLE lots DROP CONSTRAINT lots_funding_source_check;
ALTER TABLE lots ADD CONSTRAINT lots_funding_source_check CHECK (funding_source BETWEEN 1 AND 4);

CREATE TABLE agreements (
    id             TEXT    PRIMARY KEY,
    kind           BIGINT  NOT NULL CHECK (kind IN (1, 2)),
    company_name   TEXT    NOT NULL,
    credit_code    TEXT    NOT NULL CHECK (length(credit_code) = 18),
    depot_code     TEXT    NOT NULL REFERENCES depots (code),
    response_hours DOUBLE PRECISION NOT NULL CHECK (response_hours > 0),
    valid_from     BIGINT  NOT NULL,
    valid_until    BIGINT  NOT NULL,
    contact        TEXT    NOT NULL,
    note           TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    CHECK (valid_until >= valid_from)
);
CREATE INDEX agreements_until ON agreements (valid_until, id);

-- What each agreement commits, and how much of it has been called off and
-- delivered; a call-off moves called_off only by a guarded update.
CREATE TABLE agreement_items (
    agreement_id TEXT    NOT NULL REFERENCES agreements (id),
    item_id      TEXT    NOT NULL REFERENCES items (id),
    committed    BIGINT  NOT NULL CHECK (committed > 0),
    called_off   BIGINT  NOT NULL CHECK (called_off >= 0),
    delivered    BIGINT  NOT NULL CHECK (delivered >= 0),
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
    called_at    BIGINT  NOT NULL,
    due_at       BIGINT  NOT NULL
);
CREATE INDEX call_offs_called ON call_offs (called_at, id);

CREATE TABLE call_off_lines (
    call_off_id TEXT    NOT NULL REFERENCES call_offs (id),
    item_id     TEXT    NOT NULL REFERENCES items (id),
    quantity    BIGINT  NOT NULL CHECK (quantity > 0),
    delivered   BIGINT  NOT NULL CHECK (delivered >= 0),
    PRIMARY KEY (call_off_id, item_id),
    CHECK (delivered <= quantity)
);

-- Every change appends to the outbox in its own transaction; a sequencer
-- (one at a time, under the event_sequence row) moves committed rows into
-- events with ids increasing in the order they were sequenced, so a reader
-- that resumes after id N never misses a row committed later with a
-- smaller id.
CREATE TABLE event_outbox (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at BIGINT  NOT NULL,
    kind        BIGINT  NOT NULL,
    depot_code  TEXT    NOT NULL,
    depot_path  TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);

CREATE TABLE events (
    id          BIGINT PRIMARY KEY,
    occurred_at BIGINT  NOT NULL,
    kind        BIGINT  NOT NULL,
    depot_code  TEXT    NOT NULL,
    depot_path  TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);

CREATE TABLE event_sequence (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    last BIGINT  NOT NULL
);
INSERT INTO event_sequence (id, last) VALUES (1, 0);

-- Alerts raised and not yet cleared, so each is raised once while it holds.
CREATE TABLE alerts_raised (
    key        TEXT    PRIMARY KEY,
    raised_at  BIGINT  NOT NULL
);
