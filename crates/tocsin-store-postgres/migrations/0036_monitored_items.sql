-- Monitored items (issue 19): public posts and articles read from feeds or imported from
-- archives; not reports (no source, no warner). The item as JSON in `body`; `key` is the
-- SHA-256 of its GUID or message id, unique per origin, so an item is stored once.
CREATE TABLE monitored_items (
    id          uuid PRIMARY KEY,
    origin      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('feed', 'archive')),
    key         text NOT NULL,
    tlp         smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    flagged     boolean NOT NULL,
    fetched_at  timestamptz NOT NULL,
    body        jsonb NOT NULL,
    UNIQUE (origin, key)
);
CREATE INDEX monitored_items_time ON monitored_items (fetched_at, id);
-- Each configured feed's poll state (ETag, Last-Modified, last status, next poll, counts).
CREATE TABLE feed_states (
    name        text PRIMARY KEY,
    body        jsonb NOT NULL
);
