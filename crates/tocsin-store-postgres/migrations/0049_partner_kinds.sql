-- The kinds of record a partner may receive (incident, assessment, alert, rumour, action;
-- comma-separated); empty: every kind, as partners added before this had.
ALTER TABLE partners ADD COLUMN kinds text NOT NULL DEFAULT '';
