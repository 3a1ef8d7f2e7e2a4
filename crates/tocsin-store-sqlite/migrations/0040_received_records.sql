-- Sharing between organisations. Records received from elsewhere (STIX bundles today) are
-- stored as read-only incidents; this table says where each came from: the organisation, its
-- id there, its version time there (a later one supersedes) and the label its marking gave.
-- A retracted one stays (its page says so) but is hidden from every view: `retracted` on the
-- incident, which lists, maps, counts and exports leave out.
CREATE TABLE received_records (
    record_id     TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    origin        TEXT NOT NULL,
    original_id   TEXT NOT NULL,
    format        TEXT NOT NULL,
    modified      TEXT NOT NULL,
    tlp           INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    received_at   TEXT NOT NULL,
    retracted_at  TEXT,
    UNIQUE (origin, original_id)
);
ALTER TABLE incidents ADD COLUMN retracted INTEGER NOT NULL DEFAULT 0;
-- This installation's id, made once: the seed of the ids its exports give records.
INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_id',
    lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
    || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
    || hex(randomblob(6))));
