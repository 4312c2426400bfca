-- Schema version 5: the one row the store's write probe rewrites, as in
-- SQLite (where the daemon probes a data directory that stopped taking
-- writes).

CREATE TABLE store_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at BIGINT NOT NULL
);
