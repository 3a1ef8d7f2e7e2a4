-- A situation may cover several first-level administrative areas (issue 18): a JSON array of
-- names, filled from the single `admin1` of situations opened before. `admin1` keeps the
-- first area for readers of the old column.
ALTER TABLE situations ADD COLUMN admin1_areas TEXT NOT NULL DEFAULT '[]';
UPDATE situations SET admin1_areas = json_array(trim(admin1))
    WHERE admin1 IS NOT NULL AND trim(admin1) <> '';
-- The situation dashboard's trend counts the incidents of a situation beside those of its
-- area; few incidents name a situation, so the index holds only those.
CREATE INDEX IF NOT EXISTS incidents_situation ON incidents (situation_id)
    WHERE situation_id IS NOT NULL;
