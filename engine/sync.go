package engine

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// SyncState says whether what a job deployed on a host still matches Git.
type SyncState string

// Sync states of a (job, host) pair.
const (
	// SyncSynced: the last run that succeeded there deployed what the
	// applied head says, and no drift check found a difference since.
	SyncSynced SyncState = "synced"
	// SyncOutOfSync: what was deployed is not what the applied head says;
	// the reason says why (never_ran, changed, failed, aborted,
	// rolled_back).
	SyncOutOfSync SyncState = "out_of_sync"
	// SyncDrifted: the host no longer matches what was deployed (someone
	// edited a managed file, a step's check fails).
	SyncDrifted SyncState = "drifted"
	// SyncUnknown: the host was unreachable at the last drift check.
	SyncUnknown SyncState = "unknown"
)

// Reasons for SyncOutOfSync.
const (
	ReasonNeverRan   = "never_ran"   // no run ever succeeded on the host
	ReasonChanged    = "changed"     // the job changed since it was deployed there
	ReasonFailed     = "failed"      // the last run of this version failed there
	ReasonAborted    = "aborted"     // the last run of this version was aborted before it got there
	ReasonRolledBack = "rolled_back" // the last run of this version was rolled back there
)

// DriftStatus is the outcome of a drift check of one job on one host.
type DriftStatus string

// Drift statuses.
const (
	DriftClean   DriftStatus = "clean"
	DriftDrifted DriftStatus = "drifted"
	DriftUnknown DriftStatus = "unknown" // the host could not be checked (unreachable)
)

// SyncMark is one run's mark on a (job, host): which version of the job
// (its fingerprint on the host, see definitions.Fingerprints), at which
// commit, by which run, when.
type SyncMark struct {
	Fingerprint string
	Commit      string
	Run         int64
	At          time.Time
}

// IsZero reports whether m marks nothing.
func (m SyncMark) IsZero() bool { return m.Fingerprint == "" && m.Commit == "" && m.Run == 0 }

// DriftMark is the latest drift check of a (job, host).
type DriftMark struct {
	Status DriftStatus
	// Fingerprint is the deployed version the check compared against.
	Fingerprint string
	// Detail says what differs, secrets redacted: a unified diff for files,
	// the failing check for run steps, why the host could not be checked.
	Detail string
	At     time.Time
}

// HostSync is what the store knows about one job on one host.
type HostSync struct {
	Job, Host string
	// Deployed is the last run that succeeded on the host; zero when none.
	Deployed SyncMark
	// Attempt is the last run that did not succeed on the host, with its
	// Outcome (ReasonFailed, ReasonAborted or ReasonRolledBack) and Error;
	// zero when the host succeeded since.
	Attempt SyncMark
	Outcome string
	Error   string
	// Drift is the latest drift check; zero when none ran.
	Drift DriftMark
}

// SyncUpdate is one change to a (job, host) record: a success (Deployed
// set: the attempt is cleared, and the deployment it replaces is kept as
// the previous one), a failure (Attempt set), or a drift check (Drift
// set). Fields left nil keep their stored value. Undeploy, with Attempt,
// says that Attempt's run undid its own deployment on the host (a
// rollback): the previous deployment is the deployed one again.
type SyncUpdate struct {
	Job, Host string
	Deployed  *SyncMark
	Attempt   *SyncMark
	Outcome   string // with Attempt
	Error     string // with Attempt
	Undeploy  bool   // with Attempt
	Drift     *DriftMark
}

// What a SyncStore keeps of the text of an update, at most, in bytes: an
// attempt's error and a drift check's detail are cut (ClipText) beyond.
const (
	MaxSyncError   = 2000
	MaxDriftDetail = 64 << 10
)

// ClipText cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func ClipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// SyncStore keeps what each run and drift check found on each host.
type SyncStore interface {
	// RecordSync applies updates in one commit. An attempt's error is cut
	// to MaxSyncError bytes and a drift's detail to MaxDriftDetail.
	RecordSync(ctx context.Context, updates []SyncUpdate) error
	// HostSyncs lists the records of job ("" for every job), by job then
	// host.
	HostSyncs(ctx context.Context, job string) ([]HostSync, error)
}

