package jobs

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func localDriftHost() (*Transport, engine.Endpoint) {
	return NewTransport(nil, NewLocal(SSHOptions{})), engine.Endpoint{Host: &definitions.Host{Name: "local", Transport: "local"}}
}

// TestDriftFileAgainstARealFile compares rendered files with files on this
// machine through the local transport: clean, edited (a unified diff with
// secrets redacted), a changed mode, missing. Nothing is written.
func TestDriftFileAgainstARealFile(t *testing.T) {
	tr, ep := localDriftHost()
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	content := "listen 8080\npassword s3cr3t-value\nworkers 4\n"
	step := &definitions.HostStep{Name: "config", Kind: definitions.StepFile, Destination: dest, Mode: 0o640,
		Content: []byte(content), Secrets: []string{"s3cr3t-value"}}
	ctx := context.Background()

	if r := tr.CheckDrift(ctx, ep, step); !r.Checked || r.Status != engine.DriftDrifted || !strings.Contains(r.Detail, dest+" is missing") {
		t.Fatalf("missing file: %+v", r)
	}
	if err := os.WriteFile(dest, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dest, 0o640); err != nil {
		t.Fatal(err)
	}
	if r := tr.CheckDrift(ctx, ep, step); r.Status != engine.DriftClean {
		t.Fatalf("same file: %+v", r)
	}

	edited := strings.Replace(content, "workers 4", "workers 64", 1)
	if err := os.WriteFile(dest, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}
	r := tr.CheckDrift(ctx, ep, step)
	if r.Status != engine.DriftDrifted || !strings.Contains(r.Detail, "-workers 64") || !strings.Contains(r.Detail, "+workers 4") {
		t.Fatalf("edited file: %+v", r)
	}
	if strings.Contains(r.Detail, "s3cr3t-value") || !strings.Contains(r.Detail, Redacted) {
		t.Fatalf("the diff shows the secret or no redaction: %s", r.Detail)
	}
	if got, _ := os.ReadFile(dest); string(got) != edited {
		t.Fatal("the drift check changed the file")
	}

	if err := os.WriteFile(dest, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dest, 0o666); err != nil {
		t.Fatal(err)
	}
	if r := tr.CheckDrift(ctx, ep, step); r.Status != engine.DriftDrifted || !strings.Contains(r.Detail, "mode 666, want 640") {
		t.Fatalf("mode: %+v", r)
	}
}

func TestDriftCheckCommand(t *testing.T) {
	tr, ep := localDriftHost()
	ctx := context.Background()
	dir := t.TempDir()
	marker := filepath.Join(dir, "installed")
	step := &definitions.HostStep{Name: "install", Kind: definitions.StepRun, Command: "touch " + marker,
		Check: "test -f " + marker, Timeout: time.Minute}
	r := tr.CheckDrift(ctx, ep, step)
	if r.Status != engine.DriftDrifted || !strings.Contains(r.Detail, "step install: check `test -f "+marker+"` exited 1") {
		t.Fatalf("check failing: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the drift check ran the step")
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tr.CheckDrift(ctx, ep, step); r.Status != engine.DriftClean {
		t.Fatalf("check passing: %+v", r)
	}
	step.Check = ""
	if r := tr.CheckDrift(ctx, ep, step); r.Checked {
		t.Fatalf("a run step without check is not checked: %+v", r)
	}
}

// unreachableExec fails like an SSH dial that cannot connect.
type unreachableExec struct{}

func (unreachableExec) exec(context.Context, engine.Endpoint, string, io.Reader, time.Duration, *Redactor) (ExecResult, error) {
	return ExecResult{ExitCode: -1}, &TransportError{Host: "web-01", Err: io.ErrUnexpectedEOF}
}

func TestDriftOfAnUnreachableHostIsUnknown(t *testing.T) {
	step := &definitions.HostStep{Name: "config", Kind: definitions.StepFile, Destination: "/etc/app.conf", Content: []byte("x")}
	r := checkDrift(context.Background(), unreachableExec{}, engine.Endpoint{Host: &definitions.Host{Name: "web-01"}}, step)
	if r.Status != engine.DriftUnknown || !strings.Contains(r.Detail, "unreachable") {
		t.Fatalf("unreachable: %+v", r)
	}
}
