package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

const (
	opsViewer = "e2e-viewer-token-0123456789"
	// opsSecret is the sensitive param's value: it must reach the hosts
	// and nothing else.
	opsSecret = "hunter2-e2e-sensitive-7f3a"
)

// opsHostsHCL is the fleet with its first two hosts also in group web.
func opsHostsHCL(e *dmEnv) string {
	hcl := e.fleet.HCL()
	for _, h := range e.fleet.Hosts[:2] {
		block := fmt.Sprintf("host %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n}", h.Name, h.Address, h.Port)
		hcl = strings.Replace(hcl, block, strings.Replace(block, `["fleet"]`, `["fleet", "web"]`, 1), 1)
	}
	return hcl
}

// opsRestartJob is a runbook as a manual job: it records on each host what
// it was given, and prints the password (which must come out redacted).
func opsRestartJob(marks string) string {
	return fmt.Sprintf(`job "restart-app" {
  description = "Restart an app service"
  manual      = true
  param "service" {
    type    = string
    default = "app"
    allowed = ["app", "worker"]
  }
  param "ticket" {
    type        = string
    regex       = "^OPS-[0-9]+$"
    description = "change ticket"
  }
  param "db_password" {
    type      = string
    sensitive = true
  }
  targets { groups = ["web"] }
  step "restart" {
    run = "echo ${param.service} ${param.ticket} ${param.db_password} > %s/${host.name}; echo restarted ${param.service} with password ${param.db_password}"
  }
  rollout { waves = [1, "100%%"] }
}
`, marks)
}

