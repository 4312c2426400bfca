-- Schema version 5: the one row the store's write probe rewrites
-- (Store.Probe) to find out whether the data directory takes writes again
-- after a full disk or an I/O error stopped them.

CREATE TABLE store_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
