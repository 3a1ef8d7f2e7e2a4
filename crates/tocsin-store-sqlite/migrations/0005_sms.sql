-- Field reporting by SMS: sources found by a keyed hash of their number, what parsing made of
-- a report, and the durable outbox of replies.
ALTER TABLE sources ADD COLUMN phone_hash TEXT;
CREATE UNIQUE INDEX sources_phone_hash ON sources (phone_hash) WHERE phone_hash IS NOT NULL;

ALTER TABLE reports ADD COLUMN language TEXT;
ALTER TABLE reports ADD COLUMN category TEXT;
ALTER TABLE reports ADD COLUMN place_name TEXT;
ALTER TABLE reports ADD COLUMN geo_precision INTEGER;
ALTER TABLE reports ADD COLUMN place_unresolved INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reports_source_time ON reports (source_id, received_at);

CREATE TABLE outbox (
    id                  TEXT PRIMARY KEY,
    idempotency_key     TEXT NOT NULL UNIQUE,
    gateway             TEXT NOT NULL,
    source_id           TEXT NOT NULL REFERENCES sources(id),
    report_id           TEXT,
    text                TEXT NOT NULL,
    status              TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    provider_message_id TEXT,
    last_error          TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_provider ON outbox (gateway, provider_message_id);
CREATE INDEX outbox_source ON outbox (source_id, id);
