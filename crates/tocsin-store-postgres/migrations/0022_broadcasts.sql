-- Broadcasts (issue 17): texts per language to the subscribers of an area (live) or the
-- staff test phones (test), approved by a second person. The domain's JSON is in `body`.
CREATE TABLE broadcasts (
    id          uuid PRIMARY KEY,
    state       text NOT NULL,
    mode        text NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    body        jsonb NOT NULL
);
CREATE INDEX broadcasts_created ON broadcasts (created_at, id);
CREATE INDEX broadcasts_active ON broadcasts (state) WHERE state IN ('approved', 'sending');

-- One row per recipient, written once when the broadcast is approved. A test phone's number
-- is sealed on its row (bound to the row's id); a subscriber's stays on the subscriber.
-- `lease_until`: a sender's claim; past it, a row still `sending` may be claimed again.
CREATE TABLE broadcast_recipients (
    seq           bigserial,
    id            uuid PRIMARY KEY,
    broadcast_id  uuid NOT NULL REFERENCES broadcasts(id),
    subscriber_id uuid,
    address       bytea,
    language      text NOT NULL,
    state         text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    gateway       text,
    provider_key  text,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX broadcast_recipients_once ON broadcast_recipients (broadcast_id, subscriber_id)
    WHERE subscriber_id IS NOT NULL;
CREATE INDEX broadcast_recipients_state ON broadcast_recipients (broadcast_id, state);
CREATE INDEX broadcast_recipients_provider ON broadcast_recipients (provider_key)
    WHERE provider_key IS NOT NULL;