// HostSyncState is the sync state of one job on one host at the applied
// head, as the API, the UI and statuses show it.
type HostSyncState struct {
	Job   string    `json:"-"`
	Host  string    `json:"host"`
	State SyncState `json:"state"`
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
func DeriveSync(desired, desiredCommit string, rec HostSync) HostSyncState {
	s := HostSyncState{Job: rec.Job, Host: rec.Host, Desired: desiredCommit, Deployed: rec.Deployed.Commit, Run: rec.Deployed.Run}
	d := rec.Drift
	switch {
	case !rec.Deployed.IsZero() && rec.Deployed.Fingerprint == desired:
		s.State, s.Since = SyncSynced, rec.Deployed.At
		if d.Fingerprint == desired && d.At.After(rec.Deployed.At) {
			switch d.Status {
			case DriftDrifted:
				s.State, s.Since, s.Detail = SyncDrifted, d.At, d.Detail
			case DriftUnknown:
				s.State, s.Since, s.Detail = SyncUnknown, d.At, d.Detail
			}
		}
	case !rec.Attempt.IsZero() && rec.Attempt.Fingerprint == desired && rec.Outcome != "":
		s.State, s.Reason, s.ReasonCommit = SyncOutOfSync, rec.Outcome, rec.Attempt.Commit
		s.Run, s.Since, s.Detail = rec.Attempt.Run, rec.Attempt.At, rec.Error
	case rec.Deployed.IsZero():
		s.State, s.Reason = SyncOutOfSync, ReasonNeverRan
		if !rec.Attempt.IsZero() {
			s.Since = rec.Attempt.At
		}
	default:
		s.State, s.Reason, s.Since = SyncOutOfSync, ReasonChanged, rec.Deployed.At
	}
	return s
}

// NeedsSync reports whether a sync run should visit the pair: it is out
// of sync or drifted.
func (s HostSyncState) NeedsSync() bool {
	return s.State == SyncOutOfSync || s.State == SyncDrifted
}

// ReasonText is the state for people: "synced", "out of sync (failed at
// abc1234)", "drifted".
func (s HostSyncState) ReasonText() string {
	switch s.State {
	case SyncOutOfSync:
		switch s.Reason {
		case ReasonFailed, ReasonAborted, ReasonRolledBack:
			what := map[string]string{ReasonFailed: "failed", ReasonAborted: "aborted", ReasonRolledBack: "rolled back"}[s.Reason]
			return "out of sync (" + what + " at " + ShortCommit(s.ReasonCommit) + ")"
		case ReasonNeverRan:
			return "out of sync (never ran)"
		default:
			return "out of sync (changed since " + ShortCommit(s.Deployed) + ")"
		}
	case SyncDrifted:
		return "drifted"
	case SyncUnknown:
		return "unknown (unreachable at the last drift check)"
	}
	return string(s.State)
}

// DriftChecker compares a host with what one rendered step would make it,
// read-only: file steps compare the destination's content hash, mode and
// owner; run steps with a check run the check instead of the step; other
// steps cannot be checked (Checked is false). It never changes the host.
type DriftChecker interface {
	CheckDrift(ctx context.Context, ep Endpoint, step *definitions.HostStep) DriftResult
}

// DriftResult is one step's drift check on one host.
type DriftResult struct {
	Checked bool // false: the step kind has nothing to compare
	Status  DriftStatus
	// Detail says what differs, secrets redacted; capped in size.
	Detail string
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
func (j JobSync) Count(st SyncState) int {
	n := 0
	for _, h := range j.Hosts {
		if h.State == st {
			n++
		}
	}
	return n
}

// HostDrift is what a drift check found on one host for one job.
type HostDrift struct {
	Host   string      `json:"host"`
	Status DriftStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
	// Skipped says why the host was not checked (out of sync: it is known
	// to differ; nothing in the job can be checked).
	Skipped string `json:"skipped,omitempty"`
}

// JobDrift is a drift check of one job; POST /api/v1/drift returns a list
// of them.
type JobDrift struct {
	Job   string      `json:"job"`
	At    time.Time   `json:"at"`
	Hosts []HostDrift `json:"hosts"`
}

// JobSyncs derives the sync state of each of jobs on its target hosts from
// the records of a store: desired gives a job's fingerprint per target host
// at the commit whose definitions are being compared (see
// definitions.Fingerprints.Job), commit that commit.
func JobSyncs(jobs []string, desired func(job string) map[string]string, commit string, recs []HostSync) []JobSync {
	byPair := make(map[[2]string]HostSync, len(recs))
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
				rec = HostSync{Job: name, Host: host}
			}
			js.Hosts = append(js.Hosts, DeriveSync(fps[host], commit, rec))
		}
		out = append(out, js)
	}
	return out
}

// MonitorStateReader is the live state of every (monitor, host); the
// monitor runner implements it.
type MonitorStateReader interface {
	States() []MonitorHostState
}

// AnnotatePlan adds to a plan of defs what the fleet's state says: for
// each planned job, the gate checks of its planned hosts that fail now
// (monitors: the current states; nil when unknown); and the pairs out of
// sync or drifted that the plan does not run (syncs: the sync state at
// the applied head; nil when unknown). The work is that of the failing
// and out-of-sync pairs and of the jobs they concern: a plan may hold
// millions of planned pairs, and only a job with something to say has
// its hosts looked at, one job at a time.
func AnnotatePlan(p *definitions.PlanResult, defs *definitions.Definitions, syncs []JobSync, monitors []MonitorHostState) {
	failing := map[string][]string{} // monitor -> hosts failing it now
	for _, m := range monitors {
		if !m.LastAt.IsZero() && m.State != StateOK {
			failing[m.Monitor] = append(failing[m.Monitor], m.Host)
		}
	}
	notSynced := map[string][]HostSyncState{} // job -> pairs not in sync
	for _, js := range syncs {
		for _, h := range js.Hosts {
			if h.State != SyncSynced {
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
