-- The outbox becomes the delivery queue (issue 13): a delivery goes to a source, a user or an
-- outside address, and carries the TLP of its content (rank, 0 = CLEAR), checked against the recipient before
-- it leaves. Existing rows are replies to sources of TLP:CLEAR content (acknowledgements and
-- analysts' questions, written to be sent). `address` is sealed with the contact key, bound
-- to the delivery's id, and opened only at send time.
ALTER TABLE outbox ALTER COLUMN source_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN recipient_kind text NOT NULL DEFAULT 'source';
ALTER TABLE outbox ADD COLUMN user_id uuid REFERENCES users(id);
ALTER TABLE outbox ADD COLUMN address bytea;
ALTER TABLE outbox ADD COLUMN tlp smallint NOT NULL DEFAULT 0 CHECK (tlp BETWEEN 0 AND 4);
ALTER TABLE outbox ADD CONSTRAINT outbox_recipient CHECK (
    (recipient_kind = 'source' AND source_id IS NOT NULL)
    OR (recipient_kind = 'user' AND user_id IS NOT NULL AND address IS NOT NULL)
    OR (recipient_kind = 'address' AND address IS NOT NULL));
