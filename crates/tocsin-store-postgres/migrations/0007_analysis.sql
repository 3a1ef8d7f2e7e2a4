-- Risk analysis: permissions granted to named users, assessments, legal qualifications, tags,
-- forecast runs and escalation signals. Nested content (factor levels, observations, decisions)
-- is kept as the domain's JSON in `body`; the columns beside it are what queries need.

ALTER TABLE users ADD COLUMN grants text NOT NULL DEFAULT '';

CREATE TABLE assessments (
    id           uuid PRIMARY KEY,
    situation_id uuid NOT NULL REFERENCES situations(id),
    framework    text NOT NULL,
    as_of        date NOT NULL,
    status       text NOT NULL CHECK (status IN ('draft', 'reviewed', 'published')),
    tlp          smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    author_id    uuid NOT NULL REFERENCES users(id),
    version      bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    body         jsonb NOT NULL
);
CREATE INDEX assessments_situation ON assessments (situation_id, as_of, created_at);
CREATE TRIGGER assessments_published_immutable BEFORE UPDATE ON assessments
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION tocsin_refuse('published assessments are immutable');
CREATE TRIGGER assessments_undeletable BEFORE DELETE ON assessments
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('assessments are never deleted');

CREATE TABLE legal_qualifications (
    id           uuid PRIMARY KEY,
    situation_id uuid NOT NULL REFERENCES situations(id),
    crime        text NOT NULL,
    tlp          smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    author_id    uuid NOT NULL REFERENCES users(id),
    created_at   timestamptz NOT NULL,
    body         jsonb NOT NULL
);
CREATE INDEX legal_qualifications_situation ON legal_qualifications (situation_id, created_at);
CREATE TRIGGER legal_qualifications_immutable BEFORE UPDATE ON legal_qualifications
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('legal qualifications are immutable');
CREATE TRIGGER legal_qualifications_undeletable BEFORE DELETE ON legal_qualifications
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('legal qualifications are never deleted');

CREATE TABLE tags (
    kind      text NOT NULL,
    record_id uuid NOT NULL,
    tag       text NOT NULL,
    PRIMARY KEY (kind, record_id, tag)
);
CREATE INDEX tags_by_tag ON tags (tag, kind);

CREATE TABLE forecast_runs (
    id         uuid PRIMARY KEY,
    year       integer NOT NULL,
    model      text NOT NULL,
    data       text NOT NULL,
    countries  integer NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE forecast_scores (
    run_id        uuid NOT NULL REFERENCES forecast_runs(id),
    country       text NOT NULL,
    rank          integer NOT NULL,
    probability   double precision NOT NULL,
    contributions jsonb NOT NULL,
    PRIMARY KEY (run_id, country)
);
CREATE INDEX forecast_scores_country ON forecast_scores (country);

CREATE TABLE signals (
    id         uuid PRIMARY KEY,
    country    text NOT NULL,
    admin1     text NOT NULL DEFAULT '',
    metric     text NOT NULL,
    week_start date NOT NULL,
    created_at timestamptz NOT NULL,
    body       jsonb NOT NULL,
    UNIQUE (country, admin1, metric, week_start)
);
CREATE INDEX signals_week ON signals (week_start);
