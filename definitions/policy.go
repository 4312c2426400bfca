package definitions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PolicyChange is one job's rollout policy in the old and the new commit,
// and what changed between them, for a reviewer to see where a commit makes
// a rollout less careful. Before is nil for a new job, which then has no
// changes: a new job's policy is shown, never flagged.
type PolicyChange struct {
	Job     string              `json:"job"`
	Before  *JobPolicy          `json:"before"`
	After   *JobPolicy          `json:"after"`
	Changes []PolicyFieldChange `json:"changes"`
}

// Weakens reports whether any change weakens the job's rollout.
func (c PolicyChange) Weakens() bool {
	return slices.ContainsFunc(c.Changes, func(f PolicyFieldChange) bool { return f.Weakens })
}

// JobPolicy is how carefully a job rolls out: its rollout block (as in
// PlannedRollout, with the wave list as written), its window, and whether
// it re-syncs hosts by itself.
type JobPolicy struct {
	Waves []WaveSize `json:"waves"`
	PlannedRollout
	Window     string `json:"window,omitempty"`
	SelfHeal   bool   `json:"self_heal"`
	DriftCheck string `json:"drift_check,omitempty"`
}

// PolicyFieldChange is one setting of a job's policy that changed. Before
// and After hold the setting's value as in JobPolicy (nil for a setting
// that is absent: no approve_after, pause, health gate, window or
// drift_check). Why says, for a change that weakens the rollout, how;
// it is empty otherwise.
type PolicyFieldChange struct {
	Field   string `json:"field"`
	Before  any    `json:"before"`
	After   any    `json:"after"`
	Weakens bool   `json:"weakens"`
	Why     string `json:"why"`
}

// Policy fields, in the order a PolicyChange lists them.
const (
	FieldWaves           = "waves"
	FieldMaxParallel     = "max_parallel"
	FieldMaxFailures     = "max_failures"
	FieldOnFailure       = "on_failure"
	FieldApproveAfter    = "approve_after"
	FieldPause           = "pause"
	FieldHealthGate      = "health_gate"
	FieldGateMonitors    = "health_gate.monitors"
	FieldMinHealthyTime  = "health_gate.min_healthy_time"
	FieldHealthyDeadline = "health_gate.healthy_deadline"
	FieldWindow          = "window"
	FieldSelfHeal        = "self_heal"
	FieldDriftCheck      = "drift_check"
)

// jobPolicy is j's policy as a plan shows it.
func jobPolicy(j *Job) *JobPolicy {
	p := &JobPolicy{
		Waves:          slices.Clone(j.Rollout.Waves),
		PlannedRollout: *plannedRollout(j.Rollout),
		Window:         j.Window,
		SelfHeal:       j.SelfHeal,
	}
	if p.Waves == nil {
		p.Waves = []WaveSize{}
	}
	if j.DriftCheck > 0 {
		p.DriftCheck = shortDuration(j.DriftCheck)
	}
	return p
}

// policyChange compares the policy of a job in two commits. oj is nil for
// a new job. hosts counts the job's target hosts in the new commit; it is
// called only when a comparison needs it. The result is nil when the
// policy is the same.
//
// A change weakens the rollout when it lets a bad change reach more hosts
// before something stops it, or stops it later: see docs/plan.md.
func policyChange(oj, nj *Job, hosts func() int) *PolicyChange {
	if oj == nil {
		return &PolicyChange{Job: nj.Name, After: jobPolicy(nj), Changes: []PolicyFieldChange{}}
	}
	pc := policyComparison{old: oj, new: nj}
	pc.compare(hosts)
	if len(pc.out) == 0 {
		return nil
	}
	return &PolicyChange{Job: nj.Name, Before: jobPolicy(oj), After: jobPolicy(nj), Changes: pc.out}
}

// policyComparison collects the changes of one job's policy.
type policyComparison struct {
	old, new *Job
	// total is the number of the job's target hosts in the new commit:
	// wave sizes, budgets and approval stops are compared on them.
	total int
	out   []PolicyFieldChange
}

