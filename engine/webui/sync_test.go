package webui

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// fakeSync is a daemon's sync state: web-03 failed at a commit, web-07
// drifted, the other hosts synced.
type fakeSync struct {
	mu     sync.Mutex
	synced []string // "job actor reason" per StartSync
}

func (f *fakeSync) SyncStates(_ context.Context, jobs ...string) ([]convergence.JobSync, error) {
	if len(jobs) == 0 {
		jobs = []string{"nginx-config"}
	}
	js := convergence.JobSync{Job: jobs[0]}
	for i := 1; i <= 12; i++ {
		h := convergence.HostSyncState{Host: fmt.Sprintf("web-%02d", i), State: engine.SyncSynced, Desired: commitA}
		switch i {
		case 3:
			h.State, h.Reason, h.ReasonCommit, h.Detail = engine.SyncOutOfSync, engine.ReasonFailed, commitA, "step reload failed: exit status 1"
		case 7:
			h.State, h.Deployed, h.Detail = engine.SyncDrifted, commitA, "step config: /etc/nginx/nginx.conf\n--- /etc/nginx/nginx.conf (on the host)\n+++ /etc/nginx/nginx.conf (rendered)\n@@ -1 +1 @@\n-worker_processes 8;\n+worker_processes 4;"
		}
		js.Hosts = append(js.Hosts, h)
	}
	return []convergence.JobSync{js}, nil
}

func (f *fakeSync) StartSync(_ context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	what := job
	if len(hosts) > 0 {
		what += " " + strings.Join(hosts, ",")
	}
	f.synced = append(f.synced, what+" "+actor+" "+reason)
	return &engine.Run{ID: 42, Job: job}, nil
}

func (f *fakeSync) CheckDrift(context.Context, ...string) ([]engine.JobDrift, error) { return nil, nil }

func TestJobPageShowsSyncStateAndSyncs(t *testing.T) {
	fs := &fakeSync{}
	f := newFixture(t, func(o *Options) { o.Sync = fs })
	_, page, _ := f.get(t, "/jobs/nginx-config", viewerToken)
	for _, want := range []string{"10/12 hosts in sync", `data-host="web-03" data-state="out_of_sync"`, "out of sync (failed at " + commitA[:12] + ")",
		`data-host="web-07" data-state="drifted"`, "&#43;worker_processes 4;"} {
		if !strings.Contains(page, want) {
			t.Errorf("job page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="sync-now"`) {
		t.Error("a viewer sees the sync button")
	}
	_, page, _ = f.get(t, "/jobs/nginx-config", operatorToken)
	if !strings.Contains(page, `id="sync-now"`) || !strings.Contains(page, "Sync 2 hosts") {
		t.Fatal("an operator sees no sync button")
	}
	if code, _, _ := f.postForm(t, "/jobs/nginx-config/sync", viewerToken, url.Values{"reason": {"x"}}, nil); code != 403 {
		t.Errorf("viewer sync: %d", code)
	}
	code, _, hdr := f.postForm(t, "/jobs/nginx-config/sync", operatorToken, url.Values{"reason": {"disk replaced"}}, nil)
	if code != 303 || hdr.Get("Location") != "/runs/42" || len(fs.synced) != 1 || fs.synced[0] != "nginx-config alice disk replaced" {
		t.Errorf("sync: %d %v %v", code, hdr, fs.synced)
	}
}
