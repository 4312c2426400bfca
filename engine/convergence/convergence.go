// Package convergence works out whether the fleet has what Git says:
// the sync state of each (job, host) at the applied head from what the
// store recorded of runs and drift checks (DeriveSync, JobSyncs), how it
// reads for people, and what that state adds to a plan (AnnotatePlan).
// The records it reasons from (engine.HostSync, engine.SyncStore) are
// engine's; gitops keeps them, and the surfaces (httpapi, webui, the CLI)
// show what this package derives from them. It imports only engine and
// definitions and starts no goroutines.
package convergence

import (
	"slices"
	"sort"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// HostSyncState is the sync state of one job on one host at the applied
// head, as the API, the UI and statuses show it.
type HostSyncState struct {
	Job   string           `json:"-"`
	Host  string           `json:"host"`
	State engine.SyncState `json:"state"`
	// Reason says why a pair is out of sync; for failed, aborted and
	// rolled_back, ReasonCommit is the commit of that run.
	Reason       string    `json:"reason,omitempty"`
	ReasonCommit string    `json:"reason_commit,omitempty"`
	Run          int64     `json:"run,omitempty"` // the run that last succeeded or, when out of sync, last tried
	Detail       string    `json:"detail,omitempty"`
	Deployed     string    `json:"deployed_commit,omitempty"`
	Desired      string    `json:"desired_commit"`
	Since        time.Time `json:"since,omitzero"`
}

// DeriveSync works out the state of a pair from its record and the
// fingerprint the applied head (commit desiredCommit) gives it.
func DeriveSync(desired, desiredCommit string, rec engine.HostSync) HostSyncState {
	s := HostSyncState{Job: rec.Job, Host: rec.Host, Desired: desiredCommit, Deployed: rec.Deployed.Commit, Run: rec.Deployed.Run}
	d := rec.Drift
	switch {
	case !rec.Deployed.IsZero() && rec.Deployed.Fingerprint == desired:
		s.State, s.Since = engine.SyncSynced, rec.Deployed.At
		if d.Fingerprint == desired && d.At.After(rec.Deployed.At) {
			switch d.Status {
			case engine.DriftDrifted:
				s.State, s.Since, s.Detail = engine.SyncDrifted, d.At, d.Detail
			case engine.DriftUnknown:
				s.State, s.Since, s.Detail = engine.SyncUnknown, d.At, d.Detail
			}
		}
	case !rec.Attempt.IsZero() && rec.Attempt.Fingerprint == desired && rec.Outcome != "":
		s.State, s.Reason, s.ReasonCommit = engine.SyncOutOfSync, rec.Outcome, rec.Attempt.Commit
		s.Run, s.Since, s.Detail = rec.Attempt.Run, rec.Attempt.At, rec.Error
	case rec.Deployed.IsZero():
		s.State, s.Reason = engine.SyncOutOfSync, engine.ReasonNeverRan
		if !rec.Attempt.IsZero() {
			s.Since = rec.Attempt.At
		}
	default:
		s.State, s.Reason, s.Since = engine.SyncOutOfSync, engine.ReasonChanged, rec.Deployed.At
	}
	return s
}

// NeedsSync reports whether a sync run should visit the pair: it is out
// of sync or drifted.
func (s HostSyncState) NeedsSync() bool {
	return s.State == engine.SyncOutOfSync || s.State == engine.SyncDrifted
}

// ReasonText is the state for people: "synced", "out of sync (failed at
// abc1234)", "drifted".
func (s HostSyncState) ReasonText() string {
	switch s.State {
	case engine.SyncOutOfSync:
		switch s.Reason {
		case engine.ReasonFailed, engine.ReasonAborted, engine.ReasonRolledBack:
			what := map[string]string{engine.ReasonFailed: "failed", engine.ReasonAborted: "aborted", engine.ReasonRolledBack: "rolled back"}[s.Reason]
			return "out of sync (" + what + " at " + engine.ShortCommit(s.ReasonCommit) + ")"
		case engine.ReasonNeverRan:
			return "out of sync (never ran)"
		default:
			return "out of sync (changed since " + engine.ShortCommit(s.Deployed) + ")"
		}
	case engine.SyncDrifted:
		return "drifted"
	case engine.SyncUnknown:
		return "unknown (unreachable at the last drift check)"
	}
	return string(s.State)
}

// JobSync is the sync state of one job on each of its target hosts at the
// applied head; GET /api/v1/sync returns a list of them.
type JobSync struct {
	Job   string          `json:"job"`
	Hosts []HostSyncState `json:"hosts"`
	// SelfHeal says what self-healing does next, when the job has it:
	// "on", or why it waits ("after 2 failed self-heal runs, next not
	// before 2026-12-04T10:00:00Z").
	SelfHeal string `json:"self_heal,omitempty"`
}

// Count counts the job's hosts in state st.
func (j JobSync) Count(st engine.SyncState) int {
	n := 0
	for _, h := range j.Hosts {
		if h.State == st {
			n++
		}
	}
	return n
}

// JobSyncs derives the sync state of each of jobs on its target hosts from
// the records of a store: desired gives a job's fingerprint per target host
// at the commit whose definitions are being compared (see
// definitions.Fingerprints.Job), commit that commit.
func JobSyncs(jobs []string, desired func(job string) map[string]string, commit string, recs []engine.HostSync) []JobSync {
	byPair := make(map[[2]string]engine.HostSync, len(recs))
	for _, r := range recs {
		byPair[[2]string{r.Job, r.Host}] = r
	}
	out := make([]JobSync, 0, len(jobs))
	for _, name := range jobs {
		js := JobSync{Job: name, Hosts: []HostSyncState{}}
		fps := desired(name)
		hosts := make([]string, 0, len(fps))
		for h := range fps {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, host := range hosts {
			rec, ok := byPair[[2]string{name, host}]
			if !ok {
				rec = engine.HostSync{Job: name, Host: host}
			}
			js.Hosts = append(js.Hosts, DeriveSync(fps[host], commit, rec))
		}
		out = append(out, js)
	}
	return out
}

// AnnotatePlan adds to a plan of defs what the fleet's state says: for
// each planned job, the gate checks of its planned hosts that fail now
// (monitors: the current states; nil when unknown); and the pairs out of
// sync or drifted that the plan does not run (syncs: the sync state at
// the applied head; nil when unknown). The work is that of the failing
// and out-of-sync pairs and of the jobs they concern: a plan may hold
// millions of planned pairs, and only a job with something to say has
// its hosts looked at, one job at a time.
func AnnotatePlan(p *definitions.PlanResult, defs *definitions.Definitions, syncs []JobSync, monitors []engine.MonitorHostState) {
	failing := map[string][]string{} // monitor -> hosts failing it now
	for _, m := range monitors {
		if !m.LastAt.IsZero() && m.State != engine.StateOK {
			failing[m.Monitor] = append(failing[m.Monitor], m.Host)
		}
	}
	notSynced := map[string][]HostSyncState{} // job -> pairs not in sync
	for _, js := range syncs {
		for _, h := range js.Hosts {
			if h.State != engine.SyncSynced {
				notSynced[js.Job] = append(notSynced[js.Job], h)
			}
		}
	}
	planned := map[string]*waveHosts{} // job -> planned hosts, for jobs in notSynced
	for i := range p.Jobs {
		pj := &p.Jobs[i]
		var gate []string
		if j := defs.Jobs[pj.Name]; j != nil && j.Rollout.HealthGate != nil {
			for _, m := range j.Rollout.HealthGate.Monitors {
				if len(failing[m]) > 0 && !slices.Contains(gate, m) {
					gate = append(gate, m)
				}
			}
		}
		if len(gate) == 0 && len(notSynced[pj.Name]) == 0 {
			continue
		}
		hosts := newWaveHosts(pj.Waves)
		for _, m := range gate {
			for _, h := range failing[m] {
				if hosts.has(h) {
					pj.GateFailing = append(pj.GateFailing, m+"@"+h)
				}
			}
		}
		sort.Strings(pj.GateFailing)
		if len(notSynced[pj.Name]) > 0 {
			planned[pj.Name] = hosts
		}
	}
	for _, js := range syncs {
		for _, h := range notSynced[js.Job] {
			if w := planned[js.Job]; w != nil && w.has(h.Host) {
				continue
			}
			p.OutOfSync = append(p.OutOfSync, definitions.OutOfSyncHost{Job: js.Job, Host: h.Host, State: string(h.State),
				Reason: h.Reason, Commit: h.ReasonCommit, Text: h.ReasonText()})
		}
		delete(notSynced, js.Job) // a job listed twice is reported once
	}
}

// waveHosts answers whether a host is in a planned job's waves: by binary
// search when the waves are in name order, as definitions.Plan makes
// them, else through a set built on first use.
type waveHosts struct {
	waves  [][]string
	sorted bool
	set    map[string]bool
}

func newWaveHosts(waves [][]string) *waveHosts {
	w := &waveHosts{waves: waves, sorted: true}
	prev := ""
	for _, wave := range waves {
		if len(wave) == 0 {
			w.sorted = false
		}
		for _, h := range wave {
			if h <= prev && prev != "" {
				w.sorted = false
			}
			prev = h
		}
	}
	return w
}

func (w *waveHosts) has(host string) bool {
	if !w.sorted {
		if w.set == nil {
			w.set = map[string]bool{}
			for _, wave := range w.waves {
				for _, h := range wave {
					w.set[h] = true
				}
			}
		}
		return w.set[host]
	}
	i := sort.Search(len(w.waves), func(i int) bool { return w.waves[i][len(w.waves[i])-1] >= host })
	if i == len(w.waves) {
		return false
	}
	j := sort.SearchStrings(w.waves[i], host)
	return j < len(w.waves[i]) && w.waves[i][j] == host
}
