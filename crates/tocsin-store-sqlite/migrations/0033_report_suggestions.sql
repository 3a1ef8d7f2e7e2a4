-- Reports' suggested matches as the triage queue computed them (derived data, JSON the
-- application reads back), so a queue page need not match its reports on every request.
CREATE TABLE IF NOT EXISTS report_suggestions (
    report_id TEXT PRIMARY KEY REFERENCES reports(id) ON DELETE CASCADE,
    computed_at TEXT NOT NULL,
    matches TEXT NOT NULL
);
