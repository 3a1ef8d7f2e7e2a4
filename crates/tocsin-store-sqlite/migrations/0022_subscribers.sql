-- Community-alert subscribers. The number is held only sealed (bound to the id) and as a keyed
-- hash under a key of its own; ids are random. Area queries read the two covering partial
-- indexes only: by country and admin1, or by point (a box's latitude range, then longitude).
CREATE TABLE subscribers (
    id          TEXT PRIMARY KEY,
    phone_hash  TEXT NOT NULL UNIQUE,
    contact     BLOB NOT NULL,
    country     TEXT NOT NULL,
    admin1      TEXT,
    place_name  TEXT NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'stopped')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX subscribers_active_area ON subscribers (country, admin1, id, language, lat, lon)
    WHERE status = 'active';
CREATE INDEX subscribers_active_point ON subscribers (lat, lon, id, language, country, admin1)
    WHERE status = 'active';

-- Places offered to a phone whose JOIN was ambiguous: the next reply with a number picks one.
CREATE TABLE subscriber_offers (
    phone_hash  TEXT PRIMARY KEY,
    language    TEXT NOT NULL,
    places      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
