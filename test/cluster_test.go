package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
)

// The cluster tests run three `ripple serve` nodes on one private
// PostgreSQL, the same ops repo and a real sshd fleet. Each node is a
// dmEnv of its own (its --data, --listen, --node-name and log) sharing the
// first one's repo, fleet, GitHub fake and tokens.

// clusterLease is the nodes' --lease: short, so that failovers are quick;
// the promise (lease plus one renewal) scales with it. RIPPLE_TEST_LEASE
// sets another (10s, the default, measures the failover time operators
// get: see docs/ha.md).
var clusterLease = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("RIPPLE_TEST_LEASE")); err == nil && d >= time.Second {
		return d
	}
	return 2 * time.Second
}()

type clusterEnv struct {
	*dmEnv // the repo, fleet, fake; its daemon is never started
	t      *testing.T
	pg     *pgtest.Cluster
	dsn    string
	nodes  []*dmEnv
}

func newClusterEnv(t *testing.T, nodes, hosts int, pg *pgtest.Cluster) *clusterEnv {
	t.Helper()
	e := &clusterEnv{dmEnv: newDmEnv(t, hosts), t: t, pg: pg}
	e.dsn = pg.Database(t)
	for i := range nodes {
		n := &dmEnv{serveEnv: e.serveEnv, fake: e.fake, name: fmt.Sprintf("-node%d", i+1)}
		n.addr, n.cmd, n.done = "", nil, nil
		n.data = filepath.Join(e.dir, "data-"+n.nodeName())
		n.args = []string{"--store", e.dsn, "--store-password-file", pg.PasswordFile(),
			"--node-name", n.nodeName(), "--lease", clusterLease.String()}
		t.Cleanup(n.stop)
		e.nodes = append(e.nodes, n)
	}
	return e
}

func (n *dmEnv) nodeName() string { return strings.TrimPrefix(n.name, "-") }

// startAll starts every node, one after the other.
func (e *clusterEnv) startAll() {
	e.t.Helper()
	for _, n := range e.nodes {
		n.start()
	}
}

// node is the node named name.
func (e *clusterEnv) node(name string) *dmEnv {
	for _, n := range e.nodes {
		if n.nodeName() == name {
			return n
		}
	}
	e.t.Fatalf("no node %q", name)
	return nil
}

// live lists the nodes running.
func (e *clusterEnv) live() []*dmEnv {
	var out []*dmEnv
	for _, n := range e.nodes {
		if n.cmd != nil {
			out = append(out, n)
		}
	}
	return out
}

// cluster is GET /api/v1/cluster on node n; ok is false when n does not
// answer.
func (n *dmEnv) cluster() (c httpapi.Cluster, ok bool) {
	req, _ := http.NewRequest("GET", "http://"+n.addr+"/api/v1/cluster", nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := n.client.Do(req)
	if err != nil {
		return c, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&c) != nil {
		return c, false
	}
	return c, true
}

// leader waits until the running nodes agree on a leader that is one of
// them, and returns it.
func (e *clusterEnv) leader() *dmEnv {
	e.t.Helper()
	var name string
	e.waitFor("a leader", 30*time.Second, func() bool {
		name = ""
		for _, n := range e.live() {
			c, ok := n.cluster()
			if !ok || c.Leader == "" || (name != "" && c.Leader != name) {
				return false
			}
			name = c.Leader
		}
		return name != "" && e.node(name).cmd != nil
	})
	return e.node(name)
}

// follower is a running node other than the leader l.
func (e *clusterEnv) follower(l *dmEnv) *dmEnv {
	for _, n := range e.live() {
		if n != l {
			return n
		}
	}
	e.t.Fatal("no follower running")
	return nil
}

// countHCL is the fleet with a private directory per host, and job count:
// four waves; its first step appends the version to the host's count file
// (not idempotent), its second waits (idempotent), so that a kill most
// often lands in a step that may run again.
func countHCL(e *dmEnv, version string, wait string) map[string]string {
	var b strings.Builder
	f := e.fleet
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, h.Dir)
	}
	job := fmt.Sprintf(`job "count" {
  targets { groups = ["fleet"] }
  step "count" {
    run = "echo %s >> ${host.vars.dir}/count"
  }
  step "work" {
    run        = "sleep %s"
    idempotent = true
  }
  rollout { waves = [2, 2, 2, 2] }
}
`, version, wait)
	return map[string]string{"hosts.hcl": b.String(), "jobs/count.hcl": job}
}

