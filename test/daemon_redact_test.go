package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonRedactsLoadedSecretsEverywhere: a job reads a secret with
// file(); a later job of another commit, which never reads it, prints the
// same value from a file on its host (stdout, stderr, and so its error),
// and a monitor's check prints it too. Once the daemon has loaded the
// value it is redacted from everything it stores and shows: the API, the
// web UI, the commit statuses sent to GitHub, its log and the SQLite
// files, byte for byte.
func TestDaemonRedactsLoadedSecretsEverywhere(t *testing.T) {
	const secret = "Zebra-s3cret-4711"
	e := newDmEnv(t, 1)
	secrets := filepath.Join(e.dir, "secrets")
	copyDir := t.TempDir()
	for _, f := range []struct{ path, body string }{
		{filepath.Join(secrets, "secret"), secret + "\n"},
		{filepath.Join(copyDir, "copy"), secret + "\n"},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.args = []string{"--secrets-dir", secrets}

	// Job 1 reads the secret into its command.
	reader := "job \"reader\" {\n  targets { groups = [\"fleet\"] }\n  step \"use\" {\n    run = \"echo token=${trimspace(file(\"secret\"))} >/dev/null; echo used\"\n  }\n}\n"
	first := e.commit("reader", map[string]string{"hosts.hcl": e.fleet.HCL(), "jobs/reader.hcl": reader})
	e.start()
	e.waitStatus(first, "ripple/job/reader", "success")

	// Job 2 and a monitor print the same value without reading it.
	copyFile := filepath.Join(copyDir, "copy")
	printer := dmJob("printer", fmt.Sprintf("cat %s; cat %s >&2; exit 1", copyFile, copyFile), "")
	monitor := fmt.Sprintf("monitor \"leak\" {\n  targets { groups = [\"fleet\"] }\n  interval = \"1s\"\n  check \"command\" { run = \"cat %s; exit 2\" }\n}\n", copyFile)
	second := e.commit("printer", map[string]string{"jobs/printer.hcl": printer, "monitors.hcl": monitor})
	if code := e.webhook("push", "redact-1", pushPayload(t, first, second)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(second, "ripple/job/printer", "failure")
	e.waitFor("the monitor's check", 20*time.Second, func() bool {
		return strings.Contains(e.get("/api/v1/monitors"), "CRITICAL")
	})

	shown := map[string]string{
		"GET /api/v1/runs":     e.get("/api/v1/runs?limit=100"),
		"GET /api/v1/monitors": e.get("/api/v1/monitors"),
	}
	for _, r := range e.runs("limit=100") {
		shown[fmt.Sprintf("GET /api/v1/runs/%d", r.ID)] = e.get(fmt.Sprintf("/api/v1/runs/%d", r.ID))
		shown[fmt.Sprintf("web UI /runs/%d", r.ID)] = e.get(fmt.Sprintf("/runs/%d?host=%s", r.ID, e.fleet.Hosts[0].Name))
	}
	for _, sha := range []string{first, second} {
		for _, st := range e.fake.Statuses(sha) {
			shown["GitHub status "+st.Context] += st.Description + "\n"
		}
	}
	for what, body := range shown {
		if strings.Contains(body, secret) {
			t.Errorf("%s shows the secret:\n%s", what, grepLines(body, secret))
		}
	}
	// Not vacuous: the printed values are there, redacted.
	for _, what := range []string{"GET /api/v1/runs/2", "web UI /runs/2", "GET /api/v1/monitors"} {
		if !strings.Contains(shown[what], "[redacted]") {
			t.Errorf("%s shows no redacted value:\n%s", what, shown[what])
		}
	}

	e.stop()
	files, _ := filepath.Glob(filepath.Join(e.data, "ripple.db*"))
	logs, _ := filepath.Glob(filepath.Join(e.dir, "serve-*.log"))
	if len(files) == 0 || len(logs) == 0 {
		t.Fatalf("no database (%v) or log (%v)", files, logs)
	}
	for _, f := range append(files, logs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret", filepath.Base(f))
		}
	}
}

// get reads path with the operator token and returns the body.
func (e *dmEnv) get(path string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}