// opsCLI runs the built ripple binary's command against the daemon with
// token.
func (e *dmEnv) opsCLI(token string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(rippleBin, append([]string{args[0], "--server", "http://" + e.addr}, args[1:]...)...)
	cmd.Env = append(os.Environ(), "RIPPLE_TOKEN="+token, "RIPPLE_TOKEN_FILE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		e.t.Fatalf("ripple %s: %v", args[0], err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// apiJSON sends a request with token and returns the status and body.
func (e *dmEnv) apiJSON(token, method, path, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, "http://"+e.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOperatorRunsRunbookWithParamsAndExec is an operator's path through a
// semi-automated operation on a real sshd fleet: a manual job does not run
// on the merge; a run with a value outside allowed, or not matching the
// regex, or without the required sensitive param, is refused naming the
// param, and nothing runs or is recorded; a run with good values reaches
// the hosts of the job's group with every value, the sensitive one shown
// as *** in ripple run and ripple show and in no log, database file or
// API answer. Then ripple exec --group web runs uptime on the group's two
// hosts only, prints each host's output and is listed as an exec run with
// the operator's name and reason; a failing command exits 1; the web UI's
// group page runs one the same way; an exec printing the password shows it
// redacted; a viewer gets 403 and runs nothing.
func TestOperatorRunsRunbookWithParamsAndExec(t *testing.T) {
	e := newDmEnv(t, 3)
	e.noGitHub = true
	if err := os.WriteFile(filepath.Join(e.dir, "tokens"), []byte(dmOperator+" operator e2e\n"+opsViewer+" viewer wall\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	marks := t.TempDir()
	head := e.commit("inventory and the restart runbook", map[string]string{
		"hosts.hcl":        opsHostsHCL(e),
		"jobs/restart.hcl": opsRestartJob(marks),
	})
	e.start()
	e.waitFor("the merge applied", 40*time.Second, func() bool { return e.status()["last_applied"] == head })
	web := []string{e.fleet.Hosts[0].Name, e.fleet.Hosts[1].Name}
	other := e.fleet.Hosts[2].Name

	noRuns := func(when string) {
		t.Helper()
		if runs := e.runs("limit=100"); len(runs) != 0 {
			t.Fatalf("%s: %d runs recorded, want none: %+v", when, len(runs), runs)
		}
		if entries, _ := os.ReadDir(marks); len(entries) != 0 {
			t.Fatalf("%s: the job ran on %d hosts", when, len(entries))
		}
	}
	noRuns("after the merge of a manual job")

	// Refused values name the param; nothing runs.
	for _, c := range []struct {
		args  []string
		param string
	}{
		{[]string{"--param", "service=database", "--param", "ticket=OPS-1", "--param", "db_password=" + opsSecret}, "service"},
		{[]string{"--param", "ticket=JIRA-1", "--param", "db_password=" + opsSecret}, "ticket"},
		{[]string{"--param", "ticket=OPS-1"}, "db_password"},
	} {
		out, errOut, code := e.opsCLI(dmOperator, append([]string{"run", "restart-app", "--reason", "app is stuck"}, c.args...)...)
		if code != 1 || !strings.Contains(errOut, "param "+c.param) || strings.Contains(errOut, "invalid request") || strings.Contains(errOut, "HTTP") {
			t.Errorf("ripple run %v: exit %d, want 1 with an error naming param %s:\n%s%s", c.args, code, c.param, out, errOut)
		}
		if strings.Contains(out+errOut, opsSecret) {
			t.Errorf("ripple run %v printed the sensitive value:\n%s%s", c.args, out, errOut)
		}
	}
	code, body := e.apiJSON(dmOperator, "POST", "/api/v1/jobs/restart-app/runs", `{"reason":"api","params":{"ticket":"OPS-2","db_password":"x","service":["app"]}}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "service") {
		t.Errorf("API run with a list for a string param: %d %s", code, body)
	}
	noRuns("after the refused runs")

	// A good run: the hosts get every value, the outputs only ***.
	out, errOut, code := e.opsCLI(dmOperator, "run", "restart-app", "--param", "service=worker", "--param", "ticket=OPS-42",
		"--param", "db_password="+opsSecret, "--reason", "app is stuck", "--wait", "--interval", "200ms")
	if code != 0 || !strings.Contains(out, "run 1 restart-app: succeeded") || !strings.Contains(out, "params   db_password=*** service=worker ticket=OPS-42") {
		t.Fatalf("ripple run: exit %d\n%s%s", code, out, errOut)
	}
	for _, h := range web {
		if b, err := os.ReadFile(filepath.Join(marks, h)); err != nil || string(b) != "worker OPS-42 "+opsSecret+"\n" {
			t.Errorf("host %s got %q (%v), want the run's values", h, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(marks, other)); err == nil {
		t.Errorf("the job ran on %s, which is not in group web", other)
	}
	show, errOut, code := e.opsCLI(dmOperator, "show", "1", "--json")
	var d httpapi.RunDetail
	if code != 0 || json.Unmarshal([]byte(show), &d) != nil {
		t.Fatalf("ripple show 1: exit %d\n%s%s", code, show, errOut)
	}
	if d.Trigger != "manual" || d.Actor != "e2e" || d.Reason != "app is stuck" || string(d.Params["db_password"]) != `"***"` || string(d.Params["service"]) != `"worker"` {
		t.Errorf("run 1 = %+v", d.Run)
	}
	if s := d.WaveDetails[0].Hosts[0].Steps[0].Stdout; !strings.Contains(s, "restarted worker with password [redacted]") {
		t.Errorf("the step's output is %q, want the password redacted", s)
	}

	// ripple exec on group web: both hosts, nothing elsewhere.
	out, errOut, code = e.opsCLI(dmOperator, "exec", "--group", "web", "--reason", "load after the restart", "--", "uptime")
	if code != 0 {
		t.Fatalf("ripple exec: exit %d\n%s%s", code, out, errOut)
	}
	for _, h := range web {
		if !strings.Contains(out, "== "+h+": ok (exit 0, ") {
			t.Errorf("ripple exec shows no result for %s:\n%s", h, out)
		}
	}
	if strings.Contains(out, other) || !strings.Contains(out, "load average") || !strings.Contains(out, "run 2 succeeded") {
		t.Errorf("ripple exec output:\n%s", out)
	}
	var execs []httpapi.Run
	for _, r := range e.runs("limit=100") {
		if r.Trigger == "exec" {
			execs = append(execs, r)
		}
	}
	if len(execs) != 1 || execs[0].ID != 2 || execs[0].Actor != "e2e" || execs[0].Reason != "load after the restart" ||
		execs[0].Exec == nil || execs[0].Exec.Command != "uptime" || len(execs[0].Waves) != 1 || strings.Join(execs[0].Waves[0], ",") != strings.Join(web, ",") {
		t.Errorf("exec runs = %+v", execs)
	}
	runs, _, _ := e.opsCLI(dmOperator, "runs")
	if !strings.Contains(runs, "exec: uptime") {
		t.Errorf("ripple runs does not list the exec run:\n%s", runs)
	}
	show, _, _ = e.opsCLI(dmOperator, "show", "2")
	if !strings.Contains(show, "command  uptime") || !strings.Contains(show, "by       e2e: load after the restart") {
		t.Errorf("ripple show 2:\n%s", show)
	}
	// A failing command fails the run and exits 1, with each exit code.
	out, _, code = e.opsCLI(dmOperator, "exec", "--hosts", web[0], "--reason", "is it there", "--", "test -f /nonexistent-ripple-e2e")
	if code != 1 || !strings.Contains(out, "== "+web[0]+": failed (exit 1, ") {
		t.Errorf("failing exec: exit %d\n%s", code, out)
	}

	// The group page's form does the same from the web UI.
	form := url.Values{"command": {"echo from the ui"}, "reason": {"ui check"}, "max_parallel": {"1"}}
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/groups/web/exec", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noRedirect := *e.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs/4" {
		t.Fatalf("the group page's exec form answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.waitFor("the UI's exec run to end", 40*time.Second, func() bool {
		code, body := e.apiJSON(dmOperator, "GET", "/api/v1/runs/4", "")
		return code == http.StatusOK && json.Unmarshal([]byte(body), &d) == nil && d.State == "succeeded"
	})
	if d.Actor != "e2e" || d.Exec == nil || d.Exec.MaxParallel != 1 || len(d.WaveDetails) != 1 || len(d.WaveDetails[0].Hosts) != 2 ||
		!strings.Contains(d.WaveDetails[0].Hosts[1].Steps[0].Stdout, "from the ui") {
		t.Errorf("the UI's exec run = %+v", d)
	}

	// A secret the daemon knows is redacted from an exec's output too: the
	// host's file holds the password the run gave it.
	out, errOut, code = e.opsCLI(dmOperator, "exec", "--hosts", web[0], "--reason", "what did it get", "--", "cat", filepath.Join(marks, web[0]))
	if code != 0 || !strings.Contains(out, "worker OPS-42 [redacted]") || strings.Contains(out+errOut, opsSecret) {
		t.Errorf("exec printing the password: exit %d\n%s%s", code, out, errOut)
	}

	// A viewer may look but not act.
	_, errOut, code = e.opsCLI(opsViewer, "exec", "--group", "web", "--reason", "curious", "--", "uptime")
	if code != 1 || !strings.Contains(errOut, "ripple: not allowed: token ") || !strings.Contains(errOut, "this needs operator") {
		t.Errorf("viewer exec: exit %d %s", code, errOut)
	}
	_, errOut, code = e.opsCLI(opsViewer, "run", "restart-app", "--param", "ticket=OPS-1", "--param", "db_password=x", "--reason", "curious")
	if code != 1 || !strings.Contains(errOut, "ripple: not allowed: token ") || !strings.Contains(errOut, "this needs operator") {
		t.Errorf("viewer run: exit %d %s", code, errOut)
	}
	if n := len(e.runs("limit=100")); n != 5 {
		t.Errorf("%d runs, want 5 (the run and four execs)", n)
	}

	// The sensitive value is in no API answer, page, log or database file.
	for _, path := range []string{"/api/v1/runs?limit=100", "/api/v1/runs/1", "/api/v1/jobs/restart-app", "/api/v1/runs/5", "/runs/1", "/runs/1?host=" + web[0], "/runs/5?host=" + web[0], "/jobs/restart-app", "/"} {
		code, body := e.apiJSON(dmOperator, "GET", path, "")
		if code != http.StatusOK || strings.Contains(body, opsSecret) {
			t.Errorf("GET %s: %d, or it shows the sensitive value", path, code)
		}
	}
	e.terminate()
	seen := false // the scan reads what the daemon stored: the ticket is there
	_ = filepath.WalkDir(e.dir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		if bytes.Contains(b, []byte(opsSecret)) {
			t.Errorf("%s holds the sensitive value", path)
		}
		seen = seen || (strings.HasPrefix(path, e.data) && bytes.Contains(b, []byte("OPS-42")))
		return nil
	})
	if !seen {
		t.Errorf("no file under %s holds the run's ticket: the scan sees nothing", e.data)
	}
}
