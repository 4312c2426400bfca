-- Schema version 4: what each run and drift check found on each host, per
-- job, so that sync state (synced, out_of_sync with its reason, drifted,
-- unknown) survives restarts and later commits. error and drift_detail come
-- from hosts: BYTEA.

CREATE TABLE host_sync (
  job             TEXT   NOT NULL,
  host            TEXT   NOT NULL,
  deployed_fp     TEXT   NOT NULL DEFAULT '',
  deployed_commit TEXT   NOT NULL DEFAULT '',
  deployed_run    BIGINT NOT NULL DEFAULT 0,
  deployed_at     BIGINT NOT NULL DEFAULT 0,
  attempt_fp      TEXT   NOT NULL DEFAULT '',
  attempt_commit  TEXT   NOT NULL DEFAULT '',
  attempt_run     BIGINT NOT NULL DEFAULT 0,
  attempt_at      BIGINT NOT NULL DEFAULT 0,
  outcome         TEXT   NOT NULL DEFAULT '',
  error           BYTEA  NOT NULL DEFAULT '',
  drift_status    TEXT   NOT NULL DEFAULT '',
  drift_fp        TEXT   NOT NULL DEFAULT '',
  drift_detail    BYTEA  NOT NULL DEFAULT '',
  drift_at        BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (job, host)
);

-- The deployment before the current one, restored when the run that made
-- the current one rolls it back.
ALTER TABLE host_sync ADD COLUMN prev_fp TEXT NOT NULL DEFAULT '';
ALTER TABLE host_sync ADD COLUMN prev_commit TEXT NOT NULL DEFAULT '';
ALTER TABLE host_sync ADD COLUMN prev_run BIGINT NOT NULL DEFAULT 0;
ALTER TABLE host_sync ADD COLUMN prev_at BIGINT NOT NULL DEFAULT 0;
