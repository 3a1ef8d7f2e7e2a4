-- Broadcasts (issue 17): texts per language to the subscribers of an area (live) or the
-- staff test phones (test), approved by a second person. The domain's JSON is in `body`.
CREATE TABLE broadcasts (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    mode        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX broadcasts_created ON broadcasts (created_at, id);
CREATE INDEX broadcasts_active ON broadcasts (state) WHERE state IN ('approved', 'sending');

-- One row per recipient, written once when the broadcast is approved. A test phone's number
-- is sealed on its row (bound to the row's id); a subscriber's stays on the subscriber.
-- `lease_until`: a sender's claim; past it, a row still `sending` may be claimed again.
CREATE TABLE broadcast_recipients (
    id            TEXT PRIMARY KEY,
    broadcast_id  TEXT NOT NULL REFERENCES broadcasts(id),
    subscriber_id TEXT,
    address       BLOB,
    language      TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_until   TEXT,
    gateway       TEXT,
    provider_key  TEXT,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX broadcast_recipients_once ON broadcast_recipients (broadcast_id, subscriber_id)
    WHERE subscriber_id IS NOT NULL;
CREATE INDEX broadcast_recipients_state ON broadcast_recipients (broadcast_id, state);
CREATE INDEX broadcast_recipients_provider ON broadcast_recipients (provider_key)
    WHERE provider_key IS NOT NULL;
