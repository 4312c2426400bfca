package test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// TestClusterSilenceReachesTheCheckingNodeAtOnce: a silence made with
// `ripple silence` on one node holds the alert of the node that checks
// the pair from its next result on (checks every second here): the node
// announces it rather than leave the other to read it at its 10 s
// refresh. Expired on the first node, the alert goes out.
func TestClusterSilenceReachesTheCheckingNodeAtOnce(t *testing.T) {
	const interval = time.Second
	e := newClusterEnv(t, 2, 2, pg.Cluster(t))
	rcv := newMonReceiver(t, newMonService(t))
	files := countHCL(e.dmEnv, "v0", "0.1")
	files["monitors.hcl"] = fmt.Sprintf(`notifier "webhook" "ops" {
  url        = %q
  group_wait = "0s"
}
monitor "flag" {
  targets { groups = ["fleet"] }
  interval = %q
  check "command" { run = "test ! -f ${host.vars.dir}/down" }
  alert_after = 1
  notify      = ["ops"]
}
`, rcv.url, interval)
	first := e.commit("inventory, count and a monitor", files)
	e.startAll()
	e.waitStatus(first, "ripple/job/count", "success")
	l := e.leader()
	var live []string
	e.waitFor("two live nodes", 30*time.Second, func() bool {
		c, ok := l.cluster()
		live = live[:0]
		for _, n := range c.Nodes {
			if n.Live {
				live = append(live, n.Name)
			}
		}
		return ok && len(live) == 2
	})
	h := e.fleet.Hosts[0]
	owner := e.node(cluster.Owner(live, cluster.CheckKey("flag", h.Name)))
	other := e.follower(owner)
	state := func() httpapi.MonitorHost {
		var mons []httpapi.Monitor
		owner.tryJSON("/api/v1/monitors", &mons)
		for _, m := range mons {
			for _, mh := range m.Hosts {
				if m.Name == "flag" && mh.Host == h.Name {
					return mh
				}
			}
		}
		return httpapi.MonitorHost{}
	}
	e.waitFor("a result on "+owner.nodeName(), 30*time.Second, func() bool { return state().State == "OK" })

	out, errOut, err := other.cli("silence", "flag@"+h.Name, "--for", "1h", "--reason", "replacing a disk")
	if err != nil {
		t.Fatalf("ripple silence on %s: %v\n%s%s", other.nodeName(), err, out, errOut)
	}
	if err := os.WriteFile(filepath.Join(h.Dir, "down"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the failure on "+owner.nodeName(), 30*time.Second, func() bool { return state().Consecutive >= 3 })
	if got := rcv.of("flag", h.Name); len(got) != 0 {
		t.Fatalf("%s alerted flag@%s silenced on %s: %v", owner.nodeName(), h.Name, other.nodeName(), got)
	}
	var sils []struct {
		ID int64 `json:"id"`
	}
	if !other.tryJSON("/api/v1/silences", &sils) || len(sils) != 1 {
		t.Fatalf("silences on %s: %+v", other.nodeName(), sils)
	}
	out, errOut, err = other.cli("silence", "--expire", fmt.Sprint(sils[0].ID), "--reason", "disk replaced")
	if err != nil {
		t.Fatalf("ripple silence --expire on %s: %v\n%s%s", other.nodeName(), err, out, errOut)
	}
	e.waitFor("the alert once the silence ended", 30*time.Second, func() bool { return len(rcv.of("flag", h.Name)) == 1 })
}
