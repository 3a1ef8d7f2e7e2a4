-- Escalation signals per clearance level: each signal carries the label it was computed at
-- (from incidents labelled at most that), unique per area, metric, week and label. Signals
-- stored before were computed from every incident, so they become TLP:RED (rank 4).
ALTER TABLE signals ADD COLUMN tlp smallint NOT NULL DEFAULT 4 CHECK (tlp BETWEEN 0 AND 4);
ALTER TABLE signals ALTER COLUMN tlp DROP DEFAULT;
UPDATE signals SET body = jsonb_set(body, '{tlp}', '"TLP:RED"');
ALTER TABLE signals DROP CONSTRAINT signals_country_admin1_metric_week_start_key;
ALTER TABLE signals ADD CONSTRAINT signals_area_week_tlp_key
    UNIQUE (country, admin1, metric, week_start, tlp);
DROP INDEX signals_week;
CREATE INDEX signals_week ON signals (tlp, week_start);