func (pc *policyComparison) add(field string, before, after any, why []string) {
	pc.out = append(pc.out, PolicyFieldChange{Field: field, Before: before, After: after, Weakens: len(why) > 0, Why: strings.Join(why, "; ")})
}

func (pc *policyComparison) compare(hosts func() int) {
	or, nr := pc.old.Rollout, pc.new.Rollout
	if !slices.Equal(or.Waves, nr.Waves) || or.MaxFailures != nr.MaxFailures || or.ApproveAfter != nr.ApproveAfter {
		pc.total = hosts()
	}
	if !slices.Equal(or.Waves, nr.Waves) {
		pc.add(FieldWaves, nonNilWaves(or.Waves), nonNilWaves(nr.Waves), pc.wavesWeaken())
	}
	if or.MaxParallel != nr.MaxParallel {
		var why []string
		if nr.MaxParallel > or.MaxParallel {
			why = append(why, fmt.Sprintf("up to %d hosts of a wave at once, was %d", nr.MaxParallel, or.MaxParallel))
		}
		pc.add(FieldMaxParallel, or.MaxParallel, nr.MaxParallel, why)
	}
	if or.MaxFailures != nr.MaxFailures {
		pc.add(FieldMaxFailures, budgetText(or.MaxFailures), budgetText(nr.MaxFailures), pc.budgetWeakens())
	}
	if oa, na := onFailure(or), onFailure(nr); oa != na {
		var why []string
		if oa == "rollback" && na == "halt" {
			why = append(why, "a failed run stops and leaves its hosts as they are; it no longer rolls them back")
		}
		pc.add(FieldOnFailure, oa, na, why)
	}
	if or.ApproveAfter != nr.ApproveAfter {
		pc.add(FieldApproveAfter, optionalInt(or.ApproveAfter), optionalInt(nr.ApproveAfter), pc.approvalWeakens())
	}
	if or.Pause != nr.Pause {
		var why []string
		switch {
		case nr.Pause == 0:
			why = append(why, fmt.Sprintf("no pause between waves, was %s", shortDuration(or.Pause)))
		case nr.Pause < or.Pause:
			why = append(why, fmt.Sprintf("a pause of %s between waves, was %s", shortDuration(nr.Pause), shortDuration(or.Pause)))
		}
		pc.add(FieldPause, optionalDuration(or.Pause), optionalDuration(nr.Pause), why)
	}
	pc.compareGates(or.HealthGate, nr.HealthGate)
	if pc.old.Window != pc.new.Window {
		pc.add(FieldWindow, optionalString(pc.old.Window), optionalString(pc.new.Window), nil)
	}
	if pc.old.SelfHeal != pc.new.SelfHeal {
		var why []string
		if pc.new.SelfHeal {
			why = append(why, "ripple now re-runs the job by itself on drifted and out-of-sync hosts, with no commit or person starting it")
		}
		pc.add(FieldSelfHeal, pc.old.SelfHeal, pc.new.SelfHeal, why)
	}
	if pc.old.DriftCheck != pc.new.DriftCheck {
		pc.add(FieldDriftCheck, optionalDuration(pc.old.DriftCheck), optionalDuration(pc.new.DriftCheck), nil)
	}
}

