-- How staff are reached (issue 14): contact details and channel preferences per user, kept
-- apart from `users`, and the in-app inbox. `phone` is the E.164 number sealed with the
-- contact key, bound to the user's id; `channels` is JSON (severity -> channel names).
CREATE TABLE user_contacts (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    email       TEXT,
    phone       BLOB,
    channels    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE inbox_items (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    alert_id         TEXT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    subject          TEXT NOT NULL,
    link             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    read_at          TEXT
);
CREATE INDEX inbox_items_user ON inbox_items (user_id, created_at DESC, id DESC);
