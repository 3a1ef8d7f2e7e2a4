-- Rumours (issue 16): claims heard in communities, with sightings (reports that repeat them,
-- how and where heard), a priority deadline and reminders to the desk once per deadline.
-- The domain's JSON is in `body`; the columns are what lists filter on. Ids are random.
CREATE TABLE rumours (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    country     TEXT NOT NULL,
    tlp         INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    deadline    TEXT NOT NULL,
    closed      INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX rumours_created ON rumours (created_at, id);
CREATE INDEX rumours_open_deadline ON rumours (deadline) WHERE closed = 0;

CREATE TABLE rumour_sightings (
    id          TEXT PRIMARY KEY,
    rumour_id   TEXT NOT NULL REFERENCES rumours(id),
    report_id   TEXT NOT NULL REFERENCES reports(id),
    how         TEXT NOT NULL,
    where_heard TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (rumour_id, report_id)
);
CREATE INDEX rumour_sightings_report ON rumour_sightings (report_id);

CREATE TABLE rumour_reminders (
    rumour_id   TEXT NOT NULL REFERENCES rumours(id),
    deadline    TEXT NOT NULL,
    notified    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (rumour_id, deadline)
);
