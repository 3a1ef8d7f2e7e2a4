-- Dangerous-speech flags (issue 19): one lexicon's terms found in one report (or, later, one
-- monitored item). The flag as JSON in `body` (report id, label, lexicon and version, the
-- terms with their offsets in the original text, review state and review); never a copy of
-- the text, never anything about the sender. `categories` is `|cat|cat|` for the list filter.
CREATE TABLE speech_flags (
    id          uuid PRIMARY KEY,
    report_id   uuid REFERENCES reports (id),
    item_id     uuid,
    tlp         smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    lexicon     text NOT NULL REFERENCES lexicons (name),
    state       text NOT NULL CHECK (state IN ('open', 'confirmed', 'dismissed')),
    categories  text NOT NULL,
    created_at  timestamptz NOT NULL,
    version     bigint NOT NULL,
    body        jsonb NOT NULL,
    CHECK (report_id IS NOT NULL OR item_id IS NOT NULL)
);
CREATE UNIQUE INDEX speech_flags_report_lexicon ON speech_flags (report_id, lexicon)
    WHERE report_id IS NOT NULL;
CREATE UNIQUE INDEX speech_flags_item_lexicon ON speech_flags (item_id, lexicon)
    WHERE item_id IS NOT NULL;
CREATE INDEX speech_flags_time ON speech_flags (created_at, id);
CREATE TRIGGER speech_flags_undeletable BEFORE DELETE ON speech_flags
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('speech flags are never deleted');
-- A random token replaced at every lexicon import, enabling and disabling: a process caching
-- the compiled scanner of the enabled lexicons builds it again when the token changes.
CREATE TABLE speech_state (
    id      smallint PRIMARY KEY CHECK (id = 1),
    token   text NOT NULL
);
INSERT INTO speech_state (id, token) VALUES (1, gen_random_uuid()::text);
