package definitions

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ChangeSet is what changed between two commits' definitions, with the
// reason for every entry. It is plain data: the planner turns it into
// waves, the daemon into runs.
type ChangeSet struct {
	From string // commit of the old definitions; "" when there were none
	To   string // commit of the new definitions

	// Jobs lists jobs that changed, by name: added and changed jobs with
	// the hosts that must run them, and removed jobs (which run nothing).
	Jobs []JobChange
	// Monitors lists monitor names added, changed and removed, sorted.
	Monitors MonitorChanges
	// Inventory lists changed hosts, groups, credentials, SNMP profiles,
	// windows and notifiers, sorted by kind and name.
	Inventory []BlockChange
	// Policies lists, by job name, the rollout policy before and after of
	// every job in both commits whose policy changed, with what weakens
	// it, and the policy of every new job. Removed jobs are not listed.
	Policies []PolicyChange
	// SecretReads lists the env() and file() calls that new adds: those
	// whose function and argument old has nowhere, sorted by file and line.
	SecretReads []SecretRead
	// RemovesEvery names what the new commit removes entirely (see
	// RemovesEvery); nil when nothing.
	RemovesEvery []string
}

// RemovesEvery names the kinds of block that old has and new has none
// of: "host", "job", both (in that order) or none. The daemon refuses
// such a commit unless it runs with --allow-empty, as Argo CD's
// allowEmpty guards a prune that would delete everything; an empty tree
// is far more often a mistake (a wrong root, a bad merge) than intended.
// old may be nil.
func RemovesEvery(old, new *Definitions) []string {
	var out []string
	if old == nil {
		return nil
	}
	if len(old.Hosts) > 0 && len(new.Hosts) == 0 {
		out = append(out, "host")
	}
	if len(old.Jobs) > 0 && len(new.Jobs) == 0 {
		out = append(out, "job")
	}
	return out
}

// JobChange is one job of a change set.
type JobChange struct {
	Name string
	// Reasons say why, for people: "new job", "step config changed",
	// "template files/nginx.conf.tmpl changed", "new hosts match targets:
	// web-04", "group web vars changed", ...
	Reasons []string
	// Hosts are the hosts that must run the job, sorted by name: every
	// target when what the job does changed, only the affected hosts
	// otherwise (hosts that newly match its targets, hosts whose vars the
	// job uses changed). Empty when the change runs nothing, such as a new
	// rollout policy or description.
	Hosts []string
	// Removed is set for a job that no longer exists; it runs nothing.
	Removed bool
}

// MonitorChanges lists monitors by what happened to them.
type MonitorChanges struct {
	Added, Changed, Removed []string
	// Reasons says why each changed monitor changed.
	Reasons map[string][]string
}

// Action is what happened to a block between two commits.
type Action string

// Actions.
const (
	Added   Action = "added"
	Changed Action = "changed"
	Removed Action = "removed"
)

// BlockChange is one inventory block that was added, changed or removed.
type BlockChange struct {
	Kind    string // "host", "group", "credential", "snmp", "window", "notifier"
	Name    string
	Action  Action
	Reasons []string // what changed, for Changed: "address changed", ...
}

// Empty reports whether the change set has nothing in it.
func (cs *ChangeSet) Empty() bool {
	m := cs.Monitors
	return len(cs.Jobs) == 0 && len(m.Added)+len(m.Changed)+len(m.Removed) == 0 && len(cs.Inventory) == 0
}

// maxNamedHosts caps the host names spelled out in one reason.
const maxNamedHosts = 5

