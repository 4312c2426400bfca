package definitions

import (
	"cmp"
	"slices"
	"strconv"
)

// PlanResult is what a merge would do: the jobs that run, with their hosts
// in waves, and the monitor changes. Its JSON form is `ripple plan --json`
// and is kept stable for scripts: slices are never nil, so they marshal as
// [] rather than null.
type PlanResult struct {
	From string       `json:"from"` // "" when the old commit had no parent
	To   string       `json:"to"`
	Jobs []PlannedJob `json:"jobs"`
	// PolicyChanges shows each changed job's rollout policy before and
	// after, flagging what weakens it, and each new job's policy.
	PolicyChanges []PolicyChange `json:"policy_changes"`
	// SecretReadsAdded names the env() and file() calls the commit adds.
	SecretReadsAdded []SecretRead `json:"secret_reads_added"`
	Monitors         MonitorPlan  `json:"monitors"`
	Diagnostics      []Diagnostic `json:"diagnostics"`
	// OutOfSync lists the hosts that are out of sync or drifted at the
	// applied head and that this plan does not run: a merge leaves them as
	// they are. Filled by a caller that knows the sync state (the daemon,
	// `ripple plan --data`); nil otherwise.
	OutOfSync []OutOfSyncHost `json:"out_of_sync,omitempty"`
	// RemovesEvery names what the commit removes entirely, "host" and/or
	// "job" (see definitions.RemovesEvery): the daemon refuses such a
	// commit unless it runs with --allow-empty. Absent when nothing.
	RemovesEvery []string `json:"removes_every,omitempty"`

	// Removed lists removed jobs, and Inventory the inventory changes;
	// the text form shows them, the JSON form leaves them out.
	Removed   []string      `json:"-"`
	Inventory []BlockChange `json:"-"`
	// MonitorReasons says why each changed monitor changed.
	MonitorReasons map[string][]string `json:"-"`
}

// PlannedJob is a job that will run, its reasons and its hosts per wave.
// Window and Rollout are optional additions to the stable fields: the
// window the job waits for, and the policy its waves run under, for
// scripts that review rollouts. Both are left out for a job that runs on
// no host.
type PlannedJob struct {
	Name    string          `json:"name"`
	Reasons []string        `json:"reasons"`
	Waves   [][]string      `json:"waves"`
	Window  string          `json:"window,omitempty"`
	Rollout *PlannedRollout `json:"rollout,omitempty"`
	// GateFailing lists the health gate checks ("monitor@host") of the
	// job's planned hosts that fail now: they count in the gate like any
	// host, so a wave waits for them and fails if they stay failing.
	// Filled by a caller that knows monitor states.
	GateFailing []string `json:"gate_failing,omitempty"`

	// policy is the job's rollout as defined, for the text form to show
	// where the rollout stops for approval, pauses, and what fails a
	// wave; nil when Rollout is.
	policy *Rollout
}

// PlannedRollout is a job's rollout policy as `ripple plan --json` shows
// it: durations and max_failures as written in HCL ("5m", "10%", "2").
type PlannedRollout struct {
	MaxParallel  int          `json:"max_parallel"`
	MaxFailures  string       `json:"max_failures"`
	OnFailure    string       `json:"on_failure"`
	ApproveAfter int          `json:"approve_after,omitempty"`
	Pause        string       `json:"pause,omitempty"`
	HealthGate   *PlannedGate `json:"health_gate,omitempty"`
}

// PlannedGate is a job's health gate in PlannedRollout.
type PlannedGate struct {
	Monitors        []string `json:"monitors"`
	MinHealthyTime  string   `json:"min_healthy_time"`
	HealthyDeadline string   `json:"healthy_deadline"`
}

