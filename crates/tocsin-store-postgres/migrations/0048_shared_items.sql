-- Records other than incidents shared between organisations (issue 20). What was sent to a
-- partner says what kind of record it was, so a retraction names the right STIX type.
ALTER TABLE partner_sent ADD COLUMN kind text NOT NULL DEFAULT 'incident';
-- Assessments, alerts, rumours and actions received from a partner: what the origin last sent
-- (JSON), read-only, with this organisation's own note. Where each came from is in
-- received_records (same id, kind naming it).
CREATE TABLE received_items (
    id         uuid PRIMARY KEY,
    kind       text NOT NULL,
    tlp        smallint NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    item       jsonb NOT NULL,
    note       text,
    note_by    text,
    noted_at   timestamptz
);
-- Preventive actions an analyst marked shareable, with the label they cross under.
CREATE TABLE shareable_actions (
    action_id  uuid PRIMARY KEY REFERENCES actions (id) ON DELETE CASCADE,
    tlp        smallint NOT NULL CHECK (tlp BETWEEN 0 AND 2),
    marked_by  text NOT NULL,
    marked_at  timestamptz NOT NULL
);
