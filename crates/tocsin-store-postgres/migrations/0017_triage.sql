-- Triage of reports (issue 16): decisions recorded on a report by a named person. Reports stay
-- immutable; a report is in the queue while no incident links it and no closing decision
-- (duplicate, rejected) names it, at most one of which a report may have.
CREATE TABLE report_triage (
    seq           bigserial PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    report_id     uuid NOT NULL REFERENCES reports(id),
    kind          text NOT NULL CHECK (kind IN ('duplicate', 'rejected', 'assigned', 'follow_up')),
    actor         text NOT NULL,
    at            timestamptz NOT NULL,
    reason        text,
    of_kind       text CHECK (of_kind IN ('report', 'incident')),
    of_id         uuid,
    assignee      text,
    text          text
);
CREATE INDEX report_triage_report ON report_triage (report_id, seq);
CREATE UNIQUE INDEX report_triage_closed ON report_triage (report_id)
    WHERE kind IN ('duplicate', 'rejected');
CREATE TRIGGER report_triage_immutable BEFORE UPDATE OR DELETE ON report_triage
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('triage decisions are never changed');
CREATE TRIGGER report_triage_untruncatable BEFORE TRUNCATE ON report_triage
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_refuse('triage decisions are never deleted');
-- Which incidents link a report: the queue and a report's page look links up through this.
CREATE INDEX incidents_report_ids ON incidents USING gin (report_ids);