// wavesWeaken says how a new wave list weakens the rollout on the job's
// current hosts: a larger first wave (by its size on those hosts, or by
// the entry as written when a count is compared with a count or a
// percentage with a percentage), fewer waves, or an approval stop that no
// longer happens because there are now too few waves.
func (pc *policyComparison) wavesWeaken() []string {
	or, nr := pc.old.Rollout, pc.new.Rollout
	var why []string
	oc, nc := waveCounts(pc.total, or.Waves), waveCounts(pc.total, nr.Waves)
	switch {
	case pc.total > 0 && nc[0] > oc[0]:
		why = append(why, fmt.Sprintf("first wave %s -> %s", firstWaveText(oc[0], pc.total, false), firstWaveText(nc[0], pc.total, true)))
	case firstEntryLarger(or.Waves, nr.Waves):
		w := fmt.Sprintf("first wave %s -> %s as written", firstEntry(or.Waves), firstEntry(nr.Waves))
		if pc.total > 0 {
			w += fmt.Sprintf(" (%d of %s today either way)", nc[0], plural(pc.total, "host"))
		}
		why = append(why, w)
	}
	if len(nc) < len(oc) {
		why = append(why, fmt.Sprintf("%d waves -> %d", len(oc), len(nc)))
	}
	if a := or.ApproveAfter; a == nr.ApproveAfter && approvalStops(a, len(oc)) && !approvalStops(a, len(nc)) {
		why = append(why, fmt.Sprintf("the approval stop after wave %d no longer happens (%s)", a, plural(len(nc), "wave")))
	}
	return why
}

// firstEntryLarger reports whether the first entry of the new wave list is
// larger than the old one's as written: a larger count, or a larger
// percentage. An empty list is one wave of every host: "100%".
func firstEntryLarger(old, new []WaveSize) bool {
	o, n := firstWave(old), firstWave(new)
	switch {
	case o.Count > 0 && n.Count > 0:
		return n.Count > o.Count
	case o.Count == 0 && n.Count == 0:
		return n.Percent > o.Percent
	}
	return false
}

func firstWave(sizes []WaveSize) WaveSize {
	if len(sizes) == 0 {
		return WaveSize{Percent: 100}
	}
	return sizes[0]
}

func firstEntry(sizes []WaveSize) string { return firstWave(sizes).String() }

// firstWaveText is the size of a first wave of n of total hosts: "1",
// "all 20 hosts", and after a change "5 of 20 hosts".
func firstWaveText(n, total int, after bool) string {
	switch {
	case n == total:
		return "all " + plural(total, "host")
	case after:
		return fmt.Sprintf("%d of %s", n, plural(total, "host"))
	}
	return strconv.Itoa(n)
}

// budgetWeakens says how a new max_failures lets more hosts of a wave
// fail. A count is compared with a count and a percentage with a
// percentage as written. A count and a percentage are compared as the
// failures each allows in every wave the new rollout makes of the job's
// current hosts (the count as a fraction of that wave): the budget
// weakens when it allows more failures in some wave. Without hosts they
// cannot be compared, and nothing is flagged.
func (pc *policyComparison) budgetWeakens() []string {
	ob, nb := pc.old.Rollout.MaxFailures, pc.new.Rollout.MaxFailures
	switch {
	case !ob.IsPercent && !nb.IsPercent:
		if nb.Count > ob.Count {
			return []string{fmt.Sprintf("a wave fails only when more than %s fail, was %d", plural(nb.Count, "host"), ob.Count)}
		}
	case ob.IsPercent && nb.IsPercent:
		if nb.Percent > ob.Percent {
			return []string{fmt.Sprintf("a wave fails only when more than %s of its hosts fail, was %s", percentText(nb.Percent), percentText(ob.Percent))}
		}
	default:
		worst, was, in := 0, 0, 0
		for _, n := range waveCounts(pc.total, pc.new.Rollout.Waves) {
			a, b := ob.Allowed(n), nb.Allowed(n)
			if b-a > worst-was {
				worst, was, in = b, a, n
			}
		}
		if worst > was {
			return []string{fmt.Sprintf("in a wave of %s, %d may fail, was %d", plural(in, "host"), worst, was)}
		}
	}
	return nil
}

