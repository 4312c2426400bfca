-- Schema version 10: where the log check of a monitor on a host stopped
-- reading (JSON: path, device, inode, offset; '' when none), kept in the
-- same row as the alert state so one write moves both.

ALTER TABLE monitor_state ADD COLUMN log_cursor TEXT NOT NULL DEFAULT '';
