-- Action plans (issue 14): actions of a situation drawn from the prevention toolbox. The
-- domain's JSON is in `body`; the columns are what lists filter on. An action has no label of
-- its own: it inherits its situation's. Overdue reminders: one row per action and due date,
-- so each lead is reminded once per due date whichever server (or restart) runs the job.
CREATE TABLE actions (
    id            uuid PRIMARY KEY,
    situation_id  uuid NOT NULL REFERENCES situations(id),
    measure_id    text NOT NULL,
    status        text NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    lead          text NOT NULL,
    desk_id       uuid,
    due_date      date NOT NULL,
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    body          jsonb NOT NULL
);
CREATE INDEX actions_situation ON actions (situation_id, id);
CREATE INDEX actions_lead ON actions (lead, id);
CREATE INDEX actions_open_due ON actions (due_date) WHERE status IN ('planned', 'in_progress');

CREATE TABLE action_reminders (
    action_id   uuid NOT NULL REFERENCES actions(id),
    due_date    date NOT NULL,
    lead        text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (action_id, due_date)
);
