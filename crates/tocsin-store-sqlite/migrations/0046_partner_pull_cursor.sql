-- Where the last pull from each partner got to (a cursor its signed pages gave: version time
-- and id of the last record stored), so a cut pull resumes there and the next one brings only
-- what changed since. NULL: from the start.
ALTER TABLE partners ADD COLUMN pull_cursor TEXT;
