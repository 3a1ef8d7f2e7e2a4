-- Credentials can be withdrawn: API tokens expire (NULL: never, as for tokens made before
-- this migration), and a user's tokens and sessions are found by user for listing and for
-- ending them when the user is disabled or their password changes.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX sessions_user ON sessions (user_id);
