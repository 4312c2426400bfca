-- Schema version 9: each host's last gathered facts (JSON), the last
-- attempt and its error, since when it has pending (security) updates,
-- and the history of fact changes.

CREATE TABLE host_facts (
  host           TEXT    NOT NULL PRIMARY KEY,
  facts          TEXT    NOT NULL DEFAULT '',
  gathered_at    INTEGER NOT NULL DEFAULT 0,
  attempt_at     INTEGER NOT NULL DEFAULT 0,
  error          TEXT    NOT NULL DEFAULT '',
  updates_since  INTEGER NOT NULL DEFAULT 0,
  security_since INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE fact_changes (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  host      TEXT    NOT NULL,
  at        INTEGER NOT NULL,
  fact      TEXT    NOT NULL,
  old_value TEXT    NOT NULL,
  new_value TEXT    NOT NULL
);
CREATE INDEX fact_changes_host ON fact_changes (host, id);
