-- Evidence files (issue 16): photos and documents attached to reports. Bytes are kept in the
-- database, content-addressed by the SHA-256 of their plaintext and stored once per role
-- (`original`: sealed by the application; `working`: metadata removed). A file record names
-- its report and both hashes; the domain's JSON is in `body`. Neither is ever changed or
-- deleted: evidence keeps its chain of custody.
CREATE TABLE evidence_blobs (
    sha256  TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('original', 'working')),
    size    INTEGER NOT NULL,
    bytes   BLOB NOT NULL,
    PRIMARY KEY (sha256, role)
);

CREATE TABLE evidence_files (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES reports(id),
    sha256          TEXT NOT NULL,
    working_sha256  TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    body            TEXT NOT NULL,
    UNIQUE (report_id, sha256)
);

CREATE TRIGGER evidence_blobs_immutable BEFORE UPDATE ON evidence_blobs
BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
CREATE TRIGGER evidence_blobs_undeletable BEFORE DELETE ON evidence_blobs
BEGIN SELECT RAISE(ABORT, 'evidence is never deleted'); END;
CREATE TRIGGER evidence_files_immutable BEFORE UPDATE ON evidence_files
BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
CREATE TRIGGER evidence_files_undeletable BEFORE DELETE ON evidence_files
BEGIN SELECT RAISE(ABORT, 'evidence is never deleted'); END;
