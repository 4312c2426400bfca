package httpapi

import (
	"maps"
	"slices"
	"sync"

	"github.com/ripple-ops/ripple/definitions"
)

// Inventory is what the listings need of one commit's definitions, worked
// out once per commit instead of once per request: each job's and
// monitor's target hosts and, the other way round, each host's jobs and
// monitors. It is read-only once built.
type Inventory struct {
	Defs *definitions.Definitions // nil before the first applied commit
	// Hosts are every host name, sorted.
	Hosts []string
	// Groups are every group a host is in, sorted, with its host count.
	Groups      []string
	GroupCounts map[string]int
	// Jobs and Monitors are every name, sorted.
	Jobs     []string
	Monitors []string
	// JobHosts and MonitorHosts are the sorted target hosts of each job
	// and monitor; HostJobs and HostMonitors the sorted jobs and monitors
	// that target each host.
	JobHosts     map[string][]string
	MonitorHosts map[string][]string
	HostJobs     map[string][]string
	HostMonitors map[string][]string
	// monitorTarget holds every (monitor, host) pair of MonitorHosts.
	monitorTarget map[[2]string]struct{}
}

// isTarget reports whether host is a target of monitor.
func (inv *Inventory) isTarget(monitor, host string) bool {
	_, ok := inv.monitorTarget[[2]string{monitor, host}]
	return ok
}

// NewInventory works out defs' inventory; nil defs gives an empty one.
func NewInventory(defs *definitions.Definitions) *Inventory {
	inv := &Inventory{
		Defs: defs, GroupCounts: map[string]int{},
		JobHosts: map[string][]string{}, MonitorHosts: map[string][]string{},
		HostJobs: map[string][]string{}, HostMonitors: map[string][]string{},
		monitorTarget: map[[2]string]struct{}{},
	}
	if defs == nil {
		return inv
	}
	inv.Hosts = slices.Sorted(maps.Keys(defs.Hosts))
	for _, h := range defs.Hosts {
		for _, g := range h.Groups {
			inv.GroupCounts[g]++
		}
	}
	inv.Groups = slices.Sorted(maps.Keys(inv.GroupCounts))
	inv.Jobs = slices.Sorted(maps.Keys(defs.Jobs))
	for _, name := range inv.Jobs {
		hosts := hostNames(defs.Select(defs.Jobs[name].Targets))
		inv.JobHosts[name] = hosts
		for _, h := range hosts {
			inv.HostJobs[h] = append(inv.HostJobs[h], name)
		}
	}
	inv.Monitors = slices.Sorted(maps.Keys(defs.Monitors))
	for _, name := range inv.Monitors {
		hosts := hostNames(defs.Select(defs.Monitors[name].Targets))
		inv.MonitorHosts[name] = hosts
		for _, h := range hosts {
			inv.HostMonitors[h] = append(inv.HostMonitors[h], name)
			inv.monitorTarget[[2]string{name, h}] = struct{}{}
		}
	}
	return inv
}

func hostNames(hs []*definitions.Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	slices.Sort(out)
	return out
}

// InventoryCache keeps the inventory of the latest definitions it was
// asked for: the applied commit's, which changes once per merge. It is
// safe for concurrent use; the zero value is ready.
type InventoryCache struct {
	mu  sync.Mutex
	inv *Inventory
}

// For returns defs' inventory, working it out when defs is not the one
// asked for last.
func (c *InventoryCache) For(defs *definitions.Definitions) *Inventory {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inv == nil || c.inv.Defs != defs {
		c.inv = NewInventory(defs)
	}
	return c.inv
}