// counts is each host's count file: the versions the count step ran.
func (e *dmEnv) counts() map[string][]string {
	out := map[string][]string{}
	for _, h := range e.fleet.Hosts {
		b, _ := os.ReadFile(filepath.Join(h.Dir, "count"))
		out[h.Name] = strings.Fields(string(b))
	}
	return out
}

// latestRun is the newest run of job as node n sees it.
func (n *dmEnv) latestRun(job string) (httpapi.Run, bool) {
	var runs []httpapi.Run
	req, _ := http.NewRequest("GET", "http://"+n.addr+"/api/v1/runs?limit=1&job="+job, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := n.client.Do(req)
	if err != nil {
		return httpapi.Run{}, false
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&runs) != nil || len(runs) == 0 {
		return httpapi.Run{}, false
	}
	return runs[0], true
}

// finishRun waits for run id to end on any live node, approving it when it
// stops for an operator (a kill interrupted its non-idempotent step: the
// host's count file shows whether it ran, and the operator says so).
func (e *clusterEnv) finishRun(id int64, version string) httpapi.Run {
	e.t.Helper()
	var run httpapi.Run
	approved := false
	var waiting time.Time // when the run was first seen needing an operator
	e.waitFor(fmt.Sprintf("run %d to end", id), 120*time.Second, func() bool {
		for _, n := range e.live() {
			var rd httpapi.RunDetail
			if !n.tryJSON(fmt.Sprintf("/api/v1/runs/%d", id), &rd) {
				continue
			}
			run = rd.Run
			if run.State == "needs_operator" && !approved {
				// The interrupted step is count: the operator checks the
				// host (its count file holds the version: it ran) and
				// approves, which counts it as done. A frozen leader's
				// step in flight runs when the process resumes, which may
				// be after the new leader's recovery stopped the run: give
				// it a while to land before calling it lost.
				if waiting.IsZero() {
					waiting = time.Now()
				}
				for _, h := range e.fleet.Hosts {
					if c := e.counts()[h.Name]; strings.Contains(run.Error, h.Name) && !slices.Contains(c, version) {
						if time.Since(waiting) < 30*time.Second {
							return false
						}
						e.t.Fatalf("run %d needs an operator for %s, whose count step did not run: %s", id, h.Name, run.Error)
					}
				}
				if code := n.post(fmt.Sprintf("/api/v1/runs/%d/approve", id), `{"reason":"checked the host: count ran"}`); code == http.StatusOK || code == http.StatusAccepted {
					approved = true
				}
			}
			return run.State == "succeeded" || run.State == "failed" || run.State == "aborted" || run.State == "error"
		}
		return false
	})
	return run
}

// tryJSON is GET path decoded into v; false when the node does not answer.
func (n *dmEnv) tryJSON(path string, v any) bool {
	req, _ := http.NewRequest("GET", "http://"+n.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := n.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

// cli runs the built ripple binary's operator command against node n.
func (n *dmEnv) cli(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(rippleBin, append([]string{args[0], "--server", "http://" + n.addr}, args[1:]...)...)
	cmd.Env = append(os.Environ(), "RIPPLE_TOKEN="+dmOperator, "RIPPLE_TOKEN_FILE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestClusterRollsOutOnceAndFailsOver: three nodes on one PostgreSQL. A
// merge rolls out once, whichever node the webhook reaches (the same
// delivery sent to two nodes acts once), with its statuses posted once
// per change. Then, ten times at different points of wave 2 of 4, the
// leader is killed with SIGKILL: another node takes over within the lease
// plus one renewal and resumes the run from the journal; no count step
// runs twice on a host; every run ends recorded and no status stays
// pending. The failover times are printed.
func TestClusterRollsOutOnceAndFailsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the leader of a three-node cluster ten times")
	}
	e := newClusterEnv(t, 3, 8, pg.Cluster(t))
	first := e.commit("inventory and count v0", countHCL(e.dmEnv, "v0", "0.1"))
	e.startAll()
	e.waitStatus(first, "ripple/job/count", "success")
	if n := len(e.nodes[0].runs("job=count&limit=100")); n != 1 {
		t.Fatalf("%d runs of the first merge on three nodes, want 1", n)
	}

	// A push delivered to two followers (GitHub retried on another node)
	// rolls out once.
	l := e.leader()
	second := e.commit("count v1", countHCL(e.dmEnv, "v1", "0.1"))
	body := pushPayload(t, first, second)
	var sent int
	for _, n := range e.live() {
		if n != l && sent < 2 {
			if code := n.webhook("push", "cluster-delivery-1", body); code != http.StatusAccepted && code != http.StatusOK {
				t.Fatalf("push to %s answered %d", n.nodeName(), code)
			}
			sent++
		}
	}
	e.waitStatus(second, "ripple/job/count", "success")
	time.Sleep(time.Second)
	if runs := l.runs("job=count&limit=100"); len(runs) != 2 {
		t.Fatalf("%d runs after one delivery sent to two nodes, want 2 in all", len(runs))
	}
	assertStatusesOncePerChange(t, e.dmEnv, second, "ripple/job/count")

	// Ten kills of the leader in wave 2 of 4.
	var failovers, resumes []time.Duration
	prev := second
	for i := 2; i <= 11; i++ {
		version := fmt.Sprintf("v%d", i)
		l := e.leader()
		f := e.follower(l)
		sha := e.commit("count "+version, countHCL(e.dmEnv, version, "1"))
		if code := f.webhook("push", "cluster-kill-"+version, pushPayload(t, prev, sha)); code != http.StatusAccepted {
			t.Fatalf("push to follower %s answered %d", f.nodeName(), code)
		}
		prev = sha
		var run httpapi.Run
		e.waitFor(version+" in wave 2", 60*time.Second, func() bool {
			r, ok := f.latestRun("count")
			run = r
			return ok && r.Commit == sha && r.CurrentWave >= 1
		})
		if run.CurrentWave > 1 {
			t.Fatalf("%s: the run was past wave 2 (%d) before the kill", version, run.CurrentWave+1)
		}
		time.Sleep(time.Duration(rand.IntN(900)) * time.Millisecond)
		killed := time.Now()
		l.kill()
		// Failover: a survivor holds the lease.
		var took time.Duration
		e.waitFor(version+": another leader", 30*time.Second, func() bool {
			c, ok := f.cluster()
			if ok && c.Leader != "" && c.Leader != l.nodeName() {
				took = time.Since(killed)
				return true
			}
			return false
		})
		failovers = append(failovers, took)
		// Resumed: a host step starts after the kill.
		e.waitFor(version+": the run resumed", 60*time.Second, func() bool {
			var rd httpapi.RunDetail
			if !f.tryJSON(fmt.Sprintf("/api/v1/runs/%d", run.ID), &rd) {
				return false
			}
			if final(rd.State) || rd.State == "needs_operator" {
				// The kill interrupted the count step, which is not
				// idempotent: the new leader asks an operator.
				return true
			}
			for _, w := range rd.WaveDetails {
				for _, h := range w.Hosts {
					for _, s := range h.Steps {
						if s.Started.After(killed) {
							resumes = append(resumes, s.Started.Sub(killed))
							return true
						}
					}
				}
			}
			return false
		})
		done := e.finishRun(run.ID, version)
		if done.State != "succeeded" {
			t.Fatalf("%s: run %d ended %s: %s", version, run.ID, done.State, done.Error)
		}
		e.waitStatus(sha, "ripple/job/count", "success")
		for host, versions := range e.counts() {
			if n := countOf(versions, version); n != 1 {
				t.Fatalf("%s: the count step ran %d times on %s (%v)", version, n, host, versions)
			}
		}
		l.start() // back to three nodes
	}
	for _, sha := range []string{first, second} {
		if st, _ := e.fake.LatestStatus(sha, "ripple/job/count"); st.State != "success" {
			t.Errorf("%.12s: ripple/job/count is %s", sha, st.State)
		}
	}
	report := func(name string, d []time.Duration) {
		sorted := slices.Clone(d)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		if len(sorted) == 0 {
			return
		}
		t.Logf("%s over %d kills of the leader (lease %s): median %s, max %s, all %v", name, len(sorted), clusterLease,
			sorted[len(sorted)/2].Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond), sorted)
	}
	report("failover (a survivor holds the lease)", failovers)
	report("resume (a host step starts on the new leader)", resumes)
	bound := clusterLease + clusterLease/5 + time.Second // lease + renewal, + the test's polling and a loaded machine
	for _, d := range failovers {
		if d > bound {
			t.Errorf("a failover took %s, more than the lease plus a renewal (%s, with slack)", d, bound)
		}
	}
}

func final(state string) bool {
	switch state {
	case "succeeded", "failed", "aborted", "error":
		return true
	}
	return false
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// assertStatusesOncePerChange: on GitHub, no status of context on sha
// repeats the one before it (state and description): three nodes post
// each change once.
func assertStatusesOncePerChange(t *testing.T, e *dmEnv, sha, context string) {
	t.Helper()
	var prev string
	for _, st := range e.fake.Statuses(sha) {
		if st.Context != context {
			continue
		}
		cur := st.State + " " + st.Description
		if cur == prev {
			t.Errorf("%s posted twice in a row on %.12s: %s", context, sha, cur)
		}
		prev = cur
	}
}

// TestClusterFencesAFrozenLeader: the leader is frozen (SIGSTOP) in the
// middle of a wave past its lease; another node takes over and finishes
// the run; the old leader, resumed (SIGCONT), starts no host step and
// writes nothing (no count step runs twice), steps down and follows.
func TestClusterFencesAFrozenLeader(t *testing.T) {
	e := newClusterEnv(t, 3, 6, pg.Cluster(t))
	first := e.commit("inventory and count v0", countHCL(e.dmEnv, "v0", "0.1"))
	e.startAll()
	e.waitStatus(first, "ripple/job/count", "success")
	l := e.leader()
	f := e.follower(l)
	sha := e.commit("count v1", countHCL(e.dmEnv, "v1", "1"))
	if code := f.webhook("push", "freeze-1", pushPayload(t, first, sha)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	var run httpapi.Run
	e.waitFor("wave 2", 60*time.Second, func() bool {
		r, ok := f.latestRun("count")
		run = r
		return ok && r.Commit == sha && r.CurrentWave >= 1
	})
	if err := l.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := l.cmd
	defer func() { _ = frozen.Process.Signal(syscall.SIGCONT) }()
	e.waitFor("another leader", 30*time.Second, func() bool {
		c, ok := f.cluster()
		return ok && c.Leader != "" && c.Leader != l.nodeName()
	})
	// Thaw the old leader while the new one carries the run on.
	time.Sleep(clusterLease)
	if err := l.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	done := e.finishRun(run.ID, "v1")
	if done.State != "succeeded" {
		t.Fatalf("run %d ended %s: %s", run.ID, done.State, done.Error)
	}
	e.waitStatus(sha, "ripple/job/count", "success")
	e.waitFor("the old leader steps down and follows", 30*time.Second, func() bool {
		c, ok := l.cluster()
		return ok && c.Leader != "" && c.Leader != l.nodeName()
	})
	time.Sleep(clusterLease)
	for host, versions := range e.counts() {
		if n := countOf(versions, "v1"); n != 1 {
			t.Errorf("the count step ran %d times on %s (%v)", n, host, versions)
		}
	}
	b, _ := os.ReadFile(l.logFile(l.logs))
	log := string(b)
	if !strings.Contains(log, "stepping down") {
		t.Errorf("the old leader's log does not say it stepped down:\n%s", lastLinesOf(log, 30))
	}
	if m := l.metrics(); !strings.Contains(m, `ripple_cluster_leader{node="`+l.nodeName()+`"} 0`) {
		t.Errorf("the old leader's metrics still say it leads:\n%s", grepLines(m, "ripple_cluster"))
	}
}

// TestClusterMonitorsMoveAndAlertOnce: monitor checks are spread over the
// nodes; the node checking a host is killed and the check turns CRITICAL
// meanwhile: another node takes the check over within two intervals, and
// the alert goes out exactly once, as does the recovery.
func TestClusterMonitorsMoveAndAlertOnce(t *testing.T) {
	const interval = 3 * time.Second
	e := newClusterEnv(t, 3, 6, pg.Cluster(t))
	rcv := newMonReceiver(t, newMonService(t))
	files := countHCL(e.dmEnv, "v0", "0.1")
	files["monitors.hcl"] = fmt.Sprintf(`notifier "webhook" "ops" {
  url = %q
}
monitor "flag" {
  targets { groups = ["fleet"] }
  interval = %q
  check "command" { run = "test ! -f ${host.vars.dir}/down" }
  notify = ["ops"]
}
`, rcv.url, interval)
	first := e.commit("inventory, count and a monitor", files)
	e.startAll()
	e.waitStatus(first, "ripple/job/count", "success")
	l := e.leader()
	// Every node checks a share once all three are live.
	var c httpapi.Cluster
	defer func() {
		if t.Failed() {
			t.Logf("cluster as %s sees it: %+v", l.nodeName(), c)
			for _, n := range e.nodes {
				var mons []httpapi.Monitor
				n.tryJSON("/api/v1/monitors", &mons)
				t.Logf("monitors on %s: %+v", n.nodeName(), mons)
				b, _ := os.ReadFile(n.logFile(n.logs))
				t.Logf("%s log:\n%s", n.nodeName(), grepLines(string(b), "monitor"))
			}
		}
	}()
	e.waitFor("shares on three nodes", 30*time.Second, func() bool {
		var ok bool
		c, ok = l.cluster()
		if !ok || len(c.Nodes) != 3 {
			return false
		}
		for _, n := range c.Nodes {
			if !n.Live || n.Checks == 0 {
				return false
			}
		}
		return true
	})
	// The operator's view: ripple cluster and ripple status, on a follower.
	f := e.follower(l)
	out, errOut, err := f.cli("cluster")
	if err != nil || !strings.Contains(out, "leader  "+l.nodeName()+" (epoch ") || strings.Count(out, "\nnode") != 3 {
		t.Errorf("ripple cluster: %v %s\n%s", err, errOut, out)
	}
	if out, _, err := f.cli("status"); err != nil || !regexp.MustCompile(`(?m)^node\s+`+f.nodeName()+`$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^leader\s+`+l.nodeName()+`$`).MatchString(out) {
		t.Errorf("ripple status on %s: %v\n%s", f.nodeName(), err, out)
	}
	// A host whose check a follower runs.
	var live []string
	for _, n := range c.Nodes {
		live = append(live, n.Name)
	}
	var victim *dmEnv
	var host int
	for i, h := range e.fleet.Hosts {
		if owner := cluster.Owner(live, cluster.CheckKey("flag", h.Name)); owner != l.nodeName() {
			victim, host = e.node(owner), i
			break
		}
	}
	if victim == nil {
		t.Fatal("the leader checks every host")
	}
	name := e.fleet.Hosts[host].Name
	lastAt := func() time.Time {
		var mons []httpapi.Monitor
		if !l.tryJSON("/api/v1/monitors", &mons) {
			return time.Time{}
		}
		for _, m := range mons {
			for _, h := range m.Hosts {
				if m.Name == "flag" && h.Host == name {
					return h.LastAt
				}
			}
		}
		return time.Time{}
	}
	e.waitFor("a result for the victim's host", 30*time.Second, func() bool { return !lastAt().IsZero() })
	// Results as the leader's store sees them, through the kill.
	var results []time.Time
	record := func() {
		if at := lastAt(); !at.IsZero() && (len(results) == 0 || !at.Equal(results[len(results)-1])) {
			results = append(results, at)
		}
	}
	for range 20 {
		record()
		time.Sleep(100 * time.Millisecond)
	}
	victim.kill()
	if err := os.WriteFile(filepath.Join(e.fleet.Hosts[host].Dir, "down"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	e.waitFor("the alert", 60*time.Second, func() bool {
		record()
		return len(rcv.of("flag", name)) > 0
	})
	for time.Since(killed) < 4*interval {
		record()
		time.Sleep(100 * time.Millisecond)
	}
	if got := rcv.of("flag", name); len(got) != 1 || got[0].Kind != "alert" {
		t.Fatalf("deliveries for flag@%s: %v, want one alert", name, got)
	}
	var gap time.Duration
	for i := 1; i < len(results); i++ {
		gap = max(gap, results[i].Sub(results[i-1]))
	}
	t.Logf("the check of flag@%s moved from %s; the longest gap between its results was %s (interval %s)", name, victim.nodeName(), gap, interval)
	if gap > 2*interval {
		t.Errorf("results of flag@%s stopped for %s, more than two intervals (%s)", name, gap, 2*interval)
	}
	// The recovery goes out once too.
	if err := os.Remove(filepath.Join(e.fleet.Hosts[host].Dir, "down")); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the recovery", 60*time.Second, func() bool { return len(rcv.of("flag", name)) >= 2 })
	time.Sleep(2 * interval)
	if got := rcv.of("flag", name); len(got) != 2 || got[1].Kind != "recovery" {
		t.Fatalf("deliveries for flag@%s: %v, want an alert and a recovery", name, got)
	}
	for _, h := range e.fleet.Hosts {
		if h.Name != name && len(rcv.of("flag", h.Name)) > 0 {
			t.Errorf("flag@%s alerted: %v", h.Name, rcv.of("flag", h.Name))
		}
	}
}

// TestClusterSurvivesAPostgresRestart: PostgreSQL restarts under two nodes
// while a run is in progress: the nodes reconnect, the run ends recorded,
// nothing is lost, and the next merge rolls out.
func TestClusterSurvivesAPostgresRestart(t *testing.T) {
	db := pgtest.New(t, pgtest.Options{})
	e := newClusterEnv(t, 2, 4, db)
	first := e.commit("inventory and count v0", countHCL(e.dmEnv, "v0", "0.1"))
	e.startAll()
	e.waitStatus(first, "ripple/job/count", "success")
	l := e.leader()
	f := e.follower(l)
	sha := e.commit("count v1", countHCL(e.dmEnv, "v1", "1"))
	if code := f.webhook("push", "pg-restart-1", pushPayload(t, first, sha)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	var run httpapi.Run
	e.waitFor("wave 2", 60*time.Second, func() bool {
		r, ok := f.latestRun("count")
		run = r
		return ok && r.Commit == sha && r.CurrentWave >= 1
	})
	if err := db.Crash(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := db.Restart(); err != nil {
		t.Fatal(err)
	}
	done := e.finishRun(run.ID, "v1")
	if done.State != "succeeded" {
		t.Fatalf("run %d ended %s after PostgreSQL restarted: %s", run.ID, done.State, done.Error)
	}
	e.waitStatus(sha, "ripple/job/count", "success")
	for host, versions := range e.counts() {
		if n := countOf(versions, "v1"); n != 1 {
			t.Errorf("the count step ran %d times on %s (%v)", n, host, versions)
		}
	}
	third := e.commit("count v2", countHCL(e.dmEnv, "v2", "0.1"))
	l = e.leader()
	if code := e.follower(l).webhook("push", "pg-restart-2", pushPayload(t, sha, third)); code != http.StatusAccepted {
		t.Fatalf("push after the restart answered %d", code)
	}
	e.waitStatus(third, "ripple/job/count", "success")
}
