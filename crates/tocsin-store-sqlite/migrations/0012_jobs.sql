-- The job runner (issue 13): leases so that one server on a database runs a singleton job,
-- one-off timers that fire after a restart, and each job's last outcome for /healthz.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE job_timers (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    key         TEXT,
    payload     TEXT NOT NULL,
    fire_at     TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claim_until TEXT,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    done_at     TEXT
);
-- One pending timer per key.
CREATE UNIQUE INDEX job_timers_key ON job_timers (key) WHERE key IS NOT NULL AND done_at IS NULL;
CREATE INDEX job_timers_due ON job_timers (fire_at) WHERE done_at IS NULL;

CREATE TABLE job_status (
    name           TEXT PRIMARY KEY,
    last_ok        TEXT,
    last_error     TEXT,
    last_error_at  TEXT,
    failing_since  TEXT,
    backlog        INTEGER,
    updated_at     TEXT NOT NULL
);
