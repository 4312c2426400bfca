-- Schema version 12: the change a file step made on a host (a unified diff
-- of the destination, secrets redacted, capped by the transport), for the
-- run page; '' when the step wrote nothing.

ALTER TABLE host_steps ADD COLUMN diff TEXT NOT NULL DEFAULT '';
