-- Field reporting by SMS: sources found by a keyed hash of their number, what parsing made of
-- a report, and the durable outbox of replies.
ALTER TABLE sources ADD COLUMN phone_hash text;
CREATE UNIQUE INDEX sources_phone_hash ON sources (phone_hash) WHERE phone_hash IS NOT NULL;

ALTER TABLE reports ADD COLUMN language text;
ALTER TABLE reports ADD COLUMN category text;
ALTER TABLE reports ADD COLUMN place_name text;
ALTER TABLE reports ADD COLUMN geo_precision smallint;
ALTER TABLE reports ADD COLUMN place_unresolved boolean NOT NULL DEFAULT false;
CREATE INDEX reports_source_time ON reports (source_id, received_at);

CREATE TABLE outbox (
    id                  uuid PRIMARY KEY,
    idempotency_key     text NOT NULL UNIQUE,
    gateway             text NOT NULL,
    source_id           uuid NOT NULL REFERENCES sources(id),
    report_id           uuid,
    text                text NOT NULL,
    status              text NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,
    provider_message_id text,
    last_error          text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_provider ON outbox (gateway, provider_message_id);
CREATE INDEX outbox_source ON outbox (source_id, id);
