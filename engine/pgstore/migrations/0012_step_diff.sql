-- Schema version 12: the change a file step made on a host (a unified diff
-- of the destination, secrets redacted, capped by the transport), for the
-- run page; '' when the step wrote nothing. It quotes what the host had:
-- BYTEA, like the step's output.

ALTER TABLE host_steps ADD COLUMN diff BYTEA NOT NULL DEFAULT '';