// Diff compares two commits' definitions. old may be nil (or empty): then
// everything in new is new. Both should have loaded without errors; blocks
// Load could not decode are simply absent.
//
// Diff compares what is written, not bytes: a block changes when its
// tokens change, so formatting and comments never count. A job runs on all
// its targets when its steps changed or a file they read (template or
// script) changed; on newly matching hosts when only its targets or the
// inventory changed; and on hosts whose vars, address, labels, ... changed
// only when its steps or templates use them (or its login user, become or
// transport changed). Description, rollout, rollback, schedule and window
// changes are reported but run nothing. A renamed job is the old one
// removed and a new one added.
//
// Diff also compares each job's rollout policy (Policies) and lists the
// env() and file() calls new adds (SecretReads).
func Diff(old, new *Definitions) *ChangeSet {
	if old == nil {
		old = &Definitions{}
	}
	cs := &ChangeSet{From: old.Commit, To: new.Commit, Monitors: MonitorChanges{
		Added: []string{}, Changed: []string{}, Removed: []string{}, Reasons: map[string][]string{},
	}, RemovesEvery: RemovesEvery(old, new)}
	oldIdx, newIdx := newSourceIndex(old), newSourceIndex(new)
	dt := &differ{old: old, new: new, oldIdx: oldIdx, newIdx: newIdx}

	cs.Inventory = dt.inventory()
	changedGroups, changedCreds := map[string]bool{}, map[string]bool{}
	for _, c := range cs.Inventory {
		switch {
		case c.Kind == "group" && !equalValues(groupVars(old, c.Name), groupVars(new, c.Name)):
			changedGroups[c.Name] = true
		case c.Kind == "credential" && c.Action == Changed && credentialExecChanged(old.Credentials[c.Name], new.Credentials[c.Name]):
			changedCreds[c.Name] = true
		}
	}
	dt.hosts = hostDeltas(old, new, changedGroups, changedCreds)
	dt.changedHosts = slices.Sorted(maps.Keys(dt.hosts))
	dt.moved = movedHosts(old, new)
	dt.templates = map[string][]hcl.Traversal{}
	dt.sameFiles = map[string]bool{}

	for _, name := range slices.Sorted(maps.Keys(new.Jobs)) {
		nj, oj := new.Jobs[name], old.Jobs[name]
		if jc := dt.job(nj, oj); jc != nil {
			cs.Jobs = append(cs.Jobs, *jc)
		}
		if pc := policyChange(oj, nj, func() int { return len(new.Select(nj.Targets)) }); pc != nil {
			cs.Policies = append(cs.Policies, *pc)
		}
	}
	for name := range old.Jobs {
		if new.Jobs[name] == nil {
			cs.Jobs = append(cs.Jobs, JobChange{Name: name, Reasons: []string{"job removed"}, Hosts: []string{}, Removed: true})
		}
	}
	slices.SortFunc(cs.Jobs, func(a, b JobChange) int { return cmp.Compare(a.Name, b.Name) })
	dt.monitors(&cs.Monitors)
	cs.SecretReads = addedSecretReads(old, new)
	return cs
}

// differ holds what one Diff call shares between jobs.
type differ struct {
	old, new       *Definitions
	oldIdx, newIdx *sourceIndex
	hosts          map[string][]hostCause
	// changedHosts lists, sorted, the hosts in both commits with causes.
	changedHosts []string
	// moved lists, sorted, the hosts whose membership in any targets may
	// have changed: added, removed, or with other groups or labels.
	moved     []string
	templates map[string][]hcl.Traversal // parsed new templates
	sameFiles map[string]bool            // sameFile results by path
}

func (dt *differ) job(nj, oj *Job) *JobChange {
	if oj == nil {
		return &JobChange{Name: nj.Name, Reasons: []string{"new job"}, Hosts: hostNamesOf(dt.new.Select(nj.Targets))}
	}
	var reasons []string
	runAll := false
	ob, nb := dt.oldIdx.block("job", nj.Name), dt.newIdx.block("job", nj.Name)
	if ob == nil || nb == nil {
		reasons, runAll = append(reasons, "job block changed"), true
	} else if !sameBlock(dt.oldIdx, dt.newIdx, "job", nj.Name) {
		op, ok1 := dt.oldIdx.partsOf(ob)
		np, ok2 := dt.newIdx.partsOf(nb)
		if !ok1 || !ok2 {
			reasons, runAll = append(reasons, "job block changed"), true
		} else {
			r, steps := jobPartReasons(op, np)
			reasons, runAll = append(reasons, r...), steps
		}
	}
	if r := dt.dataReasons("job", nj.Name); len(r) > 0 {
		reasons, runAll = append(reasons, r...), true
	}
	if !runAll {
		// Files the steps read: a change runs the job. Files only the
		// rollback steps read are reported, like a rollback block change.
		oldSrc := append(stepSources(oj.Steps), stepSources(oj.Rollback)...)
		newSrc := stepSources(nj.Steps)
		for _, src := range newSrc {
			if !slices.Contains(oldSrc, src) || !dt.sameFile(src.path) {
				reasons, runAll = append(reasons, src.kind+" "+src.path+" changed"), true
			}
		}
		for _, src := range stepSources(nj.Rollback) {
			if !slices.Contains(newSrc, src) && (!slices.Contains(oldSrc, src) || !dt.sameFile(src.path)) {
				reasons = append(reasons, "rollback "+src.kind+" "+src.path+" changed")
			}
		}
	}

	fresh := dt.newlyMatching(oj.Targets, nj.Targets)
	if len(fresh) > 0 {
		reasons = append(reasons, "new hosts match targets: "+nameList(fresh))
	}
	if runAll {
		return &JobChange{Name: nj.Name, Reasons: reasons, Hosts: hostNamesOf(dt.new.Select(nj.Targets))}
	}

	// What the job does is unchanged: it runs where its hosts are new, or
	// changed in a way it can see.
	run := map[string]bool{}
	for _, h := range fresh {
		run[h] = true
	}
	var refs *hostRefs
	hostCauses := map[string][]string{} // cause -> hosts
	sharedCauses := map[string]bool{}
	oldMatch, newMatch := newTargetMatcher(oj.Targets), newTargetMatcher(nj.Targets)
	for _, h := range dt.changedHosts {
		if run[h] || !oldMatch.match(dt.old.Hosts[h]) || !newMatch.match(dt.new.Hosts[h]) {
			continue
		}
		if refs == nil {
			refs = jobHostRefs(nj, dt.new.FS, dt.templates)
		}
		for _, c := range dt.hosts[h] {
			if !refs.sees(c) {
				continue
			}
			run[h] = true
			if c.shared {
				sharedCauses[c.text] = true
			} else {
				hostCauses[c.text] = append(hostCauses[c.text], h)
			}
		}
	}
	reasons = append(reasons, slices.Sorted(maps.Keys(sharedCauses))...)
	for _, c := range slices.Sorted(maps.Keys(hostCauses)) {
		reasons = append(reasons, c+": "+nameList(hostCauses[c]))
	}
	if len(reasons) == 0 {
		return nil
	}
	return &JobChange{Name: nj.Name, Reasons: reasons, Hosts: slices.Sorted(maps.Keys(run))}
}

