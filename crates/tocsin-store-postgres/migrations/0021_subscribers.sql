-- Community-alert subscribers. The number is held only sealed (bound to the id) and as a keyed
-- hash under a key of its own; ids are random. Area queries read the two covering partial
-- indexes only: by country and admin1, or by point (a box's latitude range, then longitude).
CREATE TABLE subscribers (
    id          uuid PRIMARY KEY,
    phone_hash  text NOT NULL UNIQUE,
    contact     bytea NOT NULL,
    country     text NOT NULL,
    admin1      text,
    place_name  text NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    language    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'stopped')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX subscribers_active_area ON subscribers (country, admin1)
    INCLUDE (id, language, lat, lon) WHERE status = 'active';
CREATE INDEX subscribers_active_point ON subscribers (lat, lon)
    INCLUDE (id, language, country, admin1) WHERE status = 'active';

-- Places offered to a phone whose JOIN was ambiguous: the next reply with a number picks one.
CREATE TABLE subscriber_offers (
    phone_hash  text PRIMARY KEY,
    language    text NOT NULL,
    places      jsonb NOT NULL,
    expires_at  timestamptz NOT NULL
);
