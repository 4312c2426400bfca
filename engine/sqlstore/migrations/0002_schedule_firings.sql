-- Schema version 2: schedule firings, so a restart knows which cron times
-- it already handled. at is the cron time (Unix nanoseconds), recorded is
-- when ripple wrote the row.

CREATE TABLE schedule_firings (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	job      TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	outcome  TEXT    NOT NULL,
	error    TEXT    NOT NULL DEFAULT '',
	recorded INTEGER NOT NULL
);

CREATE INDEX schedule_firings_job_at ON schedule_firings (job, at);
