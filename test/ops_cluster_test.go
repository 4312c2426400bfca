package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterRunsWithParamsAndExecsFromAFollower: on two nodes sharing a
// PostgreSQL store, an operator talking to the node that is not the
// leader runs a manual job with params (a refused value is the leader's
// 400 naming the param, and nothing is recorded) and ripple exec on a
// group: the follower hands both to the leader through the database and
// follows them to the end. A run with a sensitive value is refused there
// with 409 naming the leader (the value would cross the database), and
// runs on the leader's node.
func TestClusterRunsWithParamsAndExecsFromAFollower(t *testing.T) {
	e := newClusterEnv(t, 2, 3, pg.Cluster(t))
	marks := t.TempDir()
	rotate := `job "rotate" {
  manual = true
  param "keep" {
    type    = number
    default = 7
  }
  targets { groups = ["web"] }
  step "rotate" { run = "echo keep ${param.keep} > ` + marks + `/rotate-${host.name}" }
}
`
	head := e.commit("inventory and two runbooks", map[string]string{
		"hosts.hcl":        opsHostsHCL(e.dmEnv),
		"jobs/restart.hcl": opsRestartJob(marks),
		"jobs/rotate.hcl":  rotate,
	})
	e.startAll()
	l := e.leader()
	f := e.follower(l)
	e.waitFor("both nodes on the merge", 40*time.Second, func() bool {
		return l.status()["last_applied"] == head && f.status()["last_applied"] == head
	})
	web := []string{e.fleet.Hosts[0].Name, e.fleet.Hosts[1].Name}

	// A refused value, through the follower: the leader's 400, nothing recorded.
	out, errOut, code := f.opsCLI(dmOperator, "run", "rotate", "--param", "keep=many", "--reason", "disk full")
	if code != 1 || !strings.Contains(errOut, "param keep") || strings.Contains(errOut, "invalid request") || strings.Contains(errOut, "HTTP") {
		t.Fatalf("a refused value through the follower: exit %d\n%s%s", code, out, errOut)
	}
	// A sensitive value never leaves the node it was given to.
	out, errOut, code = f.opsCLI(dmOperator, "run", "restart-app", "--param", "ticket=OPS-7", "--param", "db_password="+opsSecret, "--reason", "stuck")
	if code != 1 || !strings.Contains(errOut, "param db_password of job restart-app is sensitive") ||
		!strings.HasSuffix(strings.TrimSpace(errOut), "start the run on the leader, "+l.nodeName()) {
		t.Fatalf("a sensitive value through the follower: exit %d\n%s%s", code, out, errOut)
	}
	if runs := l.runs("limit=100"); len(runs) != 0 {
		t.Fatalf("refused runs were recorded: %+v", runs)
	}

	// A run with params through the follower, followed to the end there.
	out, errOut, code = f.opsCLI(dmOperator, "run", "rotate", "--param", "keep=3", "--reason", "disk full", "--wait", "--interval", "200ms")
	if code != 0 || !strings.Contains(out, "rotate: succeeded") || !strings.Contains(out, "params   keep=3") {
		t.Fatalf("ripple run through the follower: exit %d\n%s%s", code, out, errOut)
	}
	for _, h := range web {
		if b, err := os.ReadFile(filepath.Join(marks, "rotate-"+h)); err != nil || string(b) != "keep 3\n" {
			t.Errorf("host %s got %q (%v)", h, b, err)
		}
	}
	// ripple exec through the follower.
	out, errOut, code = f.opsCLI(dmOperator, "exec", "--group", "web", "--reason", "after the rotation", "--", "ls", marks)
	if code != 0 || !strings.Contains(out, "== "+web[0]+": ok (exit 0, ") || !strings.Contains(out, "== "+web[1]+": ok (exit 0, ") ||
		!strings.Contains(out, "rotate-"+web[1]) {
		t.Fatalf("ripple exec through the follower: exit %d\n%s%s", code, out, errOut)
	}
	// The sensitive run on the leader's node.
	out, errOut, code = l.opsCLI(dmOperator, "run", "restart-app", "--param", "ticket=OPS-7", "--param", "db_password="+opsSecret, "--reason", "stuck", "--wait", "--interval", "200ms")
	if code != 0 || !strings.Contains(out, "restart-app: succeeded") || strings.Contains(out, opsSecret) {
		t.Fatalf("the sensitive run on the leader's node: exit %d\n%s%s", code, out, errOut)
	}
	var kinds []string
	for _, r := range l.runs("limit=100") {
		kinds = append(kinds, r.Trigger+":"+r.Job+":"+r.Actor)
	}
	if strings.Join(kinds, " ") != "manual:restart-app:e2e exec::e2e manual:rotate:e2e" {
		t.Errorf("runs on the leader: %v", kinds)
	}
}
