-- Alerting (issue 14): desks with their escalation policy and rota, alert rules, alerts and
-- their timelines. Each record's content is the domain's JSON (`body`) beside the columns
-- lists filter on.
CREATE TABLE desks (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    body        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE alert_rules (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    enabled     boolean NOT NULL,
    version     bigint NOT NULL,
    body        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE alerts (
    id            uuid PRIMARY KEY,
    rule_id       uuid,
    status        text NOT NULL,
    severity      integer NOT NULL,
    tlp           smallint NOT NULL,
    desk_id       uuid NOT NULL,
    situation_id  uuid,
    opened_at     timestamptz NOT NULL,
    version       bigint NOT NULL,
    body          jsonb NOT NULL
);
-- At most one alert not closed per rule: two evaluations at once cannot open two.
CREATE UNIQUE INDEX alerts_one_open_per_rule ON alerts (rule_id)
    WHERE rule_id IS NOT NULL AND status <> 'closed';
CREATE INDEX alerts_desk ON alerts (desk_id, id);
CREATE INDEX alerts_status ON alerts (status, id);

CREATE TABLE alert_timeline (
    seq       bigserial PRIMARY KEY,
    alert_id  uuid NOT NULL REFERENCES alerts (id),
    at        timestamptz NOT NULL,
    body      jsonb NOT NULL
);
CREATE INDEX alert_timeline_alert ON alert_timeline (alert_id, seq);
-- The timeline is a record of what happened: append-only.
CREATE FUNCTION alert_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the alert timeline is append-only';
END $$;
CREATE TRIGGER alert_timeline_no_change BEFORE UPDATE OR DELETE ON alert_timeline
    FOR EACH ROW EXECUTE FUNCTION alert_timeline_append_only();
