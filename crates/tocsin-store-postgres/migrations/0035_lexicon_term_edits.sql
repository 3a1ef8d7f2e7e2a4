-- Analysts' edits of lexicon terms (issue 19): each edit made version `version` of the
-- lexicon; who, when and what changed in `body` (append-only).
CREATE TABLE lexicon_term_edits (
    id      uuid PRIMARY KEY,
    lexicon text NOT NULL REFERENCES lexicons (name),
    version bigint NOT NULL,
    at      timestamptz NOT NULL,
    body    jsonb NOT NULL
);
CREATE INDEX lexicon_term_edits_lexicon ON lexicon_term_edits (lexicon, version);
CREATE TRIGGER lexicon_term_edits_no_update BEFORE UPDATE ON lexicon_term_edits
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('lexicon term edits are append-only');
CREATE TRIGGER lexicon_term_edits_no_delete BEFORE DELETE ON lexicon_term_edits
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('lexicon term edits are append-only');
