-- Schema version 8: what operators do about alerts, shared by every node:
-- silences (a monitor, on one host or all, until a time), the latest
-- acknowledgement per monitor and host (of one state, begun at a time),
-- and their audit. monitor_state keeps when the last alert went out (for
-- repeat_interval) and why a state is suppressed (a parent down, a
-- dependency failing), so that every node can show it.

CREATE TABLE silences (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	monitor       TEXT    NOT NULL,
	host          TEXT    NOT NULL DEFAULT '', -- '': every host of the monitor
	actor         TEXT    NOT NULL DEFAULT '',
	reason        TEXT    NOT NULL DEFAULT '',
	created       INTEGER NOT NULL,
	ends          INTEGER NOT NULL,
	expired_by    TEXT    NOT NULL DEFAULT '',
	expire_reason TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX silences_ends ON silences (ends);

CREATE TABLE acks (
	monitor     TEXT    NOT NULL,
	host        TEXT    NOT NULL,
	state       INTEGER NOT NULL,
	state_since INTEGER NOT NULL,
	actor       TEXT    NOT NULL DEFAULT '',
	reason      TEXT    NOT NULL DEFAULT '',
	at          INTEGER NOT NULL,
	PRIMARY KEY (monitor, host)
) WITHOUT ROWID;

CREATE TABLE alert_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	action     TEXT    NOT NULL,
	monitor    TEXT    NOT NULL,
	host       TEXT    NOT NULL DEFAULT '',
	actor      TEXT    NOT NULL DEFAULT '',
	reason     TEXT    NOT NULL DEFAULT '',
	silence_id INTEGER NOT NULL DEFAULT 0,
	until      INTEGER NOT NULL DEFAULT 0,
	state      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_events_monitor ON alert_events (monitor, id);

ALTER TABLE monitor_state ADD COLUMN notified_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitor_state ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';
