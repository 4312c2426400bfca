package gitops

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// leakyDrift reports a difference that shows a secret it was never given.
type leakyDrift struct{ detail string }

func (l leakyDrift) CheckDrift(context.Context, engine.Endpoint, *definitions.HostStep) engine.DriftResult {
	return engine.DriftResult{Checked: true, Status: engine.DriftDrifted, Detail: l.detail}
}

// TestDriftDetailRedactsLoadedSecrets: a drift detail showing a secret the
// process has loaded (a diff of a file another job renders with it) is
// redacted before it is recorded or shown.
func TestDriftDetailRedactsLoadedSecrets(t *testing.T) {
	const secret = "tls-key-material-0123"
	values := engine.NewSecretRegistry()
	values.Add(secret)
	repo := enginetest.NewGitRepo(t)
	d := dmDaemon(t, repo, enginetest.NewMemStore(), &dmRunner{}, func(o *Options) {
		o.Drift, o.Redact = leakyDrift{detail: "--- /etc/app.conf\n-key=" + secret + "\n+key=other"}, values
	})
	job := strings.Replace(enginetest.HelloJob, `step "say" { run = "echo hello" }`, `step "say" {
    run   = "echo hello"
    check = "true"
  }`, 1)
	defs, diags := definitions.Load(fstest.MapFS{"hosts.hcl": {Data: []byte(enginetest.Inventory)}, "job.hcl": {Data: []byte(job)}}, "c1", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	checked, err := d.checkHosts(context.Background(), defs, defs.Jobs["hello"], []string{"web-01"})
	if err != nil || len(checked) != 1 {
		t.Fatalf("checked %+v, %v", checked, err)
	}
	got := checked[0]
	if got.Status != engine.DriftDrifted || strings.Contains(got.Detail, secret) || !strings.Contains(got.Detail, "-key=[redacted]") {
		t.Errorf("drift = %+v", got)
	}
}
