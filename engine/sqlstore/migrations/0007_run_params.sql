-- Schema version 7: what a run was given. params holds the values of the
-- job's params as a JSON object (a sensitive param's value is "***": the
-- real one is never stored); exec holds an exec run's ad-hoc command as
-- JSON (command, timeout, max_parallel). Both are '' when the run has none.

ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN exec TEXT NOT NULL DEFAULT '';
