-- Each user may read the web pages in one of the UI's languages (NULL: the browser's).
ALTER TABLE users ADD COLUMN language TEXT;
