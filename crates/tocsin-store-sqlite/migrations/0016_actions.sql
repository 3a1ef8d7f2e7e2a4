-- Action plans (issue 14): actions of a situation drawn from the prevention toolbox. The
-- domain's JSON is in `body`; the columns are what lists filter on. An action has no label of
-- its own: it inherits its situation's. Overdue reminders: one row per action and due date,
-- so each lead is reminded once per due date whichever server (or restart) runs the job.
CREATE TABLE actions (
    id            TEXT PRIMARY KEY,
    situation_id  TEXT NOT NULL REFERENCES situations(id),
    measure_id    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    lead          TEXT NOT NULL,
    desk_id       TEXT,
    due_date      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX actions_situation ON actions (situation_id, id);
CREATE INDEX actions_lead ON actions (lead, id);
CREATE INDEX actions_open_due ON actions (due_date) WHERE status IN ('planned', 'in_progress');

CREATE TABLE action_reminders (
    action_id   TEXT NOT NULL REFERENCES actions(id),
    due_date    TEXT NOT NULL,
    lead        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (action_id, due_date)
);
