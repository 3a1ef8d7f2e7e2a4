-- Sharing between organisations. Records received from elsewhere (STIX bundles today) are
-- stored as read-only incidents; this table says where each came from: the organisation, its
-- id there, its version time there (a later one supersedes) and the label its marking gave.
-- A retracted one stays (its page says so) but is hidden from every view: `retracted` on the
-- incident, which lists, maps, counts and exports leave out.
CREATE TABLE received_records (
    record_id     uuid PRIMARY KEY,
    kind          text NOT NULL,
    origin        text NOT NULL,
    original_id   text NOT NULL,
    format        text NOT NULL,
    modified      timestamptz NOT NULL,
    tlp           smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    received_at   timestamptz NOT NULL,
    retracted_at  timestamptz,
    UNIQUE (origin, original_id)
);
ALTER TABLE incidents ADD COLUMN retracted boolean NOT NULL DEFAULT false;
-- This installation's id, made once: the seed of the ids its exports give records.
INSERT INTO meta (key, value) VALUES ('instance_id', gen_random_uuid()::text)
    ON CONFLICT (key) DO NOTHING;