// approvalWeakens says how a new approve_after stops the rollout for
// approval later or not at all. With hosts, the stop is compared on the
// waves the job makes of them (an approve_after at or past the last wave
// never stops); without, as written.
func (pc *policyComparison) approvalWeakens() []string {
	or, nr := pc.old.Rollout, pc.new.Rollout
	a, b := or.ApproveAfter, nr.ApproveAfter
	if pc.total > 0 {
		ow, nw := len(waveCounts(pc.total, or.Waves)), len(waveCounts(pc.total, nr.Waves))
		switch {
		case !approvalStops(a, ow):
			return nil
		case b == 0:
			return []string{fmt.Sprintf("no approval stop, was after wave %d", a)}
		case !approvalStops(b, nw):
			return []string{fmt.Sprintf("approve_after = %d never stops this rollout of %s; it stopped after wave %d", b, plural(nw, "wave"), a)}
		case b > a:
			return []string{fmt.Sprintf("approval after wave %d, was after wave %d", b, a)}
		}
		return nil
	}
	switch {
	case a > 0 && b == 0:
		return []string{fmt.Sprintf("no approval stop, was after wave %d", a)}
	case a > 0 && b > a:
		return []string{fmt.Sprintf("approval after wave %d, was after wave %d", b, a)}
	}
	return nil
}

// approvalStops reports whether approve_after = a stops a rollout of
// waves waves: it does after any wave but the last.
func approvalStops(a, waves int) bool { return a > 0 && a < waves }

// compareGates adds the changes of the health gate: the gate added or
// removed, or its monitors and times. A gate removed, a monitor removed
// and a shorter min_healthy_time weaken it. healthy_deadline is shown but
// never flagged: a shorter deadline fails a wave sooner, a longer one
// waits longer before failing it; neither lets a wave pass that would
// not have.
func (pc *policyComparison) compareGates(o, n *HealthGate) {
	hasO, hasN := o != nil && len(o.Monitors) > 0, n != nil && len(n.Monitors) > 0
	switch {
	case !hasO && !hasN:
		return
	case !hasN:
		pc.add(FieldHealthGate, plannedGate(o), nil, []string{"health gate removed: waves no longer wait for " + strings.Join(o.Monitors, ", ")})
		return
	case !hasO:
		pc.add(FieldHealthGate, nil, plannedGate(n), nil)
		return
	}
	if !slices.Equal(o.Monitors, n.Monitors) {
		var gone []string
		for _, m := range o.Monitors {
			if !slices.Contains(n.Monitors, m) {
				gone = append(gone, m)
			}
		}
		var why []string
		if len(gone) > 0 {
			why = append(why, "the gate no longer waits for "+strings.Join(gone, ", "))
		}
		pc.add(FieldGateMonitors, slices.Clone(o.Monitors), slices.Clone(n.Monitors), why)
	}
	if o.MinHealthyTime != n.MinHealthyTime {
		var why []string
		if n.MinHealthyTime < o.MinHealthyTime {
			why = append(why, fmt.Sprintf("a host counts as healthy after %s OK, was %s", shortDuration(n.MinHealthyTime), shortDuration(o.MinHealthyTime)))
		}
		pc.add(FieldMinHealthyTime, shortDuration(o.MinHealthyTime), shortDuration(n.MinHealthyTime), why)
	}
	if o.HealthyDeadline != n.HealthyDeadline {
		pc.add(FieldHealthyDeadline, shortDuration(o.HealthyDeadline), shortDuration(n.HealthyDeadline), nil)
	}
}

func onFailure(r Rollout) string {
	if r.OnFailure == "" {
		return DefaultOnFailure
	}
	return r.OnFailure
}

// budgetText is max_failures as PlannedRollout writes it: "2", "25%".
func budgetText(b Budget) string {
	if b.IsPercent {
		return percentText(b.Percent)
	}
	return strconv.Itoa(b.Count)
}

func percentText(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

func nonNilWaves(w []WaveSize) []WaveSize {
	if w == nil {
		return []WaveSize{}
	}
	return slices.Clone(w)
}

// optionalInt, optionalDuration and optionalString are a setting's value
// in a PolicyFieldChange: nil when it is not set.
func optionalInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func optionalDuration(d time.Duration) any {
	if d == 0 {
		return nil
	}
	return shortDuration(d)
}

func optionalString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
