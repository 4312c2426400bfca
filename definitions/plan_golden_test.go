package definitions_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/plan")

// TestPlanGolden plans real git histories. testdata/plan/base is the first
// commit of every case; each numbered directory of a case (2, 3, ...) is a
// later commit, laid over the one before: its files replace or add, and
// the paths listed in its DELETE file go. A case with no numbered
// directory plans the base commit from nothing. plan.golden holds the text
// and JSON plans of every commit against its parent, with commit ids
// replaced by their number.
func TestPlanGolden(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary")
	}
	entries, err := os.ReadDir("testdata/plan")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "base" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			caseDir := filepath.Join("testdata/plan", e.Name())
			dir := t.TempDir()
			git(t, dir, "init", "-q", "-b", "main")
			commits := []string{commitOverlay(t, dir, "testdata/plan/base", "base")}
			for _, step := range steps(t, caseDir) {
				commits = append(commits, commitOverlay(t, dir, filepath.Join(caseDir, step), "commit "+step))
			}
			repo, err := source.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			first := 1
			if len(commits) == 1 {
				first = 0
			}
			for i := first; i < len(commits); i++ {
				from := ""
				if i > 0 {
					from = commits[i-1]
				}
				fmt.Fprintf(&out, "=== plan %d -> %d\n", i, i+1)
				writePlan(t, &out, repo, from, commits[i])
			}
			got := out.String()
			for i, c := range commits {
				got = strings.ReplaceAll(got, c, fmt.Sprintf("<commit %d>", i+1))
				got = strings.ReplaceAll(got, c[:12], fmt.Sprintf("<commit %d>", i+1))
			}
			golden := filepath.Join(caseDir, "plan.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan differs from %s (-want +got; go test -update rewrites it):\n%s", golden, diff)
			}
		})
	}
}

func writePlan(t *testing.T, out *bytes.Buffer, repo *source.Repo, from, to string) {
	t.Helper()
	load := func(commit string) *definitions.Definitions {
		fsys, err := repo.FS(commit)
		if err != nil {
			t.Fatal(err)
		}
		d, diags := definitions.Load(fsys, commit, definitions.Limits{})
		if diags.HasErrors() {
			t.Fatalf("load %s: %s", commit, diags.Error())
		}
		return d
	}
	var old *definitions.Definitions
	if from != "" {
		old = load(from)
	}
	newDefs := load(to)
	p := definitions.Plan(definitions.Diff(old, newDefs), newDefs)
	if err := p.WriteText(out); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString("--- json\n")
	out.Write(js)
	out.WriteString("\n")
}

// steps lists the numbered commit directories of a case in order.
func steps(t *testing.T, caseDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// commitOverlay lays src over the work tree in dir and commits it.
func commitOverlay(t *testing.T, dir, src, msg string) string {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "DELETE" {
			for _, name := range strings.Fields(string(data)) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return err
				}
			}
			return nil
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return git(t, dir, "rev-parse", "HEAD")
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
