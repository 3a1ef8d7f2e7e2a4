-- Incident lists are ordered by event date, newest first, then id.
DROP INDEX incidents_date;
CREATE INDEX incidents_date_id ON incidents (event_date, id);
