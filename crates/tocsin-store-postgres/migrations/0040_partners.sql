-- Tocsin-to-Tocsin sharing. A partner is another organisation's Tocsin: its name here (the
-- origin its records are received under), base URL, Ed25519 public key (base64), the highest
-- label it may receive (never TLP:RED: rank 4 is refused) and the countries it is limited to
-- (alpha-3 codes, comma-separated; empty: every one). For pushes over HTTPS: the SHA-256 of the
-- token this installation gave the partner (its pushes here carry it), and the token the
-- partner gave this installation, sealed like the signing key.
CREATE TABLE partners (
    name        text PRIMARY KEY,
    url         text NOT NULL,
    public_key  text NOT NULL,
    max_tlp     smallint NOT NULL CHECK (max_tlp BETWEEN 0 AND 3),
    countries   text NOT NULL DEFAULT '',
    added_at    timestamptz NOT NULL,
    inbound_token_hash text UNIQUE,
    push_token  bytea
);
-- What was sent to each partner, so a record that no longer may cross is sent as retracted.
CREATE TABLE partner_sent (
    partner       text NOT NULL,
    record_id     uuid NOT NULL,
    modified      timestamptz NOT NULL,
    tlp           smallint NOT NULL CHECK (tlp BETWEEN 0 AND 3),
    retracted_at  timestamptz,
    sent_at       timestamptz NOT NULL,
    PRIMARY KEY (partner, record_id)
);
-- This installation's Ed25519 signing key, sealed with a key derived from the contact key.
CREATE TABLE signing_key (
    id      smallint PRIMARY KEY CHECK (id = 1),
    sealed  bytea NOT NULL
);
