package definitions

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// checkReferences reports names used by one block that no block defines.
// Groups need no block of their own: a group exists when a host is in it.
func (l *loader) checkReferences() {
	d := l.defs
	for _, r := range l.refs {
		var ok bool
		switch r.kind {
		case "credential":
			_, ok = d.Credentials[r.name]
		case "snmp":
			_, ok = d.SNMP[r.name]
		case "window":
			_, ok = d.Windows[r.name]
		case "notifier":
			_, ok = d.Notifiers[r.name]
		case "monitor":
			_, ok = d.Monitors[r.name]
		case "host":
			_, ok = d.Hosts[r.name]
		case "job":
			_, ok = d.Jobs[r.name]
		case "target group":
			_, ok = d.Groups[r.name]
			ok = ok || len(d.index.byGroup[r.name]) > 0
		}
		kind := strings.TrimPrefix(r.kind, "target ")
		if ok || l.leftOut(kind, r.name) || l.hostsFailed && (kind == "host" || kind == "group") {
			// A hosts block that could not be expanded is reported
			// already; the hosts it would have made are not missing.
			continue
		}
		detail := fmt.Sprintf("No %s %q is defined.", blockNoun(kind), r.name)
		if kind == "group" {
			detail = fmt.Sprintf("No host is in group %q and no group block defines it.", r.name)
		}
		if s := l.suggest(kind, r.name); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		l.errorf(r.rng, "Unknown "+blockNoun(kind), detail+r.extra)
	}
	// Hosts may name groups that have no block; that is how most groups
	// are made. Nothing to check there.
}

func blockNoun(kind string) string {
	if kind == "snmp" {
		return "SNMP profile"
	}
	return kind
}

// suggest returns a defined name close to name, for "did you mean".
func (l *loader) suggest(kind, name string) string {
	var names []string
	d := l.defs
	switch kind {
	case "credential":
		names = keys(d.Credentials)
	case "snmp":
		names = keys(d.SNMP)
	case "window":
		names = keys(d.Windows)
	case "notifier":
		names = keys(d.Notifiers)
	case "monitor":
		names = keys(d.Monitors)
	case "job":
		names = keys(d.Jobs)
	case "host":
		if len(d.Hosts) > 2000 {
			return ""
		}
		names = keys(d.Hosts)
	case "group":
		names = append(keys(d.Groups), keys(d.index.byGroup)...)
	}
	slices.Sort(names)
	best, bestDist := "", 3
	for _, n := range names {
		if dist := levenshtein(name, n, bestDist); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	return best
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// levenshtein is the edit distance of a and b, or max when it is at least max.
func levenshtein(a, b string, max int) int {
	if d := len(a) - len(b); d >= max || -d >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}

// checkTargets warns about jobs and monitors that match no host, and
// reports snmp monitors on hosts without an SNMP profile. It stops with an
// error, and false, when the targets select more pairs than
// limits.Targets: the checks over targets would grow with them.
func (l *loader) checkTargets() bool {
	d := l.defs
	l.selected = map[*Targets][]*Host{}
	pairs := 0
	within := func(hosts []*Host, what string) bool {
		if pairs += len(hosts); pairs <= l.limits.Targets {
			return true
		}
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many targets (over %d)", l.limits.Targets),
			fmt.Sprintf("The targets of the jobs and monitors select more than %d (job or monitor, host) pairs; the limit was crossed at %s, and the checks that use targets were not run.", l.limits.Targets, what), nil))
		l.selected = nil
		return false
	}
	for _, name := range slices.Sorted(mapKeys(d.Jobs)) {
		j := d.Jobs[name]
		hosts := d.Select(j.Targets)
		if !within(hosts, fmt.Sprintf("job %q", name)) {
			return false
		}
		l.selected[&j.Targets] = hosts
		if j.Targets.DeclRange.Filename != "" && len(hosts) == 0 && !l.targetsLeftOut(j.Targets) {
			l.warnf(j.Targets.DeclRange, "No matching hosts", fmt.Sprintf("The targets of job %q match no host.", name))
		}
		l.checkCredentials(hosts, j.Targets.DeclRange, fmt.Sprintf("Job %q", name))
	}
	for _, name := range slices.Sorted(mapKeys(d.Monitors)) {
		m := d.Monitors[name]
		if m.Targets.DeclRange.Filename == "" {
			continue
		}
		hosts := d.Select(m.Targets)
		if !within(hosts, fmt.Sprintf("%s %q", m.BlockType(), name)) {
			return false
		}
		l.selected[&m.Targets] = hosts
		if len(hosts) == 0 && !l.targetsLeftOut(m.Targets) {
			l.warnf(m.Targets.DeclRange, "No matching hosts", fmt.Sprintf("The targets of %s %q match no host.", m.BlockType(), name))
		}
		switch m.Check.Kind {
		case CheckCommand, CheckLog:
			l.checkCredentials(hosts, m.Check.DeclRange, fmt.Sprintf("Monitor %q", name))
		case CheckTrap:
			l.checkTrapSources(m, hosts)
		}
		if m.Check.Kind != CheckSNMP {
			continue
		}
		var missing []string
		for _, h := range hosts {
			if h.SNMP == "" {
				missing = append(missing, h.Name)
			}
		}
		if len(missing) > 0 {
			more := ""
			if len(missing) > 5 {
				more = fmt.Sprintf(" and %d more", len(missing)-5)
				missing = missing[:5]
			}
			l.errorf(m.Check.DeclRange, "Missing SNMP profile", fmt.Sprintf("snmp checks need the host's snmp profile; %s%s have none.", strings.Join(missing, ", "), more))
		}
	}
	return true
}

