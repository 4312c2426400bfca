-- Schema version 6: the cluster's tables, as on PostgreSQL (the schemas of
-- both stores match). A daemon on SQLite is alone and never writes them:
-- several daemons share a PostgreSQL store.

CREATE TABLE cluster_lease (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  holder  TEXT    NOT NULL DEFAULT '',
  epoch   INTEGER NOT NULL DEFAULT 0,
  expires INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cluster_lease (id) VALUES (1);

CREATE TABLE cluster_nodes (
  name      TEXT PRIMARY KEY,
  url       TEXT    NOT NULL DEFAULT '',
  version   TEXT    NOT NULL DEFAULT '',
  started   INTEGER NOT NULL DEFAULT 0,
  heartbeat INTEGER NOT NULL DEFAULT 0,
  state     TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE cluster_actions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT    NOT NULL,
  dedupe_key    TEXT    NOT NULL DEFAULT '',
  payload       TEXT    NOT NULL DEFAULT '',
  node          TEXT    NOT NULL DEFAULT '',
  created       INTEGER NOT NULL,
  redo          INTEGER NOT NULL DEFAULT 0,
  claimed_epoch INTEGER NOT NULL DEFAULT 0,
  finished      INTEGER NOT NULL DEFAULT 0,
  outcome       TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX cluster_actions_key ON cluster_actions (dedupe_key) WHERE dedupe_key <> '';
CREATE INDEX cluster_actions_open ON cluster_actions (id) WHERE finished = 0;

CREATE TABLE notification_claims (
  monitor TEXT    NOT NULL,
  host    TEXT    NOT NULL,
  kind    TEXT    NOT NULL,
  node    TEXT    NOT NULL,
  at      INTEGER NOT NULL,
  PRIMARY KEY (monitor, host)
);
