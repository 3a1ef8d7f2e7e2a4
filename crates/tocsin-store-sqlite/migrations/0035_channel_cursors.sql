-- Where a polled inbound channel (Telegram's getUpdates) has read up to: the next offset to
-- ask for, so a restarted poller resumes there. Only ever moves forward.
CREATE TABLE channel_cursors (
    name        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
