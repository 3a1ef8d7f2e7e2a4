-- Each user may read times in their own IANA time zone (NULL: UTC).
ALTER TABLE users ADD COLUMN time_zone TEXT;
