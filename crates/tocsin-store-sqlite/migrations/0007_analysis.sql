-- Risk analysis: permissions granted to named users, assessments, legal qualifications, tags,
-- forecast runs and escalation signals. Nested content (factor levels, observations, decisions)
-- is kept as the domain's JSON in `body`; the columns beside it are what queries need.

ALTER TABLE users ADD COLUMN grants TEXT NOT NULL DEFAULT '';

CREATE TABLE assessments (
    id           TEXT PRIMARY KEY,
    situation_id TEXT NOT NULL REFERENCES situations(id),
    framework    TEXT NOT NULL,
    as_of        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'reviewed', 'published')),
    tlp          INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    author_id    TEXT NOT NULL REFERENCES users(id),
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX assessments_situation ON assessments (situation_id, as_of, created_at);
CREATE TRIGGER assessments_published_immutable BEFORE UPDATE ON assessments
WHEN OLD.status = 'published'
BEGIN SELECT RAISE(ABORT, 'published assessments are immutable'); END;
CREATE TRIGGER assessments_undeletable BEFORE DELETE ON assessments
BEGIN SELECT RAISE(ABORT, 'assessments are never deleted'); END;

CREATE TABLE legal_qualifications (
    id           TEXT PRIMARY KEY,
    situation_id TEXT NOT NULL REFERENCES situations(id),
    crime        TEXT NOT NULL,
    tlp          INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    author_id    TEXT NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX legal_qualifications_situation ON legal_qualifications (situation_id, created_at);
CREATE TRIGGER legal_qualifications_immutable BEFORE UPDATE ON legal_qualifications
BEGIN SELECT RAISE(ABORT, 'legal qualifications are immutable'); END;
CREATE TRIGGER legal_qualifications_undeletable BEFORE DELETE ON legal_qualifications
BEGIN SELECT RAISE(ABORT, 'legal qualifications are never deleted'); END;

CREATE TABLE tags (
    kind      TEXT NOT NULL,
    record_id TEXT NOT NULL,
    tag       TEXT NOT NULL,
    PRIMARY KEY (kind, record_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag, kind);

CREATE TABLE forecast_runs (
    id         TEXT PRIMARY KEY,
    year       INTEGER NOT NULL,
    model      TEXT NOT NULL,
    data       TEXT NOT NULL,
    countries  INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE forecast_scores (
    run_id        TEXT NOT NULL REFERENCES forecast_runs(id),
    country       TEXT NOT NULL,
    rank          INTEGER NOT NULL,
    probability   REAL NOT NULL,
    contributions TEXT NOT NULL,
    PRIMARY KEY (run_id, country)
);
CREATE INDEX forecast_scores_country ON forecast_scores (country);

CREATE TABLE signals (
    id         TEXT PRIMARY KEY,
    country    TEXT NOT NULL,
    admin1     TEXT NOT NULL DEFAULT '',
    metric     TEXT NOT NULL,
    week_start TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    UNIQUE (country, admin1, metric, week_start)
);
CREATE INDEX signals_week ON signals (week_start);