// checkTrapSources warns about what keeps a trap block from ever
// matching: traps are matched to hosts by their source address, which
// must be an IP address, and authenticated with the snmp profiles.
func (l *loader) checkTrapSources(m *Monitor, hosts []*Host) {
	if len(l.defs.SNMP) == 0 {
		l.warnf(m.DeclRange, "No SNMP profile", fmt.Sprintf("Trap %q can never match: the trap receiver accepts only traps whose community or SNMPv3 user is in an snmp profile, and none is defined.", m.Name))
	}
	var names []string
	for _, h := range hosts {
		if _, err := netip.ParseAddr(h.Address); err != nil {
			names = append(names, h.Name)
		}
	}
	if len(names) > 0 {
		more := ""
		if len(names) > 5 {
			more = fmt.Sprintf(" and %d more", len(names)-5)
			names = names[:5]
		}
		l.warnf(m.Targets.DeclRange, "Trap source is not an IP address", fmt.Sprintf("Traps are matched to hosts by source IP address; %s%s of trap %q have a host name as address and never match.", strings.Join(names, ", "), more, m.Name))
	}
}

// checkCredentials reports the hosts among hosts that name no credential
// while no credential "default" exists, for a job or monitor (what) that
// logs in to them over SSH (what: `Job "x"`). A host naming an undefined
// credential is
// reported at the host instead.
func (l *loader) checkCredentials(hosts []*Host, rng hcl.Range, what string) {
	if _, ok := l.defs.Credentials[DefaultCredential]; ok {
		return
	}
	var missing []string
	for _, h := range hosts {
		if h.implicitCredential {
			missing = append(missing, h.Name)
		}
	}
	if len(missing) == 0 {
		return
	}
	more := ""
	if len(missing) > 5 {
		more = fmt.Sprintf(" and %d more", len(missing)-5)
		missing = missing[:5]
	}
	l.errorf(rng, "Missing credential", fmt.Sprintf("%s runs over SSH, but %s%s name no credential and no credential \"default\" is defined (hosts without a credential attribute use it).", what, strings.Join(missing, ", "), more))
}
