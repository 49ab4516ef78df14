-- Requisitions and compensation (issue 13). Owners' identity numbers, bank
-- accounts and phones live only in private_data, sealed (AES-256-GCM, key
-- from configuration); records, claims, the audit log and stored replies
-- hold masked values and the private_data id. A purge clears the sealed
-- columns after settlement and keeps the row and every amount.

CREATE TABLE private_data (
    id         TEXT    PRIMARY KEY,
    key_id     TEXT,
    nonce      TEXT,
    ciphertext TEXT,
    created_at BIGINT NOT NULL,
    purged_at  BIGINT,
    CHECK ((purged_at IS NULL) = (ciphertext IS NOT NULL)),
    CHECK ((ciphertext IS NULL) = (key_id IS NULL) AND (ciphertext IS NULL) = (nonce IS NULL))
);

CREATE TABLE requisition_numbers (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL CHECK (last >= 1)
);

CREATE TABLE claim_numbers (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL CHECK (last >= 1)
);

CREATE TABLE requisitions (
    id          TEXT    PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    depot_code  TEXT    NOT NULL REFERENCES depots (code),
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    owner_kind  BIGINT NOT NULL CHECK (owner_kind IN (1, 2)),
    owner_name  TEXT    NOT NULL,
    private_ref TEXT    NOT NULL UNIQUE REFERENCES private_data (id),
    state       BIGINT NOT NULL CHECK (state IN (1, 2)),
    taken_at    BIGINT NOT NULL,
    voucher_due BIGINT,
    has_voucher BIGINT NOT NULL CHECK (has_voucher IN (0, 1)),
    body        TEXT    NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX requisitions_taken ON requisitions (taken_at, id);
CREATE INDEX requisitions_voucher_due ON requisitions (voucher_due) WHERE has_voucher = 0;

-- Per line the counts a guarded update moves; the CHECK is the last line
-- of defence for the rules core enforces first.
CREATE TABLE requisition_items (
    requisition_id TEXT    NOT NULL REFERENCES requisitions (id),
    line_number    BIGINT NOT NULL CHECK (line_number >= 1),
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    received       BIGINT NOT NULL,
    resolved       BIGINT NOT NULL,
    PRIMARY KEY (requisition_id, line_number),
    CHECK (received >= 0 AND received <= quantity AND resolved >= 0 AND resolved <= quantity)
);

-- A lot received with funding source "requisition" belongs to one line of
-- one requisition, so consumed goods trace back to their claim.
CREATE TABLE requisition_lots (
    lot_id         TEXT    PRIMARY KEY REFERENCES lots (id),
    requisition_id TEXT    NOT NULL,
    line_number    BIGINT NOT NULL,
    FOREIGN KEY (requisition_id, line_number) REFERENCES requisition_items (requisition_id, line_number)
);
CREATE INDEX requisition_lots_line ON requisition_lots (requisition_id, line_number);

CREATE TABLE claims (
    id             TEXT    PRIMARY KEY,
    number         TEXT    NOT NULL UNIQUE,
    requisition_id TEXT    NOT NULL UNIQUE REFERENCES requisitions (id),
    depot_code     TEXT    NOT NULL REFERENCES depots (code),
    incident_id    TEXT    NOT NULL,
    owner_kind     BIGINT NOT NULL CHECK (owner_kind IN (1, 2)),
    tier           BIGINT NOT NULL,
    state          BIGINT NOT NULL CHECK (state BETWEEN 1 AND 5),
    assessed_fen   BIGINT NOT NULL CHECK (assessed_fen >= 0),
    approved_fen   BIGINT NOT NULL CHECK (approved_fen >= 0),
    paid_fen       BIGINT NOT NULL CHECK (paid_fen >= 0 AND paid_fen <= approved_fen),
    settled_at     BIGINT,
    opened_at      BIGINT NOT NULL,
    body           TEXT    NOT NULL,
    version        BIGINT NOT NULL,
    CHECK ((state = 4) = (settled_at IS NOT NULL))
);
CREATE INDEX claims_state ON claims (state, opened_at, id);
CREATE INDEX claims_settled ON claims (settled_at) WHERE state = 4;
