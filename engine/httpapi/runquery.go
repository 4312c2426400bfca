package httpapi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Run listings: GET /api/v1/runs and the web UI's /runs read the same
// query parameters, and both page with a keyset (before, after) so that a
// page costs one index range however many runs the store keeps.

// DefaultRunLimit is a run listing's page size when the query sets none.
const DefaultRunLimit = 50

// StateActive, as a state filter, stands for every unfinished state.
const StateActive = "active"

// RunStates are the run states, in the order listings offer them.
var RunStates = []engine.RunState{
	engine.RunRunning, engine.RunWaitingApproval, engine.RunNeedsOperator, engine.RunWaitingWindow, engine.RunQueued,
	engine.RunFailed, engine.RunError, engine.RunAborted, engine.RunSucceeded,
}

// ParseRunFilter reads a run listing's query: job, commit, actor,
// trigger, host; state (comma-separated states, or "active"); since and
// until (a duration back from now such as 24h or 7d, a date 2006-01-02,
// a local date and time 2006-01-02T15:04, or RFC 3339); before and after
// (run ids: the keyset); order (newest, the default, or oldest); limit
// (1 to 1000, default DefaultRunLimit). Errors name the parameter.
func ParseRunFilter(q url.Values, now time.Time) (engine.RunFilter, error) {
	f := engine.RunFilter{
		Job: q.Get("job"), Commit: strings.ToLower(q.Get("commit")), Actor: q.Get("actor"),
		Trigger: q.Get("trigger"), Host: q.Get("host"), Limit: DefaultRunLimit,
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListRuns {
			return f, fmt.Errorf("limit must be a number from 1 to %d", maxListRuns)
		}
		f.Limit = n
	}
	for _, st := range strings.Split(q.Get("state"), ",") {
		switch rs := engine.RunState(strings.TrimSpace(st)); {
		case rs == "":
		case rs == StateActive:
			f.States = append(f.States, engine.UnfinishedStates...)
		case validState(rs):
			f.States = append(f.States, rs)
		default:
			return f, fmt.Errorf("unknown run state %q (states: %s, or %s)", st, joinStates(RunStates), StateActive)
		}
	}
	var err error
	if f.Since, err = parseWhen(q.Get("since"), now); err != nil {
		return f, fmt.Errorf("since: %w", err)
	}
	if f.Until, err = parseWhen(q.Get("until"), now); err != nil {
		return f, fmt.Errorf("until: %w", err)
	}
	for name, dst := range map[string]*int64{"before": &f.Before, "after": &f.After} {
		if s := q.Get(name); s != "" {
			n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
			if err != nil || n < 1 {
				return f, fmt.Errorf("%s must be a run id", name)
			}
			*dst = n
		}
	}
	switch q.Get("order") {
	case "", "newest":
	case "oldest":
		f.Oldest = true
	default:
		return f, fmt.Errorf("order must be newest or oldest")
	}
	return f, nil
}

func joinStates(states []engine.RunState) string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// parseWhen reads a point in time: "" is none; a duration (24h, 7d) is
// that long before now; else a date, a local date and time, or RFC 3339.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDays(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if layout == time.RFC3339Nano {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
			continue
		}
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use a duration back from now (24h, 7d), a date (2006-01-02) or 2006-01-02T15:04", s)
}
