-- Verification desk (issue 16): verification states, their history and checklist, source
-- reliability history, and the information credibility of reports.
--
-- The verification states were renamed: partially_verified → corroborated, false → refuted.
UPDATE incidents SET verification_status = 'corroborated' WHERE verification_status = 'partially_verified';
UPDATE incidents SET verification_status = 'refuted' WHERE verification_status = 'false';

-- Every change of an incident's verification status: by whom (a username, or `system` for the
-- automatic corroboration rule), from, to, why. Never changed or deleted.
CREATE TABLE verification_history (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    by_name      text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX verification_history_incident ON verification_history (incident_id, seq);
CREATE TRIGGER verification_history_immutable BEFORE UPDATE ON verification_history
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('verification history is append-only');
CREATE TRIGGER verification_history_undeletable BEFORE DELETE ON verification_history
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('verification history is append-only');

-- The checklist: a required task done for an incident, once.
CREATE TABLE verification_tasks (
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    task         text NOT NULL,
    by_name      text NOT NULL,
    note         text NOT NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (incident_id, task)
);

-- Every grade a person set for a source, with the grade before.
CREATE TABLE reliability_history (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    uuid NOT NULL REFERENCES sources(id),
    from_grade   text NOT NULL,
    to_grade     text NOT NULL,
    by_name      text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX reliability_history_source ON reliability_history (source_id, seq);
CREATE TRIGGER reliability_history_immutable BEFORE UPDATE ON reliability_history
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('reliability history is append-only');
CREATE TRIGGER reliability_history_undeletable BEFORE DELETE ON reliability_history
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('reliability history is append-only');

-- Information credibility of a report (reports themselves are immutable): absent means 6,
-- cannot be judged.
CREATE TABLE report_credibility (
    report_id    uuid PRIMARY KEY REFERENCES reports(id),
    credibility  smallint NOT NULL CHECK (credibility BETWEEN 1 AND 6),
    by_name      text NOT NULL,
    at           timestamptz NOT NULL
);
