-- Dangerous-speech lexicons (issue 19): the record as JSON in `body`, the CSV text it was
-- imported from in `source`; `version` grows with each import under the name.
CREATE TABLE lexicons (
    name        text PRIMARY KEY,
    version     bigint NOT NULL,
    enabled     boolean NOT NULL DEFAULT false,
    body        jsonb NOT NULL,
    source      text NOT NULL
);
-- Measurements of a lexicon version on a labelled sample (append-only).
CREATE TABLE lexicon_evaluations (
    id              uuid PRIMARY KEY,
    lexicon         text NOT NULL REFERENCES lexicons (name),
    lexicon_version bigint NOT NULL,
    at              timestamptz NOT NULL,
    body            jsonb NOT NULL
);
CREATE INDEX lexicon_evaluations_lexicon ON lexicon_evaluations (lexicon, lexicon_version);
CREATE TRIGGER lexicon_evaluations_no_update BEFORE UPDATE ON lexicon_evaluations
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('lexicon evaluations are append-only');
CREATE TRIGGER lexicon_evaluations_no_delete BEFORE DELETE ON lexicon_evaluations
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('lexicon evaluations are append-only');
