-- Schema version 1: runs, the host-step journal, audit events, last applied
-- commits, the commit status outbox, webhook deliveries, metrics and monitor
-- state. Times are INTEGER Unix nanoseconds (0 = unset) unless noted.

CREATE TABLE runs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	job          TEXT    NOT NULL,
	commit_sha   TEXT    NOT NULL,
	branch       TEXT    NOT NULL DEFAULT '',
	trigger      TEXT    NOT NULL DEFAULT '',
	actor        TEXT    NOT NULL DEFAULT '',
	reason       TEXT    NOT NULL DEFAULT '',
	state        TEXT    NOT NULL,
	waves        TEXT    NOT NULL DEFAULT 'null', -- JSON [][]string
	current_wave INTEGER NOT NULL DEFAULT 0,
	summary      TEXT    NOT NULL DEFAULT '',
	error        TEXT    NOT NULL DEFAULT '',
	created      INTEGER NOT NULL DEFAULT 0,
	started      INTEGER NOT NULL DEFAULT 0,
	finished     INTEGER NOT NULL DEFAULT 0,
	updated      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_job ON runs (job, id);
CREATE INDEX runs_commit ON runs (commit_sha, id);
CREATE INDEX runs_state ON runs (state, id);

CREATE TABLE host_steps (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	wave      INTEGER NOT NULL,
	host      TEXT    NOT NULL,
	step      TEXT    NOT NULL,
	rollback  INTEGER NOT NULL DEFAULT 0,
	phase     TEXT    NOT NULL,
	status    TEXT    NOT NULL DEFAULT '',
	exit_code INTEGER NOT NULL DEFAULT 0,
	stdout    TEXT    NOT NULL DEFAULT '',
	stderr    TEXT    NOT NULL DEFAULT '',
	error     TEXT    NOT NULL DEFAULT '',
	started   INTEGER NOT NULL DEFAULT 0,
	duration  INTEGER NOT NULL DEFAULT 0, -- nanoseconds
	backup    TEXT,                       -- JSON engine.Backup, NULL when none
	updated   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (run_id, host, step, rollback)
);

CREATE TABLE events (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id INTEGER NOT NULL DEFAULT 0, -- 0: not about one run
	at     INTEGER NOT NULL,
	actor  TEXT    NOT NULL DEFAULT '',
	action TEXT    NOT NULL,
	reason TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_run ON events (run_id, id);

CREATE TABLE last_applied (
	branch     TEXT PRIMARY KEY,
	commit_sha TEXT    NOT NULL,
	updated    INTEGER NOT NULL
) WITHOUT ROWID;

-- statuses is both the local view and the outbox: version counts SetStatus
-- calls, delivered_version is the version last delivered, and queued orders
-- the outbox (it is set when an entry becomes undelivered and kept while it
-- stays so, so a status that keeps changing is not starved).
CREATE TABLE statuses (
	commit_sha        TEXT    NOT NULL,
	context           TEXT    NOT NULL,
	state             TEXT    NOT NULL,
	description       TEXT    NOT NULL DEFAULT '',
	target_url        TEXT    NOT NULL DEFAULT '',
	updated           INTEGER NOT NULL,
	version           INTEGER NOT NULL DEFAULT 1,
	delivered_version INTEGER NOT NULL DEFAULT 0,
	queued            INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (commit_sha, context)
) WITHOUT ROWID;
CREATE INDEX statuses_outbox ON statuses (queued) WHERE version > delivered_version;

CREATE TABLE webhook_deliveries (
	id        TEXT PRIMARY KEY,
	event     TEXT    NOT NULL,
	received  INTEGER NOT NULL,
	processed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received);

-- Raw samples (kept 2 days) and 5-minute rollups (kept 90 days); ts and
-- bucket are Unix milliseconds.
CREATE TABLE metrics_raw (
	monitor TEXT    NOT NULL,
	host    TEXT    NOT NULL,
	metric  TEXT    NOT NULL,
	ts      INTEGER NOT NULL,
	value   REAL    NOT NULL
);
CREATE INDEX metrics_raw_series ON metrics_raw (monitor, host, metric, ts);
CREATE INDEX metrics_raw_ts ON metrics_raw (ts);

CREATE TABLE metrics_5m (
	monitor TEXT    NOT NULL,
	host    TEXT    NOT NULL,
	metric  TEXT    NOT NULL,
	bucket  INTEGER NOT NULL,
	sum     REAL    NOT NULL,
	count   INTEGER NOT NULL,
	PRIMARY KEY (monitor, host, metric, bucket)
) WITHOUT ROWID;
CREATE INDEX metrics_5m_bucket ON metrics_5m (bucket);

CREATE TABLE monitor_state (
	monitor     TEXT    NOT NULL,
	host        TEXT    NOT NULL,
	state       INTEGER NOT NULL,
	since       INTEGER NOT NULL DEFAULT 0,
	consecutive INTEGER NOT NULL DEFAULT 0,
	firing      INTEGER NOT NULL DEFAULT 0,
	notified    INTEGER NOT NULL DEFAULT 0,
	last_output TEXT    NOT NULL DEFAULT '',
	last_at     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (monitor, host)
) WITHOUT ROWID;