// sameFile reports whether path has the same content in both commits;
// jobs often share templates, so each path is read once.
func (dt *differ) sameFile(path string) bool {
	same, ok := dt.sameFiles[path]
	if !ok {
		same = sameFile(dt.old.FS, dt.new.FS, path)
		dt.sameFiles[path] = same
	}
	return same
}

// newlyMatching lists, sorted, the hosts that newTargets selects in the
// new definitions and oldTargets did not select in the old ones. With
// unchanged targets only hosts whose membership changed (added, removed,
// other groups or labels) can differ, so only those are checked.
func (dt *differ) newlyMatching(oldTargets, newTargets Targets) []string {
	if !targetsEqual(oldTargets, newTargets) {
		return missingFrom(hostNamesOf(dt.new.Select(newTargets)), hostNamesOf(dt.old.Select(oldTargets)))
	}
	var out []string
	oldMatch, newMatch := newTargetMatcher(oldTargets), newTargetMatcher(newTargets)
	for _, h := range dt.moved {
		if newMatch.match(dt.new.Hosts[h]) && !oldMatch.match(dt.old.Hosts[h]) {
			out = append(out, h)
		}
	}
	return out
}

// jobPartReasons explains a changed job block part by part. steps reports
// whether what runs on hosts changed (its steps), so every target must run.
func jobPartReasons(op, np blockParts) (reasons []string, steps bool) {
	if op.parts["step"] != np.parts["step"] {
		steps = true
		oldSteps, newSteps := op.order["step"], np.order["step"]
		for _, s := range newSteps {
			od, ok := op.parts["step."+s]
			switch {
			case !ok:
				reasons = append(reasons, "step "+s+" added")
			case od != np.parts["step."+s]:
				reasons = append(reasons, "step "+s+" changed")
			}
		}
		for _, s := range oldSteps {
			if !slices.Contains(newSteps, s) {
				reasons = append(reasons, "step "+s+" removed")
			}
		}
		if len(reasons) == 0 {
			reasons = append(reasons, "steps reordered")
		}
	}
	// A param's default or type changes what the steps that read it do:
	// like a step change, it runs the job on every target.
	if op.parts["param"] != np.parts["param"] {
		steps = true
		n := len(reasons)
		oldParams, newParams := op.order["param"], np.order["param"]
		for _, p := range newParams {
			od, ok := op.parts["param."+p]
			switch {
			case !ok:
				reasons = append(reasons, "param "+p+" added")
			case od != np.parts["param."+p]:
				reasons = append(reasons, "param "+p+" changed")
			}
		}
		for _, p := range oldParams {
			if !slices.Contains(newParams, p) {
				reasons = append(reasons, "param "+p+" removed")
			}
		}
		if len(reasons) == n {
			reasons = append(reasons, "params reordered")
		}
	}
	keys := map[string]bool{}
	for k := range op.parts {
		keys[k] = true
	}
	for k := range np.parts {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if k == "step" || k == "param" || strings.Contains(k, ".") {
			continue
		}
		od, inOld := op.parts[k]
		nd, inNew := np.parts[k]
		if inOld && inNew && od == nd {
			continue
		}
		reasons = append(reasons, k+" changed")
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "job block changed")
	}
	return reasons, steps
}

