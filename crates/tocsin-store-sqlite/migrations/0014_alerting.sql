-- Alerting (issue 14): desks with their escalation policy and rota, alert rules, alerts and
-- their timelines. Each record's content is the domain's JSON (`body`) beside the columns
-- lists filter on.
CREATE TABLE desks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE alert_rules (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    enabled     INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    rule_id       TEXT,
    status        TEXT NOT NULL,
    severity      INTEGER NOT NULL,
    tlp           INTEGER NOT NULL,
    desk_id       TEXT NOT NULL,
    situation_id  TEXT,
    opened_at     TEXT NOT NULL,
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL
);
-- At most one alert not closed per rule: two evaluations at once cannot open two.
CREATE UNIQUE INDEX alerts_one_open_per_rule ON alerts (rule_id)
    WHERE rule_id IS NOT NULL AND status <> 'closed';
CREATE INDEX alerts_desk ON alerts (desk_id, id);
CREATE INDEX alerts_status ON alerts (status, id);

CREATE TABLE alert_timeline (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  TEXT NOT NULL REFERENCES alerts (id),
    at        TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX alert_timeline_alert ON alert_timeline (alert_id, seq);
-- The timeline is a record of what happened: append-only.
CREATE TRIGGER alert_timeline_no_update BEFORE UPDATE ON alert_timeline
BEGIN SELECT RAISE(ABORT, 'the alert timeline is append-only'); END;
CREATE TRIGGER alert_timeline_no_delete BEFORE DELETE ON alert_timeline
BEGIN SELECT RAISE(ABORT, 'the alert timeline is append-only'); END;
