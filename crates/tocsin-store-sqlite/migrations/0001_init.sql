-- Tocsin schema on SQLite. Ids are UUIDv7 text (sorting by id sorts by creation time);
-- timestamps are RFC 3339 UTC text with microseconds (sorting by text sorts by time);
-- TLP labels are ranks 0 (CLEAR) .. 4 (RED) so clearance filters are a comparison.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    clearance     INTEGER NOT NULL CHECK (clearance BETWEEN 0 AND 4),
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE sources (
    id          TEXT PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    reliability TEXT NOT NULL,
    tlp         INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    contact     BLOB,
    created_at  TEXT NOT NULL
);

CREATE TABLE situations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    country     TEXT NOT NULL,
    admin1      TEXT,
    status      TEXT NOT NULL,
    description TEXT NOT NULL,
    tlp         INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    created_at  TEXT NOT NULL
);

CREATE TABLE reports (
    id                  TEXT PRIMARY KEY,
    channel             TEXT NOT NULL,
    provider_message_id TEXT,
    source_id           TEXT REFERENCES sources(id),
    text                TEXT NOT NULL,
    tlp                 INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    latitude            REAL,
    longitude           REAL,
    country             TEXT,
    occurred_at         TEXT,
    received_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX reports_provider_id ON reports (channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX reports_country ON reports (country, id);
CREATE INDEX reports_received ON reports (received_at);
CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are immutable'); END;
CREATE TRIGGER reports_undeletable BEFORE DELETE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are never deleted'); END;

CREATE TABLE incidents (
    id                  TEXT PRIMARY KEY,
    event_date          TEXT NOT NULL,
    date_precision      INTEGER NOT NULL,
    event_type          TEXT NOT NULL,
    sub_event_type      TEXT NOT NULL,
    country             TEXT NOT NULL,
    admin1              TEXT,
    admin2              TEXT,
    location            TEXT,
    latitude            REAL NOT NULL,
    longitude           REAL NOT NULL,
    geo_precision       INTEGER NOT NULL,
    actor1              TEXT,
    actor2              TEXT,
    targeted_group      TEXT,
    fatalities          INTEGER NOT NULL,
    fatalities_low      INTEGER,
    fatalities_high     INTEGER,
    credibility         INTEGER NOT NULL,
    verification_status TEXT NOT NULL,
    description         TEXT NOT NULL,
    tlp                 INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    situation_id        TEXT REFERENCES situations(id),
    report_ids          TEXT NOT NULL DEFAULT '[]',
    dataset             TEXT,
    external_id         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             INTEGER NOT NULL
);
CREATE INDEX incidents_country_date ON incidents (country, event_date);
CREATE INDEX incidents_date ON incidents (event_date);
CREATE INDEX incidents_lon_lat ON incidents (longitude, latitude);
CREATE UNIQUE INDEX incidents_provenance ON incidents (dataset, external_id)
    WHERE dataset IS NOT NULL AND external_id IS NOT NULL;

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_record ON audit_log (record_type, record_id);
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_undeletable BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
