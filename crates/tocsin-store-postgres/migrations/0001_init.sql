-- Tocsin schema on PostgreSQL: the same tables, indexes and guards as the SQLite schema, in
-- native types. Ids are UUIDv7 (`uuid` compares bytewise, so sorting by id sorts by creation
-- time, exactly as SQLite's text ids do); timestamps are `timestamptz` (microsecond precision,
-- which is what `tocsin_domain::time` keeps); TLP labels are ranks 0 (CLEAR) .. 4 (RED) so
-- clearance filters are a comparison.

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    role          text NOT NULL,
    clearance     smallint NOT NULL CHECK (clearance BETWEEN 0 AND 4),
    password_hash text,
    created_at    timestamptz NOT NULL,
    disabled      boolean NOT NULL DEFAULT false
);

CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id),
    name       text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked    boolean NOT NULL DEFAULT false
);

CREATE TABLE sessions (
    id_hash    text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE sources (
    id          uuid PRIMARY KEY,
    handle      text NOT NULL UNIQUE,
    kind        text NOT NULL,
    reliability text NOT NULL,
    tlp         smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    contact     bytea,
    created_at  timestamptz NOT NULL
);

CREATE TABLE situations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    country     text NOT NULL,
    admin1      text,
    status      text NOT NULL,
    description text NOT NULL,
    tlp         smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    created_at  timestamptz NOT NULL
);

CREATE TABLE reports (
    id                  uuid PRIMARY KEY,
    channel             text NOT NULL,
    provider_message_id text,
    source_id           uuid REFERENCES sources(id),
    text                text NOT NULL,
    tlp                 smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    latitude            double precision,
    longitude           double precision,
    country             text,
    occurred_at         timestamptz,
    received_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX reports_provider_id ON reports (channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX reports_country ON reports (country, id);
CREATE INDEX reports_received ON reports (received_at);

CREATE TABLE incidents (
    id                  uuid PRIMARY KEY,
    event_date          date NOT NULL,
    date_precision      smallint NOT NULL,
    event_type          text NOT NULL,
    sub_event_type      text NOT NULL,
    country             text NOT NULL,
    admin1              text,
    admin2              text,
    location            text,
    latitude            double precision NOT NULL,
    longitude           double precision NOT NULL,
    geo_precision       smallint NOT NULL,
    actor1              text,
    actor2              text,
    targeted_group      text,
    fatalities          bigint NOT NULL,
    fatalities_low      bigint,
    fatalities_high     bigint,
    credibility         smallint NOT NULL,
    verification_status text NOT NULL,
    description         text NOT NULL,
    tlp                 smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    situation_id        uuid REFERENCES situations(id),
    report_ids          uuid[] NOT NULL DEFAULT '{}',
    dataset             text,
    external_id         text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint NOT NULL
);
CREATE INDEX incidents_country_date ON incidents (country, event_date);
CREATE INDEX incidents_date ON incidents (event_date);
CREATE INDEX incidents_lon_lat ON incidents (longitude, latitude);
CREATE UNIQUE INDEX incidents_provenance ON incidents (dataset, external_id)
    WHERE dataset IS NOT NULL AND external_id IS NOT NULL;

CREATE TABLE audit_log (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor_name  text NOT NULL,
    action      text NOT NULL,
    record_type text NOT NULL,
    record_id   text,
    -- JSON kept as text, not jsonb: it is hashed and must come back byte-exact.
    detail      text NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_record ON audit_log (record_type, record_id);

-- The end of the audit chain. Every audited write locks this one row (SELECT ... FOR UPDATE)
-- in its transaction, appends the next entry and moves the head, so appends from any number
-- of connections and processes form one linear chain.
CREATE TABLE audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (one, seq, hash)
    VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Guards: reports are immutable and never deleted; the audit log is append-only. Row triggers
-- refuse UPDATE and DELETE, statement triggers refuse TRUNCATE (which skips row triggers).
CREATE FUNCTION tocsin_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('reports are immutable');
CREATE TRIGGER reports_undeletable BEFORE DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('reports are never deleted');
CREATE TRIGGER reports_untruncatable BEFORE TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_refuse('reports are never deleted');
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('the audit log is append-only');
CREATE TRIGGER audit_undeletable BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('the audit log is append-only');
CREATE TRIGGER audit_untruncatable BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_refuse('the audit log is append-only');
