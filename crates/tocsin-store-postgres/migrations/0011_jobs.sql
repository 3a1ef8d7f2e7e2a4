-- The job runner (issue 13): leases so that one server on a database runs a singleton job,
-- one-off timers that fire after a restart, and each job's last outcome for /healthz.
CREATE TABLE job_leases (
    name        text PRIMARY KEY,
    owner       text NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE TABLE job_timers (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL,
    key         text,
    payload     jsonb NOT NULL,
    fire_at     timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    claimed_by  text,
    claim_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL,
    done_at     timestamptz
);
-- One pending timer per key.
CREATE UNIQUE INDEX job_timers_key ON job_timers (key) WHERE key IS NOT NULL AND done_at IS NULL;
CREATE INDEX job_timers_due ON job_timers (fire_at) WHERE done_at IS NULL;

CREATE TABLE job_status (
    name           text PRIMARY KEY,
    last_ok        timestamptz,
    last_error     text,
    last_error_at  timestamptz,
    failing_since  timestamptz,
    backlog        bigint,
    updated_at     timestamptz NOT NULL
);
