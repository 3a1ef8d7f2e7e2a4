-- Rumours (issue 16): claims heard in communities, with sightings (reports that repeat them,
-- how and where heard), a priority deadline and reminders to the desk once per deadline.
-- The domain's JSON is in `body`; the columns are what lists filter on. Ids are random.
CREATE TABLE rumours (
    id          uuid PRIMARY KEY,
    status      text NOT NULL,
    priority    text NOT NULL,
    country     text NOT NULL,
    tlp         smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    deadline    timestamptz NOT NULL,
    closed      boolean NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    body        jsonb NOT NULL
);
CREATE INDEX rumours_created ON rumours (created_at, id);
CREATE INDEX rumours_open_deadline ON rumours (deadline) WHERE NOT closed;

CREATE TABLE rumour_sightings (
    id          uuid PRIMARY KEY,
    rumour_id   uuid NOT NULL REFERENCES rumours(id),
    report_id   uuid NOT NULL REFERENCES reports(id),
    how         text NOT NULL,
    where_heard text NOT NULL,
    by_user     text NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (rumour_id, report_id)
);
CREATE INDEX rumour_sightings_report ON rumour_sightings (report_id);

CREATE TABLE rumour_reminders (
    rumour_id   uuid NOT NULL REFERENCES rumours(id),
    deadline    timestamptz NOT NULL,
    notified    integer NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (rumour_id, deadline)
);
