-- Monitored items (issue 19): public posts and articles read from feeds or imported from
-- archives; not reports (no source, no warner). The item as JSON in `body`; `key` is the
-- SHA-256 of its GUID or message id, unique per origin, so an item is stored once.
CREATE TABLE monitored_items (
    id          TEXT PRIMARY KEY,
    origin      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('feed', 'archive')),
    key         TEXT NOT NULL,
    tlp         INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    flagged     INTEGER NOT NULL,
    fetched_at  TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (origin, key)
);
CREATE INDEX monitored_items_time ON monitored_items (fetched_at, id);
-- Each configured feed's poll state (ETag, Last-Modified, last status, next poll, counts).
CREATE TABLE feed_states (
    name        TEXT PRIMARY KEY,
    body        TEXT NOT NULL
);