// plannedRollout is r in the JSON form of a plan.
func plannedRollout(r Rollout) *PlannedRollout {
	out := &PlannedRollout{MaxParallel: r.MaxParallel, OnFailure: r.OnFailure, ApproveAfter: r.ApproveAfter}
	if out.OnFailure == "" {
		out.OnFailure = DefaultOnFailure
	}
	if m := r.MaxFailures; m.IsPercent {
		out.MaxFailures = strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
	} else {
		out.MaxFailures = strconv.Itoa(m.Count)
	}
	if r.Pause > 0 {
		out.Pause = shortDuration(r.Pause)
	}
	out.HealthGate = plannedGate(r.HealthGate)
	return out
}

// plannedGate is g in the JSON form of a plan; nil when there is no gate
// (a gate without monitors holds nothing).
func plannedGate(g *HealthGate) *PlannedGate {
	if g == nil || len(g.Monitors) == 0 {
		return nil
	}
	return &PlannedGate{Monitors: slices.Clone(g.Monitors),
		MinHealthyTime: shortDuration(g.MinHealthyTime), HealthyDeadline: shortDuration(g.HealthyDeadline)}
}

// OutOfSyncHost is a (job, host) pair not in sync with the applied head.
type OutOfSyncHost struct {
	Job    string `json:"job"`
	Host   string `json:"host"`
	State  string `json:"state"`            // out_of_sync, drifted, unknown
	Reason string `json:"reason,omitempty"` // never_ran, changed, failed, aborted, rolled_back
	Commit string `json:"commit,omitempty"` // the commit of a failed, aborted or rolled back run
	Text   string `json:"text"`             // for people: "out of sync (failed at abc1234)"
}

// MonitorPlan lists monitor names by what happens to them.
type MonitorPlan struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
}

// Plan turns a change set into the plan for new: for each added or changed
// job (by name), the hosts that must run it split into waves with the
// job's rollout wave list (Waves; percentages are of the hosts that run).
// A job whose change runs nothing is listed with no waves, so a reviewer
// still sees it. Removed jobs are not planned. Diagnostics is left empty
// for the caller to fill. Plan is a pure function.
func Plan(cs *ChangeSet, new *Definitions) *PlanResult {
	p := &PlanResult{
		From:             cs.From,
		To:               cs.To,
		Jobs:             []PlannedJob{},
		PolicyChanges:    orEmpty(cs.Policies),
		SecretReadsAdded: orEmpty(cs.SecretReads),
		Diagnostics:      []Diagnostic{},
		Removed:          []string{},
		Inventory:        slices.Clone(cs.Inventory),
		RemovesEvery:     slices.Clone(cs.RemovesEvery),
		MonitorReasons:   cs.Monitors.Reasons,
		Monitors: MonitorPlan{
			Added:   nonNil(cs.Monitors.Added),
			Changed: nonNil(cs.Monitors.Changed),
			Removed: nonNil(cs.Monitors.Removed),
		},
	}
	for _, jc := range cs.Jobs {
		if jc.Removed {
			p.Removed = append(p.Removed, jc.Name)
			continue
		}
		j := new.Jobs[jc.Name]
		var sizes []WaveSize
		if j != nil {
			sizes = j.Rollout.Waves
		}
		waves := Waves(jc.Hosts, sizes)
		if waves == nil {
			waves = [][]string{}
		}
		pj := PlannedJob{Name: jc.Name, Reasons: nonNil(jc.Reasons), Waves: waves}
		if j != nil && len(waves) > 0 {
			pj.Window, pj.Rollout, pj.policy = j.Window, plannedRollout(j.Rollout), &j.Rollout
		}
		p.Jobs = append(p.Jobs, pj)
	}
	slices.SortFunc(p.Jobs, func(a, b PlannedJob) int { return cmp.Compare(a.Name, b.Name) })
	return p
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// orEmpty is a copy of s, never nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// Weakened lists the jobs whose rollout policy this plan weakens, by name.
func (p *PlanResult) Weakened() []string {
	var out []string
	for _, pc := range p.PolicyChanges {
		if pc.Weakens() {
			out = append(out, pc.Job)
		}
	}
	return out
}
