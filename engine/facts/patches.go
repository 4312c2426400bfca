package facts

import (
	"cmp"
	"slices"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// PatchRow is one host of the patch compliance report.
type PatchRow struct {
	Host   string   `json:"host"`
	Groups []string `json:"groups"`
	// PendingUpdates and PendingSecurityUpdates are nil when unknown (no
	// facts, or no apt/dnf on the host).
	PendingUpdates         *int       `json:"pending_updates"`
	PendingSecurityUpdates *int       `json:"pending_security_updates"`
	UpdatesSince           *time.Time `json:"pending_updates_since,omitempty"`
	SecuritySince          *time.Time `json:"pending_security_updates_since,omitempty"`
	RebootRequired         *bool      `json:"reboot_required"`
	GatheredAt             *time.Time `json:"gathered_at,omitempty"`
	// Error is why the last gathering failed (the counts are then from
	// the one before); Stale says the facts are older than two intervals.
	Error string `json:"error,omitempty"`
	Stale bool   `json:"stale"`
	// LastRuns is the last successful run of each job that touched the
	// host, newest first.
	LastRuns []PatchRun `json:"last_runs"`
}

// PatchRun is the last run of a job that succeeded on a host.
type PatchRun struct {
	Job    string    `json:"job"`
	Run    int64     `json:"run"`
	Commit string    `json:"commit"`
	At     time.Time `json:"at"`
}

// PatchGroup counts the hosts of one group.
type PatchGroup struct {
	Group          string `json:"group"`
	Hosts          int    `json:"hosts"`
	WithUpdates    int    `json:"with_updates"`
	WithSecurity   int    `json:"with_security_updates"`
	RebootRequired int    `json:"reboot_required"`
	Unknown        int    `json:"unknown"`
}

// PatchReport is patch compliance across the fleet: hosts worst first
// (pending security updates, then reboot required, then pending updates,
// then unknown, then up to date), counts by group, and the oldest pending
// security update.
type PatchReport struct {
	Hosts  []PatchRow   `json:"hosts"`
	Groups []PatchGroup `json:"groups"`
	// OldestSecurity is since when the host with the oldest pending
	// security updates has had them; nil when none has.
	OldestSecurity     *time.Time `json:"oldest_security_since,omitempty"`
	OldestSecurityHost string     `json:"oldest_security_host,omitempty"`
}

// rank orders rows worst first.
func (r PatchRow) rank() int {
	switch {
	case r.PendingSecurityUpdates != nil && *r.PendingSecurityUpdates > 0:
		return 0
	case r.RebootRequired != nil && *r.RebootRequired:
		return 1
	case r.PendingUpdates != nil && *r.PendingUpdates > 0:
		return 2
	case r.PendingUpdates == nil || r.Error != "" || r.Stale:
		return 3
	}
	return 4
}

// RoundAge rounds the age of a pending update for people: to the second
// under a minute, to the minute above.
func RoundAge(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// BuildPatchReport reports on every host of defs from its facts records
// and its sync records (the last successful run per job). interval is the
// facts interval, for staleness.
func BuildPatchReport(defs *definitions.Definitions, records []engine.FactsRecord, syncs []engine.HostSync, now time.Time, interval time.Duration) PatchReport {
	byHost := make(map[string]engine.FactsRecord, len(records))
	for _, f := range records {
		byHost[f.Host] = f
	}
	runs := map[string][]PatchRun{}
	for _, s := range syncs {
		if s.Deployed.Run != 0 {
			runs[s.Host] = append(runs[s.Host], PatchRun{Job: s.Job, Run: s.Deployed.Run, Commit: s.Deployed.Commit, At: s.Deployed.At})
		}
	}
	rep := PatchReport{Hosts: []PatchRow{}, Groups: []PatchGroup{}}
	groups := map[string]*PatchGroup{}
	for name, h := range defs.Hosts {
		rec, ok := byHost[name]
		row := PatchRow{Host: name, Groups: h.Groups, LastRuns: runs[name]}
		if row.Groups == nil {
			row.Groups = []string{}
		}
		if row.LastRuns == nil {
			row.LastRuns = []PatchRun{}
		}
		slices.SortFunc(row.LastRuns, func(a, b PatchRun) int { return b.At.Compare(a.At) })
		if ok {
			f := rec.Facts
			row.PendingUpdates, row.PendingSecurityUpdates, row.RebootRequired = f.PendingUpdates, f.PendingSecurityUpdates, f.RebootRequired
			row.UpdatesSince, row.SecuritySince = timePtr(rec.UpdatesSince), timePtr(rec.SecuritySince)
			row.GatheredAt, row.Error = timePtr(rec.GatheredAt), rec.Error
			row.Stale = rec.Stale(now, interval)
			if s := rec.SecuritySince; !s.IsZero() && deref(f.PendingSecurityUpdates) > 0 && (rep.OldestSecurity == nil || s.Before(*rep.OldestSecurity)) {
				rep.OldestSecurity, rep.OldestSecurityHost = timePtr(s), name
			}
		} else {
			row.Stale = interval > 0
		}
		rep.Hosts = append(rep.Hosts, row)
		for _, g := range row.Groups {
			pg := groups[g]
			if pg == nil {
				pg = &PatchGroup{Group: g}
				groups[g] = pg
			}
			pg.Hosts++
			switch {
			case row.PendingUpdates == nil:
				pg.Unknown++
			case *row.PendingUpdates > 0:
				pg.WithUpdates++
			}
			if deref(row.PendingSecurityUpdates) > 0 {
				pg.WithSecurity++
			}
			if row.RebootRequired != nil && *row.RebootRequired {
				pg.RebootRequired++
			}
		}
	}
	slices.SortFunc(rep.Hosts, func(a, b PatchRow) int {
		return cmp.Or(
			cmp.Compare(a.rank(), b.rank()),
			cmp.Compare(deref(b.PendingSecurityUpdates), deref(a.PendingSecurityUpdates)),
			compareSince(a.SecuritySince, b.SecuritySince),
			cmp.Compare(deref(b.PendingUpdates), deref(a.PendingUpdates)),
			cmp.Compare(a.Host, b.Host),
		)
	})
	for _, g := range groups {
		rep.Groups = append(rep.Groups, *g)
	}
	slices.SortFunc(rep.Groups, func(a, b PatchGroup) int {
		return cmp.Or(cmp.Compare(b.WithSecurity, a.WithSecurity), cmp.Compare(b.WithUpdates, a.WithUpdates), cmp.Compare(a.Group, b.Group))
	})
	return rep
}

// compareSince puts the older (longer pending) first; nil last.
func compareSince(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}
