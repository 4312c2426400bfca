-- Schema version 11: indexes for the listings of a large estate (issue 18):
-- runs filtered by actor, trigger or creation time, and the runs that
-- reached a host (the host page, GET /api/v1/runs?host=), each an index
-- range however many runs are kept. runs_job, runs_commit and runs_state
-- (version 1) serve the job, commit and state filters.

CREATE INDEX runs_actor ON runs (actor, id);
CREATE INDEX runs_trigger ON runs (trigger, id);
CREATE INDEX runs_created ON runs (created);
CREATE INDEX host_steps_host ON host_steps (host, run_id);
