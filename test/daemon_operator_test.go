package test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// TestDaemonAbortEndsRunThatNeedsOperator: the daemon is killed in the
// middle of a step that is not idempotent, so after the restart the run
// needs an operator. While it does, a later run of the same job waits
// behind it instead of starting. An abort then ends the run (on_failure
// applies to what it touched, it gets an end time and a final status), and
// only then does the later run execute: the step ran once per run, never
// two runs of the job at once.
func TestDaemonAbortEndsRunThatNeedsOperator(t *testing.T) {
	e := newDmEnv(t, 1)
	marks := t.TempDir()
	host := e.fleet.Hosts[0].Name
	base := e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL()})
	e.start()
	e.waitStatus(base, "ripple/validate", "success")

	job := fmt.Sprintf("job \"slow\" {\n  targets { groups = [\"fleet\"] }\n  step \"work\" {\n    run = \"echo run >> %s/${host.name}; test -f %s/fast || sleep 15\"\n  }\n  rollout { waves = [1] }\n}\n", marks, marks)
	head := e.commit("slow job", map[string]string{"jobs/slow.hcl": job})
	if code := e.webhook("push", "abort-1", pushPayload(t, base, head)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	mark := filepath.Join(marks, host)
	e.waitFor("the step to start", 20*time.Second, func() bool { _, err := os.Stat(mark); return err == nil })
	e.kill()
	e.start()

	first := e.waitRun("slow", 1, "needs_operator")
	if !first.Finished.IsZero() {
		t.Errorf("a run that needs an operator has an end time: %+v", first)
	}

	// A later run of the job waits behind the run that needs an operator.
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/api/v1/jobs/slow/runs", strings.NewReader(`{"reason":"second run"}`))
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start run answered %d", resp.StatusCode)
	}
	time.Sleep(2 * time.Second)
	if second := e.runByID("slow", 2); second.State != "queued" || !second.Started.IsZero() {
		t.Fatalf("the later run started while run 1 needs an operator: %+v", second)
	}
	if b, _ := os.ReadFile(mark); strings.Count(string(b), "run") != 1 {
		t.Fatalf("the step ran %d times while run 1 needs an operator", strings.Count(string(b), "run"))
	}

	// The abort ends run 1; then run 2 executes.
	if err := os.WriteFile(filepath.Join(marks, "fast"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := e.post("/api/v1/runs/1/abort", `{"reason":"checked the host"}`); code != http.StatusOK {
		t.Fatalf("abort answered %d", code)
	}
	first = e.waitRun("slow", 1, "aborted")
	if first.Finished.IsZero() || !strings.Contains(first.Summary, "aborted by e2e: checked the host") {
		t.Errorf("aborted run = %+v", first)
	}
	second := e.waitRun("slow", 2, "succeeded")
	if second.Started.Before(first.Finished) {
		t.Errorf("run 2 started at %s, before run 1 ended at %s", second.Started, first.Finished)
	}
	if b, _ := os.ReadFile(mark); strings.Count(string(b), "run") != 2 {
		t.Errorf("the step ran %d times, want once per run", strings.Count(string(b), "run"))
	}
	e.waitStatus(head, "ripple/job/slow", "success")
}

// runByID returns run id of job through the API (zero when missing).
func (e *dmEnv) runByID(job string, id int64) httpapi.Run {
	e.t.Helper()
	for _, r := range e.runs("job=" + job + "&limit=100") {
		if r.ID == id {
			return r
		}
	}
	return httpapi.Run{}
}

// waitRun waits until run id of job is in state and returns it.
func (e *dmEnv) waitRun(job string, id int64, state string) httpapi.Run {
	e.t.Helper()
	var r httpapi.Run
	e.waitFor(fmt.Sprintf("run %d %s", id, state), 40*time.Second, func() bool {
		r = e.runByID(job, id)
		return r.State == state
	})
	return r
}
