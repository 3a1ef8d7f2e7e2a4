-- Escalation signals per clearance level: each signal carries the label it was computed at
-- (from incidents labelled at most that), unique per area, metric, week and label. Signals
-- stored before were computed from every incident, so they become TLP:RED (rank 4).
-- SQLite cannot change a table's UNIQUE constraint in place: the table is rebuilt.
CREATE TABLE signals_by_tlp (
    id         TEXT PRIMARY KEY,
    country    TEXT NOT NULL,
    admin1     TEXT NOT NULL DEFAULT '',
    metric     TEXT NOT NULL,
    week_start TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    tlp        INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 4),
    UNIQUE (country, admin1, metric, week_start, tlp)
);
INSERT INTO signals_by_tlp (id, country, admin1, metric, week_start, created_at, body, tlp)
SELECT id, country, admin1, metric, week_start, created_at,
       json_set(body, '$.tlp', 'TLP:RED'), 4
FROM signals;
DROP TABLE signals;
ALTER TABLE signals_by_tlp RENAME TO signals;
CREATE INDEX signals_week ON signals (tlp, week_start);
