-- Incident lists are answered by the server's in-memory index (ids of one page), which reads
-- the rows by primary key: the three list indexes are no longer needed, and a large import no
-- longer spends a third of its time rebuilding them. The provenance index (upserts) and the
-- (updated_at, id) index (the in-memory index refreshes through it) stay.
DROP INDEX IF EXISTS incidents_country_date;
DROP INDEX IF EXISTS incidents_date_id;
DROP INDEX IF EXISTS incidents_lon_lat;
