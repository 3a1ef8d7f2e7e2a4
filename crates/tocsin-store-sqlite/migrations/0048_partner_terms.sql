-- A partner's redaction rules (what is withheld from every record sent to it: rule names,
-- comma-separated), when they last changed, and when an admin approved its terms after a
-- preview (nothing is sent before). Partners that were already exchanging keep doing so.
ALTER TABLE partners ADD COLUMN redact TEXT NOT NULL DEFAULT '';
ALTER TABLE partners ADD COLUMN terms_changed_at TEXT;
ALTER TABLE partners ADD COLUMN approved_at TEXT;
UPDATE partners SET approved_at = added_at;
