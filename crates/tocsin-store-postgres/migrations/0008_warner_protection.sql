-- Warner protection (issue 12).
-- 1. Gateway message ids are kept only as keyed hashes (`provider_key`): matched against a
--    gateway's records, the id itself names the sender. Ids stored in clear before are removed.
-- 2. Reports, sources and outbound messages get random ids from now on, so lists of them are
--    ordered by time, then id.
-- 3. A web-form report may be linked once to the phone that texts its one-time code
--    (`form_claims`); nothing else about a report ever changes.
-- 4. Replies remember which of our numbers to send from (`outbox.sender`).
DROP TRIGGER reports_immutable ON reports;

ALTER TABLE reports RENAME COLUMN provider_message_id TO provider_key;
UPDATE reports SET provider_key = NULL WHERE provider_key IS NOT NULL;
ALTER TABLE outbox RENAME COLUMN provider_message_id TO provider_key;
UPDATE outbox SET provider_key = NULL WHERE provider_key IS NOT NULL;
ALTER TABLE outbox ADD COLUMN sender text;

CREATE FUNCTION tocsin_report_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.channel = 'web' AND OLD.source_id IS NULL AND NEW.source_id IS NOT NULL
        AND to_jsonb(NEW) - 'source_id' = to_jsonb(OLD) - 'source_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'reports are immutable';
END;
$$;
CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION tocsin_report_guard();

CREATE TABLE form_claims (
    code_hash      text PRIMARY KEY,
    report_id      uuid NOT NULL REFERENCES reports(id),
    ack_text       text NOT NULL,
    expires_at     timestamptz NOT NULL,
    claimed_source uuid REFERENCES sources(id)
);
CREATE INDEX form_claims_expiry ON form_claims (expires_at);

DROP INDEX reports_received;
CREATE INDEX reports_received ON reports (received_at, id);
DROP INDEX reports_country;
CREATE INDEX reports_country ON reports (country, received_at);
CREATE INDEX sources_created ON sources (created_at, id);
DROP INDEX outbox_source;
CREATE INDEX outbox_source ON outbox (source_id, created_at);
