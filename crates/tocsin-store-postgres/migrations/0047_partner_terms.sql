-- A partner's redaction rules (what is withheld from every record sent to it: rule names,
-- comma-separated), when they last changed, and when an admin approved its terms after a
-- preview (nothing is sent before). Partners that were already exchanging keep doing so.
ALTER TABLE partners ADD COLUMN redact text NOT NULL DEFAULT '';
ALTER TABLE partners ADD COLUMN terms_changed_at timestamptz;
ALTER TABLE partners ADD COLUMN approved_at timestamptz;
UPDATE partners SET approved_at = added_at;
