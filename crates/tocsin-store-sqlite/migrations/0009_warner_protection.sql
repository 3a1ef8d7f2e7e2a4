-- Warner protection (issue 12).
-- 1. Gateway message ids are kept only as keyed hashes (`provider_key`): matched against a
--    gateway's records, the id itself names the sender. Ids stored in clear before are removed.
-- 2. Reports, sources and outbound messages get random ids from now on, so lists of them are
--    ordered by time, then id.
-- 3. A web-form report may be linked once to the phone that texts its one-time code
--    (`form_claims`); nothing else about a report ever changes.
-- 4. Replies remember which of our numbers to send from (`outbox.sender`).
DROP TRIGGER reports_immutable;

ALTER TABLE reports RENAME COLUMN provider_message_id TO provider_key;
UPDATE reports SET provider_key = NULL WHERE provider_key IS NOT NULL;
ALTER TABLE outbox RENAME COLUMN provider_message_id TO provider_key;
UPDATE outbox SET provider_key = NULL WHERE provider_key IS NOT NULL;
ALTER TABLE outbox ADD COLUMN sender TEXT;

CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports
WHEN NOT (OLD.channel = 'web' AND OLD.source_id IS NULL AND NEW.source_id IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.channel IS OLD.channel AND NEW.provider_key IS OLD.provider_key
    AND NEW.text IS OLD.text AND NEW.tlp IS OLD.tlp AND NEW.latitude IS OLD.latitude
    AND NEW.longitude IS OLD.longitude AND NEW.country IS OLD.country
    AND NEW.occurred_at IS OLD.occurred_at AND NEW.received_at IS OLD.received_at
    AND NEW.language IS OLD.language AND NEW.category IS OLD.category
    AND NEW.place_name IS OLD.place_name AND NEW.geo_precision IS OLD.geo_precision
    AND NEW.place_unresolved IS OLD.place_unresolved)
BEGIN SELECT RAISE(ABORT, 'reports are immutable'); END;

CREATE TABLE form_claims (
    code_hash      TEXT PRIMARY KEY,
    report_id      TEXT NOT NULL REFERENCES reports(id),
    ack_text       TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    claimed_source TEXT REFERENCES sources(id)
);
CREATE INDEX form_claims_expiry ON form_claims (expires_at);

DROP INDEX reports_received;
CREATE INDEX reports_received ON reports (received_at, id);
DROP INDEX reports_country;
CREATE INDEX reports_country ON reports (country, received_at);
CREATE INDEX sources_created ON sources (created_at, id);
DROP INDEX outbox_source;
CREATE INDEX outbox_source ON outbox (source_id, created_at);
