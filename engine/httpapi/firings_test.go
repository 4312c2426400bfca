package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func TestJobDetailListsFirings(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(defsHCL + `
job "patch" {
  targets { groups = ["web"] }
  step "upgrade" { run = "true" }
  schedule = "0 3 * * *"
}
`)}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	f.backend.defs = defs
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	for _, fr := range []engine.Firing{
		{Job: "patch", At: at, Outcome: engine.FiringStarted},
		{Job: "patch", At: at.Add(24 * time.Hour), Outcome: engine.FiringSkippedActive},
	} {
		if err := f.store.RecordFiring(ctx, fr); err != nil {
			t.Fatal(err)
		}
	}
	code, body := f.do(t, "GET", "/api/v1/jobs/patch", viewerToken, "")
	if code != 200 {
		t.Fatalf("GET: %d %s", code, body)
	}
	var j Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatal(err)
	}
	want := []Firing{
		{At: at.Add(24 * time.Hour), Outcome: string(engine.FiringSkippedActive)},
		{At: at, Outcome: string(engine.FiringStarted)},
	}
	if diff := cmp.Diff(want, j.Firings); diff != "" {
		t.Errorf("firings (-want +got):\n%s", diff)
	}
	// A job without a schedule has none.
	if _, body := f.do(t, "GET", "/api/v1/jobs/nginx", viewerToken, ""); json.Valid([]byte(body)) && strings.Contains(body, `"firings"`) {
		t.Errorf("nginx lists firings: %s", body)
	}
}
