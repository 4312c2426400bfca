package gitops

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/source"
)

// bigDefinitions is about 60 MB of host blocks: 16 files just under the
// per-file cap, all the same blob (the cheapest way to push them: git
// stores it once).
func bigDefinitions() map[string]string {
	var b strings.Builder
	for i := 0; b.Len() < definitions.MaxFileSize-200; i++ {
		fmt.Fprintf(&b, "host \"h%d\" {\n  address = \"10.0.0.1\"\n}\n", i)
	}
	files := map[string]string{}
	for i := range 16 {
		files[fmt.Sprintf("inventory/big-%02d.hcl", i)] = b.String()
	}
	return files
}

// TestPullRequestOverLimitsFailsFast: a pull request head holding about
// 60 MB of definitions gets a ripple/validate failure naming the size
// limit within seconds, and the daemon's heap stays flat: the files are
// never read, let alone parsed (before the limits, planning such a head
// took the daemon from 35 MB to 5.9 GB).
func TestPullRequestOverLimitsFailsFast(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	base := repo.Commit("base", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	comments := &dmComments{}
	d := dmDaemon(t, repo, store, runner, func(o *Options) { o.Comments = comments })
	dmRun(t, d)
	dmWait(t, "base applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == base })

	repo.Git("checkout", "-q", "-b", "big")
	prHead := repo.Commit("60 MB of hosts", bigDefinitions())
	repo.Git("update-ref", "refs/pull/9/head", prHead)
	repo.Git("checkout", "-q", "main")

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := d.PullRequest(context.Background(), engine.PullRequestEvent{Number: 9, Action: "opened", HeadSHA: prHead, BaseRef: "main", HeadRef: "big"}); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "plan status", func() bool { _, ok := store.StatusOf(prHead, engine.StatusPlan); return ok })
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("refused in %v; allocated %d KiB; heap grew %d KiB", elapsed, allocated>>10, grown>>10)

	st, _ := store.StatusOf(prHead, engine.StatusValidate)
	if st.State != "failure" || st.Description != "invalid: 1 error: Definitions over the size limit (16 MiB)" {
		t.Errorf("ripple/validate = %s %q", st.State, st.Description)
	}
	if st, _ := store.StatusOf(prHead, engine.StatusPlan); st.State != "failure" {
		t.Errorf("ripple/plan = %+v", st)
	}
	if got := comments.get(); len(got) != 1 || !strings.Contains(got[0].body, "error: Definitions over the size limit (16 MiB)") {
		t.Errorf("comments = %+v", got)
	}
	// Generous bounds: the fetch copies one 4 MiB blob; parsing the head
	// would allocate gigabytes.
	if elapsed > 5*time.Second {
		t.Errorf("refusing took %v", elapsed)
	}
	if allocated > 64<<20 || grown > 16<<20 {
		t.Errorf("allocated %d MiB, heap grew %d MiB while refusing", allocated>>20, grown>>20)
	}
}

// BenchmarkLoadOverLimits loads a commit of about 60 MB of definitions
// from a git object store, as the daemon validates a pull request head:
// refused from the tree's sizes alone.
func BenchmarkLoadOverLimits(b *testing.B) {
	repo := enginetest.NewGitRepo(b)
	head := repo.Commit("60 MB of hosts", bigDefinitions())
	r, err := source.Open(repo.Dir)
	if err != nil {
		b.Fatal(err)
	}
	cache := definitions.NewCache()
	b.ReportAllocs()
	for b.Loop() {
		_, diags, err := engine.LoadCommit(cache, r, head, definitions.Limits{})
		if err != nil || len(diags) != 1 {
			b.Fatalf("%v %v", err, diags)
		}
	}
}

// TestPlanCommentManyWaves checks that the plan comment's row for a job
// with thousands of waves stays short: the first wave sizes and a count.
func TestPlanCommentManyWaves(t *testing.T) {
	waves := make([][]string, 5000)
	for i := range waves {
		waves[i] = []string{fmt.Sprintf("h%04d", i)}
	}
	p := &definitions.PlanResult{To: "b", Jobs: []definitions.PlannedJob{{Name: "serial", Reasons: []string{"new job"}, Waves: waves}}}
	body := planComment(strings.Repeat("b", 40), p, nil)
	row := ""
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "| `serial`") {
			row = line
		}
	}
	if want := "| `serial` | 5000 | 1 → 1 → 1 → 1 → 1 → 1 → 1 → 1 → 1 → 1 → … (5000 waves) | new job |"; row != want {
		t.Errorf("row = %q, want %q", row, want)
	}
}