// source is a repo file a step reads.
type source struct {
	path string
	kind string // "template" or "script"
}

// stepSources lists the files steps read, in order, without duplicates.
func stepSources(steps []*Step) []source {
	var out []source
	for _, s := range steps {
		var src source
		switch {
		case s.Kind == StepFile && s.File != nil && s.File.Source != "":
			src = source{s.File.Source, "template"}
		case s.Kind == StepScript && s.Script != "":
			src = source{s.Script, "script"}
		default:
			continue
		}
		if !slices.Contains(out, src) {
			out = append(out, src)
		}
	}
	return out
}

func (dt *differ) monitors(mc *MonitorChanges) {
	for _, name := range slices.Sorted(maps.Keys(dt.new.Monitors)) {
		om, nm := dt.old.Monitors[name], dt.new.Monitors[name]
		if om == nil {
			mc.Added = append(mc.Added, name)
			continue
		}
		var reasons []string
		if om.BlockType() != nm.BlockType() || !sameBlock(dt.oldIdx, dt.newIdx, nm.BlockType(), name) {
			reasons = append(reasons, nm.BlockType()+" block changed")
		}
		reasons = append(reasons, dt.dataReasons("monitor", name)...)
		if added := dt.newlyMatching(om.Targets, nm.Targets); len(added) > 0 {
			reasons = append(reasons, "now checks "+nameList(added))
		}
		if removed := dt.noLongerMatching(om.Targets, nm.Targets); len(removed) > 0 {
			reasons = append(reasons, "no longer checks "+nameList(removed))
		}
		if len(reasons) > 0 {
			mc.Changed = append(mc.Changed, name)
			mc.Reasons[name] = reasons
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dt.old.Monitors)) {
		if dt.new.Monitors[name] == nil {
			mc.Removed = append(mc.Removed, name)
		}
	}
}

// noLongerMatching is newlyMatching the other way round.
func (dt *differ) noLongerMatching(oldTargets, newTargets Targets) []string {
	if !targetsEqual(oldTargets, newTargets) {
		return missingFrom(hostNamesOf(dt.old.Select(oldTargets)), hostNamesOf(dt.new.Select(newTargets)))
	}
	var out []string
	oldMatch, newMatch := newTargetMatcher(oldTargets), newTargetMatcher(newTargets)
	for _, h := range dt.moved {
		if oldMatch.match(dt.old.Hosts[h]) && !newMatch.match(dt.new.Hosts[h]) {
			out = append(out, h)
		}
	}
	return out
}

// inventory compares every block that is neither a job nor a monitor.
func (dt *differ) inventory() []BlockChange {
	var out []BlockChange
	out = appendHostChanges(out, dt.old.Hosts, dt.new.Hosts)
	out = appendGroupChanges(out, dt.old.Groups, dt.new.Groups)
	out = appendBlockChanges(out, "credential", keysOf(dt.old.Credentials), keysOf(dt.new.Credentials), dt.sameSource("credential"))
	out = appendBlockChanges(out, "snmp", keysOf(dt.old.SNMP), keysOf(dt.new.SNMP), dt.sameSource("snmp"))
	out = appendBlockChanges(out, "window", keysOf(dt.old.Windows), keysOf(dt.new.Windows), dt.sameSource("window"))
	out = appendBlockChanges(out, "notifier", keysOf(dt.old.Notifiers), keysOf(dt.new.Notifiers), func(name string) bool {
		return sameNotifier(dt.oldIdx, dt.newIdx, name, dt.old.Notifiers[name].Type, dt.new.Notifiers[name].Type)
	})
	return out
}

