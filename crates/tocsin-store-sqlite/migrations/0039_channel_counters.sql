-- What each inbound channel (SMS gateways, Telegram, WhatsApp, and later others) has taken:
-- messages stored, duplicates recognised, refused calls (bad secret or signature), the last
-- error. Counts and times only: nothing here identifies a sender. One row per channel, added
-- to by an upsert, so several processes count into the same row.
CREATE TABLE channel_counters (
    name            TEXT PRIMARY KEY,
    taken           INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    refused         INTEGER NOT NULL DEFAULT 0,
    last_taken_at   TEXT,
    last_refused_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT,
    updated_at      TEXT NOT NULL
);
