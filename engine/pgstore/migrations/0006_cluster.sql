-- Schema version 6: several daemons sharing this database (a cluster).
-- The leader lease (one row: holder, epoch, expiry on the database's clock
-- in Unix nanoseconds), every node's heartbeats and published state, the
-- actions nodes hand to the leader, and which node claimed each alert and
-- recovery of a (monitor, host).

CREATE TABLE cluster_lease (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  holder  TEXT   NOT NULL DEFAULT '',
  epoch   BIGINT NOT NULL DEFAULT 0,
  expires BIGINT NOT NULL DEFAULT 0
);
INSERT INTO cluster_lease (id) VALUES (1);

CREATE TABLE cluster_nodes (
  name      TEXT PRIMARY KEY,
  url       TEXT   NOT NULL DEFAULT '',
  version   TEXT   NOT NULL DEFAULT '',
  started   BIGINT NOT NULL DEFAULT 0,
  heartbeat BIGINT NOT NULL DEFAULT 0,
  state     TEXT   NOT NULL DEFAULT ''
);

CREATE TABLE cluster_actions (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          TEXT    NOT NULL,
  dedupe_key    TEXT    NOT NULL DEFAULT '',
  payload       TEXT    NOT NULL DEFAULT '',
  node          TEXT    NOT NULL DEFAULT '',
  created       BIGINT  NOT NULL,
  redo          BOOLEAN NOT NULL DEFAULT FALSE,
  claimed_epoch BIGINT  NOT NULL DEFAULT 0,
  finished      BIGINT  NOT NULL DEFAULT 0,
  outcome       TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX cluster_actions_key ON cluster_actions (dedupe_key) WHERE dedupe_key <> '';
CREATE INDEX cluster_actions_open ON cluster_actions (id) WHERE finished = 0;

CREATE TABLE notification_claims (
  monitor TEXT   NOT NULL,
  host    TEXT   NOT NULL,
  kind    TEXT   NOT NULL,
  node    TEXT   NOT NULL,
  at      BIGINT NOT NULL,
  PRIMARY KEY (monitor, host)
);
