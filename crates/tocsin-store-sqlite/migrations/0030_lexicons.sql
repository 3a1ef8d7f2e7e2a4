-- Dangerous-speech lexicons (issue 19): the record as JSON in `body`, the CSV text it was
-- imported from in `source`; `version` grows with each import under the name.
CREATE TABLE lexicons (
    name        TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 0,
    body        TEXT NOT NULL,
    source      TEXT NOT NULL
);
-- Measurements of a lexicon version on a labelled sample (append-only).
CREATE TABLE lexicon_evaluations (
    id              TEXT PRIMARY KEY,
    lexicon         TEXT NOT NULL REFERENCES lexicons (name),
    lexicon_version INTEGER NOT NULL,
    at              TEXT NOT NULL,
    body            TEXT NOT NULL
);
CREATE INDEX lexicon_evaluations_lexicon ON lexicon_evaluations (lexicon, lexicon_version);
CREATE TRIGGER lexicon_evaluations_no_update BEFORE UPDATE ON lexicon_evaluations
BEGIN SELECT RAISE(ABORT, 'lexicon evaluations are append-only'); END;
CREATE TRIGGER lexicon_evaluations_no_delete BEFORE DELETE ON lexicon_evaluations
BEGIN SELECT RAISE(ABORT, 'lexicon evaluations are append-only'); END;
