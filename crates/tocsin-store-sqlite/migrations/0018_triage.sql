-- Triage of reports (issue 16): decisions recorded on a report by a named person. Reports stay
-- immutable; a report is in the queue while no incident links it and no closing decision
-- (duplicate, rejected) names it, at most one of which a report may have.
CREATE TABLE report_triage (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    report_id     TEXT NOT NULL REFERENCES reports(id),
    kind          TEXT NOT NULL CHECK (kind IN ('duplicate', 'rejected', 'assigned', 'follow_up')),
    actor         TEXT NOT NULL,
    at            TEXT NOT NULL,
    reason        TEXT,
    of_kind       TEXT CHECK (of_kind IN ('report', 'incident')),
    of_id         TEXT,
    assignee      TEXT,
    text          TEXT
);
CREATE INDEX report_triage_report ON report_triage (report_id, seq);
CREATE UNIQUE INDEX report_triage_closed ON report_triage (report_id)
    WHERE kind IN ('duplicate', 'rejected');
CREATE TRIGGER report_triage_immutable BEFORE UPDATE ON report_triage
BEGIN SELECT RAISE(ABORT, 'triage decisions are never changed'); END;
CREATE TRIGGER report_triage_undeletable BEFORE DELETE ON report_triage
BEGIN SELECT RAISE(ABORT, 'triage decisions are never deleted'); END;
-- The incidents that link reports (few): the queue reads their links through this.
CREATE INDEX incidents_with_reports ON incidents (id) WHERE report_ids <> '[]';
