package jobs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// TestFileStepRecordsItsDiff: a file step that changes a file says what it
// changed, as the run page shows it: the new file whole, then a unified
// diff of the changed line with the secret it renders redacted; a step
// that changes nothing has no diff; a large file is named, not shown.
func TestFileStepRecordsItsDiff(t *testing.T) {
	tr, ep := localDriftHost()
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "app.conf")
	step := func(content string) *definitions.HostStep {
		return &definitions.HostStep{Name: "config", Kind: definitions.StepFile, Destination: dest, Mode: 0o640,
			Content: []byte(content), Secrets: []string{"s3cr3t-value", "0ther-s3cr3t"}}
	}
	v1 := "listen 8080\npassword s3cr3t-value\nworkers 4\n"
	r := tr.RunStep(ctx, ep, step(v1))
	if r.Status != engine.StepChanged || !strings.Contains(r.Diff, "/dev/null (new file)") || !strings.Contains(r.Diff, "+workers 4") {
		t.Fatalf("new file: %s\n%s", r.Status, r.Diff)
	}
	v2 := strings.Replace(v1, "workers 4", "workers 8", 1)
	r = tr.RunStep(ctx, ep, step(v2))
	if r.Status != engine.StepChanged || !strings.Contains(r.Diff, "-workers 4\n+workers 8\n") || !strings.Contains(r.Diff, dest+" (before)") {
		t.Fatalf("changed file: %s\n%s", r.Status, r.Diff)
	}
	if strings.Contains(r.Diff, "s3cr3t-value") || !strings.Contains(r.Diff, " password "+Redacted) {
		t.Errorf("the diff shows the secret, or not its redacted line:\n%s", r.Diff)
	}
	if got, _ := os.ReadFile(dest); string(got) != v2 {
		t.Fatalf("the file holds %q", got)
	}
	if r = tr.RunStep(ctx, ep, step(v2)); r.Status != engine.StepUnchanged || r.Diff != "" {
		t.Errorf("unchanged file: %s, diff %q", r.Status, r.Diff)
	}
	r = tr.RunStep(ctx, ep, step(strings.Replace(v2, "s3cr3t-value", "0ther-s3cr3t", 1)))
	if r.Diff != "(the change is in a secret; not shown)" {
		t.Errorf("a change of a secret alone: %q", r.Diff)
	}
	big := strings.Repeat("# padding line of a large file\n", 2000)
	if r = tr.RunStep(ctx, ep, step(big)); r.Status != engine.StepChanged || !strings.Contains(r.Diff, "is larger than 32 KiB") {
		t.Errorf("large file: %s %q", r.Status, r.Diff)
	}
}
