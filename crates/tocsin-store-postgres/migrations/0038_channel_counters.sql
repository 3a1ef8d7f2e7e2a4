-- What each inbound channel (SMS gateways, Telegram, WhatsApp, and later others) has taken:
-- messages stored, duplicates recognised, refused calls (bad secret or signature), the last
-- error. Counts and times only: nothing here identifies a sender. One row per channel, added
-- to by an upsert, so several processes count into the same row.
CREATE TABLE channel_counters (
    name            TEXT PRIMARY KEY,
    taken           BIGINT NOT NULL DEFAULT 0,
    duplicates      BIGINT NOT NULL DEFAULT 0,
    refused         BIGINT NOT NULL DEFAULT 0,
    last_taken_at   TIMESTAMPTZ,
    last_refused_at TIMESTAMPTZ,
    last_error      TEXT,
    last_error_at   TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
