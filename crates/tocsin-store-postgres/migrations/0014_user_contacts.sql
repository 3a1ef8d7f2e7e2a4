-- How staff are reached (issue 14): contact details and channel preferences per user, kept
-- apart from `users`, and the in-app inbox. `phone` is the E.164 number sealed with the
-- contact key, bound to the user's id; `channels` is JSON (severity -> channel names).
CREATE TABLE user_contacts (
    user_id     uuid PRIMARY KEY REFERENCES users(id),
    email       text,
    phone       bytea,
    channels    text NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE inbox_items (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users(id),
    alert_id         uuid,
    idempotency_key  text NOT NULL UNIQUE,
    subject          text NOT NULL,
    link             text NOT NULL,
    created_at       timestamptz NOT NULL,
    read_at          timestamptz
);
CREATE INDEX inbox_items_user ON inbox_items (user_id, created_at DESC, id DESC);