// sameSource returns whether a block of kind, by name, is written the same
// in both commits.
func (dt *differ) sameSource(kind string) func(name string) bool {
	return func(name string) bool { return sameBlock(dt.oldIdx, dt.newIdx, kind, name) }
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// appendBlockChanges appends the blocks of kind added, removed, and
// changed: present in both, but not the same by same.
func appendBlockChanges(out []BlockChange, kind string, old, new map[string]bool, same func(name string) bool) []BlockChange {
	for _, name := range slices.Sorted(maps.Keys(new)) {
		switch {
		case !old[name]:
			out = append(out, BlockChange{Kind: kind, Name: name, Action: Added})
		case !same(name):
			out = append(out, BlockChange{Kind: kind, Name: name, Action: Changed, Reasons: []string{kind + " block changed"}})
		}
	}
	return appendRemoved(out, kind, old, new)
}

func appendRemoved(out []BlockChange, kind string, old, new map[string]bool) []BlockChange {
	for _, name := range slices.Sorted(maps.Keys(old)) {
		if !new[name] {
			out = append(out, BlockChange{Kind: kind, Name: name, Action: Removed})
		}
	}
	return out
}

func appendHostChanges(out []BlockChange, old, new map[string]*Host) []BlockChange {
	for _, name := range slices.Sorted(maps.Keys(new)) {
		oh, nh := old[name], new[name]
		if oh == nil {
			out = append(out, BlockChange{Kind: "host", Name: name, Action: Added})
			continue
		}
		var r []string
		add := func(changed bool, what string) {
			if changed {
				r = append(r, what+" changed")
			}
		}
		add(oh.Address != nh.Address, "address")
		add(oh.Port != nh.Port, "port")
		add(oh.Transport != nh.Transport, "transport")
		add(!slices.Equal(oh.Groups, nh.Groups), "groups")
		add(!maps.Equal(oh.Labels, nh.Labels), "labels")
		add(oh.Credential != nh.Credential, "credential")
		add(oh.SNMP != nh.SNMP, "snmp")
		add(!equalValues(oh.Vars, nh.Vars), "vars")
		if len(r) > 0 {
			out = append(out, BlockChange{Kind: "host", Name: name, Action: Changed, Reasons: r})
		}
	}
	return appendRemoved(out, "host", keysOf(old), keysOf(new))
}

func appendGroupChanges(out []BlockChange, old, new map[string]*Group) []BlockChange {
	for _, name := range slices.Sorted(maps.Keys(new)) {
		og, ng := old[name], new[name]
		if og == nil {
			out = append(out, BlockChange{Kind: "group", Name: name, Action: Added})
			continue
		}
		var r []string
		if og.Description != ng.Description {
			r = append(r, "description changed")
		}
		if !equalValues(og.Vars, ng.Vars) {
			r = append(r, "vars changed")
		}
		if len(r) > 0 {
			out = append(out, BlockChange{Kind: "group", Name: name, Action: Changed, Reasons: r})
		}
	}
	return appendRemoved(out, "group", keysOf(old), keysOf(new))
}

// movedHosts lists, sorted, the hosts that are in only one of old and new
// or whose groups or labels differ: the only hosts unchanged targets can
// select differently.
func movedHosts(old, new *Definitions) []string {
	var out []string
	for name, nh := range new.Hosts {
		oh := old.Hosts[name]
		if oh == nil || !slices.Equal(oh.Groups, nh.Groups) || !maps.Equal(oh.Labels, nh.Labels) {
			out = append(out, name)
		}
	}
	for name := range old.Hosts {
		if new.Hosts[name] == nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// targetsEqual reports whether two target selections are the same.
func targetsEqual(a, b Targets) bool {
	return slices.Equal(a.Hosts, b.Hosts) && slices.Equal(a.Groups, b.Groups) &&
		maps.Equal(a.Labels, b.Labels) && slices.Equal(a.Exclude, b.Exclude)
}

// matchTargets reports whether t selects h, by the rules of Select; a nil
// host matches nothing.
func matchTargets(t Targets, h *Host) bool {
	return newTargetMatcher(t).match(h)
}

// credentialExecChanged reports whether commands would run as someone
// else: another user or become. Keys and host key files only change how
// ripple connects.
func credentialExecChanged(a, b *Credential) bool {
	return a == nil || b == nil || a.User != b.User || a.Become != b.Become
}

// groupVars is the vars of group name, or nil when there is no such group
// block (a group can exist only through its members).
func groupVars(d *Definitions, name string) cty.Value {
	if g := d.Groups[name]; g != nil {
		return g.Vars
	}
	return cty.NilVal
}

func hostNamesOf(hosts []*Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

// missingFrom lists the names in a (sorted) that are not in b (sorted).
func missingFrom(a, b []string) []string {
	var out []string
	for _, n := range a {
		if _, found := slices.BinarySearch(b, n); !found {
			out = append(out, n)
		}
	}
	return out
}

// nameList spells out up to maxNamedHosts names: "web-01, web-02 and 3
// more".
func nameList(names []string) string {
	if len(names) <= maxNamedHosts {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamedHosts], ", "), len(names)-maxNamedHosts)
}
