-- The outbox becomes the delivery queue (issue 13): a delivery goes to a source, a user or an
-- outside address, and carries the TLP of its content (rank, 0 = CLEAR), checked against the recipient before
-- it leaves. Existing rows are replies to sources of TLP:CLEAR content (acknowledgements and
-- analysts' questions, written to be sent). `address` is sealed with the contact key, bound
-- to the delivery's id, and opened only at send time.
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    gateway          TEXT NOT NULL,
    source_id        TEXT REFERENCES sources(id),
    report_id        TEXT,
    text             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    provider_key     TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    sender           TEXT,
    recipient_kind   TEXT NOT NULL DEFAULT 'source',
    user_id          TEXT REFERENCES users(id),
    address          BLOB,
    tlp              INTEGER NOT NULL DEFAULT 0 CHECK (tlp BETWEEN 0 AND 4),
    CHECK ((recipient_kind = 'source' AND source_id IS NOT NULL)
        OR (recipient_kind = 'user' AND user_id IS NOT NULL AND address IS NOT NULL)
        OR (recipient_kind = 'address' AND address IS NOT NULL))
);
INSERT INTO outbox_new (id, idempotency_key, gateway, source_id, report_id, text, status,
    attempts, next_attempt_at, provider_key, last_error, created_at, updated_at, sender)
SELECT id, idempotency_key, gateway, source_id, report_id, text, status,
    attempts, next_attempt_at, provider_key, last_error, created_at, updated_at, sender
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_provider ON outbox (gateway, provider_key);
CREATE INDEX outbox_source ON outbox (source_id, created_at);
CREATE INDEX outbox_gateway_due ON outbox (gateway, status, next_attempt_at);
