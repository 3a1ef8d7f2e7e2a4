-- The map index refreshes incidents by last change.
CREATE INDEX incidents_updated ON incidents (updated_at, id);
