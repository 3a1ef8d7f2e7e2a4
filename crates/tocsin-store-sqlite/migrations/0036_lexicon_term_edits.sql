-- Analysts' edits of lexicon terms (issue 19): each edit made version `version` of the
-- lexicon; who, when and what changed in `body` (append-only).
CREATE TABLE lexicon_term_edits (
    id      TEXT PRIMARY KEY,
    lexicon TEXT NOT NULL REFERENCES lexicons (name),
    version INTEGER NOT NULL,
    at      TEXT NOT NULL,
    body    TEXT NOT NULL
);
CREATE INDEX lexicon_term_edits_lexicon ON lexicon_term_edits (lexicon, version);
CREATE TRIGGER lexicon_term_edits_no_update BEFORE UPDATE ON lexicon_term_edits
BEGIN SELECT RAISE(ABORT, 'lexicon term edits are append-only'); END;
CREATE TRIGGER lexicon_term_edits_no_delete BEFORE DELETE ON lexicon_term_edits
BEGIN SELECT RAISE(ABORT, 'lexicon term edits are append-only'); END;
