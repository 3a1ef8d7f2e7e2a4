-- Tocsin-to-Tocsin sharing. A partner is another organisation's Tocsin: its name here (the
-- origin its records are received under), base URL, Ed25519 public key (base64), the highest
-- label it may receive (never TLP:RED: rank 4 is refused) and the countries it is limited to
-- (alpha-3 codes, comma-separated; empty: every one). For pushes over HTTPS: the SHA-256 of the
-- token this installation gave the partner (its pushes here carry it), and the token the
-- partner gave this installation, sealed like the signing key.
CREATE TABLE partners (
    name        TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    max_tlp     INTEGER NOT NULL CHECK (max_tlp BETWEEN 0 AND 3),
    countries   TEXT NOT NULL DEFAULT '',
    added_at    TEXT NOT NULL,
    inbound_token_hash TEXT UNIQUE,
    push_token  BLOB
);
-- What was sent to each partner, so a record that no longer may cross is sent as retracted.
CREATE TABLE partner_sent (
    partner       TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    modified      TEXT NOT NULL,
    tlp           INTEGER NOT NULL CHECK (tlp BETWEEN 0 AND 3),
    retracted_at  TEXT,
    sent_at       TEXT NOT NULL,
    PRIMARY KEY (partner, record_id)
);
-- This installation's Ed25519 signing key, sealed with a key derived from the contact key.
CREATE TABLE signing_key (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    sealed  BLOB NOT NULL
);
