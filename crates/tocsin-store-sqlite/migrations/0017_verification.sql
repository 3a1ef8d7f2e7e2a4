-- Verification desk (issue 16): verification states, their history and checklist, source
-- reliability history, and the information credibility of reports.
--
-- The verification states were renamed: partially_verified → corroborated, false → refuted.
UPDATE incidents SET verification_status = 'corroborated' WHERE verification_status = 'partially_verified';
UPDATE incidents SET verification_status = 'refuted' WHERE verification_status = 'false';

-- Every change of an incident's verification status: by whom (a username, or `system` for the
-- automatic corroboration rule), from, to, why. Never changed or deleted.
CREATE TABLE verification_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX verification_history_incident ON verification_history (incident_id, seq);
CREATE TRIGGER verification_history_immutable BEFORE UPDATE ON verification_history
BEGIN SELECT RAISE(ABORT, 'verification history is append-only'); END;
CREATE TRIGGER verification_history_undeletable BEFORE DELETE ON verification_history
BEGIN SELECT RAISE(ABORT, 'verification history is append-only'); END;

-- The checklist: a required task done for an incident, once.
CREATE TABLE verification_tasks (
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    task         TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    note         TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (incident_id, task)
);

-- Every grade a person set for a source, with the grade before.
CREATE TABLE reliability_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id    TEXT NOT NULL REFERENCES sources(id),
    from_grade   TEXT NOT NULL,
    to_grade     TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX reliability_history_source ON reliability_history (source_id, seq);
CREATE TRIGGER reliability_history_immutable BEFORE UPDATE ON reliability_history
BEGIN SELECT RAISE(ABORT, 'reliability history is append-only'); END;
CREATE TRIGGER reliability_history_undeletable BEFORE DELETE ON reliability_history
BEGIN SELECT RAISE(ABORT, 'reliability history is append-only'); END;

-- Information credibility of a report (reports themselves are immutable): absent means 6,
-- cannot be judged.
CREATE TABLE report_credibility (
    report_id    TEXT PRIMARY KEY REFERENCES reports(id),
    credibility  INTEGER NOT NULL CHECK (credibility BETWEEN 1 AND 6),
    by_name      TEXT NOT NULL,
    at           TEXT NOT NULL
);
