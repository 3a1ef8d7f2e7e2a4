-- UCDP type of violence (1 state-based, 2 non-state, 3 one-sided) on incidents.
ALTER TABLE incidents ADD COLUMN violence_type SMALLINT;
