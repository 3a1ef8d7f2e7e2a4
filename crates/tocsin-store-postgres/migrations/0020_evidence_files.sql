-- Evidence files (issue 16): photos and documents attached to reports. Bytes are kept in the
-- database, so every server of a deployment serves the same files and a database backup holds
-- the evidence; content-addressed by the SHA-256 of their plaintext and stored once per role
-- (`original`: sealed by the application; `working`: metadata removed). A file record names
-- its report and both hashes; the domain's JSON is in `body`. Neither is ever changed or
-- deleted: evidence keeps its chain of custody.
CREATE TABLE evidence_blobs (
    sha256  text NOT NULL,
    role    text NOT NULL CHECK (role IN ('original', 'working')),
    size    bigint NOT NULL,
    bytes   bytea NOT NULL,
    PRIMARY KEY (sha256, role)
);

CREATE TABLE evidence_files (
    id              uuid PRIMARY KEY,
    report_id       uuid NOT NULL REFERENCES reports(id),
    sha256          text NOT NULL,
    working_sha256  text NOT NULL,
    created_at      timestamptz NOT NULL,
    body            jsonb NOT NULL,
    UNIQUE (report_id, sha256)
);

CREATE TRIGGER evidence_blobs_immutable BEFORE UPDATE OR DELETE ON evidence_blobs
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('evidence is immutable and never deleted');
CREATE TRIGGER evidence_blobs_untruncatable BEFORE TRUNCATE ON evidence_blobs
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_refuse('evidence is never deleted');
CREATE TRIGGER evidence_files_immutable BEFORE UPDATE OR DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION tocsin_refuse('evidence is immutable and never deleted');
CREATE TRIGGER evidence_files_untruncatable BEFORE TRUNCATE ON evidence_files
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_refuse('evidence is never deleted');
