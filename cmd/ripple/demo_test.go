package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/jobs/lab"
)

// heavyTestLock serializes the tests that run a whole fleet (the demo)
// across test processes: `go test ./...` runs packages in parallel, and two
// demos at once on a 2-core machine would push each other's health gates
// past their deadlines. The lock is released when the test ends.
func heavyTestLock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "ripple-heavy-test.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

// syncBuffer is a bytes.Buffer safe for one writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoExit runs `ripple demo --exit` in-process on a free port and
// checks the story it tells: a release in three waves behind health gates,
// then a broken release halted at the canary and rolled back, exit 0.
func TestDemoExit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 12-host lab fleet and the daemon for about 40 s")
	}
	heavyTestLock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errb syncBuffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	dir := t.TempDir()
	start := time.Now()
	err := run(ctx, []string{"demo", "--exit", "--listen", "127.0.0.1:0", "--dir", dir}, e)
	t.Logf("demo took %s; output:\n%s", time.Since(start).Round(time.Second), out.String())
	if err != nil {
		if b, rerr := os.ReadFile(filepath.Join(dir, "ripple.log")); rerr == nil {
			t.Logf("daemon log:\n%s", b)
		}
		t.Fatalf("demo --exit: %v; stderr:\n%s", err, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		`(?m)^  wave 1/3  lab-01 +1 ok  → health gate passed`,
		`(?m)^  wave 2/3  lab-02 lab-03 lab-04 +3 ok  → health gate passed`,
		`(?m)^  wave 3/3  lab-05 … lab-12 \(8\) +8 ok  → health gate passed`,
		`✔ run 1 succeeded in .*: 12/12 hosts ok in 3 waves`,
		`(?m)^  wave 1/3  lab-01 +1 ok  → health gate FAILED`,
		`(?m)^  wave 2/3  .* not started$`,
		`app-health@lab-01 CRITICAL: app 1\.6\.0: cache disabled`,
		`(?m)^  rollback  lab-01 +restore ok, restart ok$`,
		`✘ run 2 FAILED`,
		`lab-01 +app 1\.5\.0 +OK app 1\.5\.0 serving +history: 1\.4\.0 → 1\.5\.0 → 1\.6\.0 → rollback to 1\.5\.0`,
		`lab-02 … lab-12 \(11\) +app 1\.5\.0 +OK app 1\.5\.0 serving +history: 1\.4\.0 → 1\.5\.0\n`,
		`everything behaved as expected`,
		`web UI  http://127\.0\.0\.1:\d+/\?token=demo-[0-9a-f]{32}  \(a sign-in link\)`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(got, "✘ release") {
		t.Errorf("a demo check failed")
	}
}

// TestDemoRepoValidates checks the demo's ops repo at each act, with a real
// lab's inventory, with `ripple validate` and `ripple fmt -check`: fast,
// so it runs under -short too.
func TestDemoRepoValidates(t *testing.T) {
	l, err := lab.Start(lab.Options{Hosts: 4, Dir: t.TempDir(), Groups: func(i int) []string {
		return []string{[]string{"web", "app"}[min(i, 1)]}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	base, err := demoBaseFiles(l.HCL())
	if err != nil {
		t.Fatal(err)
	}
	job, err := demoJob()
	if err != nil {
		t.Fatal(err)
	}
	broken, err := demoBrokenJob(job)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []struct {
		name, job string
	}{{"base", ""}, {"release", job}, {"broken", broken}} {
		t.Run(act.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range base {
				writeFile(t, filepath.Join(dir, name), content)
			}
			if act.job != "" {
				writeFile(t, filepath.Join(dir, demoJobFile), act.job)
			}
			for _, args := range [][]string{{"validate", dir}, {"fmt", "-check", dir}} {
				var out, errb syncBuffer
				err := run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
				if err != nil || strings.Contains(out.String()+errb.String(), "arning") {
					t.Errorf("ripple %s: %v\n%s%s", args[0], err, out.String(), errb.String())
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
