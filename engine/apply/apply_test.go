package apply

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// mapRepo is an ApplyRepo of in-memory commits; HEAD is the last added.
type mapRepo struct {
	commits map[string]fs.FS
	head    string
}

func (r *mapRepo) Resolve(rev string) (string, error) {
	if rev == "HEAD" {
		rev = r.head
	}
	if _, ok := r.commits[rev]; !ok {
		return "", fmt.Errorf("unknown revision %s", rev)
	}
	return rev, nil
}

func (r *mapRepo) CommitFS(commit string) (fs.FS, error) {
	f, ok := r.commits[commit]
	if !ok {
		return nil, fmt.Errorf("no commit %s", commit)
	}
	return f, nil
}

func (r *mapRepo) commit(id string, files map[string]string) {
	if r.commits == nil {
		r.commits = map[string]fs.FS{}
	}
	r.commits[id] = enginetest.MapFS(files)
	r.head = id
}

func applyFleet(n int) string {
	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/k\"\n  known_hosts_file = \"/kh\"\n}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "host %q {\n  address = \"10.0.0.%d\"\n  groups = [\"all\"]\n}\n", hostName(i), i)
	}
	return b.String()
}

const applyJob = `
job "app" {
  targets { groups = ["all"] }
  step "one" { run = "echo %s" }
  rollout {
    waves        = [1, "50%%"]
    max_parallel = 4
  }
}
`

func applyOpts(f *fixture, repo *mapRepo) Options {
	return Options{Repo: repo, Store: f.store, Executor: f.exec, Checker: f.checker, Clock: f.clock,
		Progress: f.events, Logger: zerolog.New(zerolog.NewTestWriter(f.t)).Level(zerolog.WarnLevel), Key: "main", Actor: "ci"}
}

func TestApplyRunsChangedJobsAndRecordsTheCommit(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(5), "jobs.hcl": fmt.Sprintf(applyJob, "v1")})
	ctx := context.Background()

	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || !res.Applied || len(res.Runs) != 1 || res.Runs[0].State != engine.RunSucceeded {
		t.Fatalf("result %+v", res)
	}
	if got := fmt.Sprint(res.Runs[0].Waves); got != "[[h01] [h02 h03] [h04 h05]]" {
		t.Fatalf("waves %s", got)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c1" {
		t.Fatalf("last applied %q", c)
	}
	// Nothing new: nothing runs.
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Runs) != 0 || !res.Applied {
		t.Fatalf("second apply: %+v, %v", res, err)
	}
	if n := len(f.exec.Calls()); n != 5 {
		t.Fatalf("%d calls, want 5", n)
	}
}

func TestApplyFailedCommitIsNotRetried(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(applyJob, "v1")})
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		return engine.StepResult{Status: engine.StepFailed, Error: "nope"}
	})
	ctx := context.Background()
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || res.Applied {
		t.Fatalf("result %+v", res)
	}
	calls := len(f.exec.Calls())
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || len(f.exec.Calls()) != calls {
		t.Fatalf("re-apply ran again: %d calls, result %+v", len(f.exec.Calls()), res)
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "not retried") {
		t.Fatalf("notes %q", res.Notes)
	}
	// A new commit runs the job again.
	f.exec.SetBehave(nil)
	repo.commit("c2", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(applyJob, "v2")})
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || res.Failed() || !res.Applied {
		t.Fatalf("new commit: %+v, %v", res, err)
	}
}

func TestApplyInvalidDefinitionsRunNothing(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(2), "jobs.hcl": "job \"app\" {\n  bogus = 1\n}\n"})
	res, err := Run(context.Background(), applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Diagnostics.HasErrors() || !res.Failed() || len(f.exec.Calls()) != 0 || res.Applied {
		t.Fatalf("result %+v", res)
	}
}

func TestApplyApprovalAndResume(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	job := strings.Replace(fmt.Sprintf(applyJob, "v1"), "max_parallel = 4", "max_parallel = 4\n    approve_after = 1", 1)
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(4), "jobs.hcl": job})
	ctx := context.Background()
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Waiting(); len(w) != 1 || w[0].State != engine.RunWaitingApproval || res.Applied {
		t.Fatalf("result %+v", res)
	}
	// A plain re-run keeps waiting and runs nothing.
	if res, err = Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 || len(f.exec.Calls()) != 1 {
		t.Fatalf("plain re-run: %+v %v", res, err)
	}
	o := applyOpts(f, repo)
	o.Decision = DecisionApprove
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || !res.Applied || len(f.exec.Calls()) != 4 {
		t.Fatalf("after approval: %+v, %d calls", res, len(f.exec.Calls()))
	}
}

// followingSecrets is a secret source that follows applied commits and
// notes which credential files it was told of before the first read.
type followingSecrets struct {
	protected []string
	atRead    []string
}

func (s *followingSecrets) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	for _, f := range defs.CredentialFiles() {
		s.protected = append(s.protected, f.Path)
	}
	return nil
}

func (s *followingSecrets) Env(string) (string, bool) {
	if s.atRead == nil {
		s.atRead = append([]string{}, s.protected...)
	}
	return "v", true
}

func (s *followingSecrets) ReadFile(string, []definitions.ProtectedFile) ([]byte, error) {
	return nil, fs.ErrNotExist
}

// TestApplyProtectsCredentialsBeforeRendering: the secret source learns
// the credential files of the commit being applied before any step
// renders.
func TestApplyProtectsCredentialsBeforeRendering(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(1), "jobs.hcl": `
job "app" {
  targets { groups = ["all"] }
  step "one" { run = "echo ${env("X")}" }
}
`})
	secrets := &followingSecrets{}
	opts := applyOpts(f, repo)
	opts.Secrets = secrets
	res, err := Run(context.Background(), opts)
	if err != nil || res.Failed() {
		t.Fatalf("apply: %v, %+v", err, res)
	}
	if want := []string{"/k", "/kh"}; !slices.Equal(secrets.atRead, want) {
		t.Errorf("protected before the first render: %q, want %q", secrets.atRead, want)
	}
}
