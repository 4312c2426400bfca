package sqlstore

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// The crash test re-executes the test binary as a child that writes journal
// rows in a loop and prints a line after each write returns. The parent
// SIGKILLs it at a random moment and checks that every printed write is in
// the database and that the database is intact.
const (
	crashChildEnv = "RIPPLE_SQLSTORE_CRASH_CHILD" // data dir for the writer child
	lockChildEnv  = "RIPPLE_SQLSTORE_LOCK_CHILD"  // data dir for the lock probe child
)

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	crashChild(dir)
}

// crashChild never returns: it writes until killed. Output lines:
//
//	run ID
//	S ID HOST STEP   (StartHostStep returned nil)
//	F ID HOST STEP   (FinishHostStep returned nil)
func crashChild(dir string) {
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n") // one write(2) per line
	}
	r := &engine.Run{Job: "crash", Commit: "c", State: engine.RunRunning}
	if err := s.CreateRun(ctx, r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	say("run %d", r.ID)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				hs := engine.HostStep{RunID: r.ID, Wave: w % 4, Host: fmt.Sprintf("h%02d", w), Step: fmt.Sprintf("s%06d", i)}
				if err := s.StartHostStep(ctx, hs); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				say("S %d %s %s", hs.RunID, hs.Host, hs.Step)
				hs.Result = engine.StepResult{Status: engine.StepOK, Stdout: strings.Repeat("x", i%500), Duration: time.Millisecond}
				if err := s.FinishHostStep(ctx, hs); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				say("F %d %s %s", hs.RunID, hs.Host, hs.Step)
			}
		}()
	}
	wg.Wait()
}

type stepKey struct {
	run        int64
	host, step string
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns and kills child processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	const kills = 8
	for k := range kills {
		acked := runAndKill(t, dir, time.Duration(20+rand.IntN(300))*time.Millisecond)

		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", k, err)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Errorf("kill %d: %v", k, err)
		}
		runs := map[int64]map[stepKey]engine.HostStep{}
		missing := 0
		for key, phase := range acked {
			if runs[key.run] == nil {
				hs, err := s.HostSteps(ctx, key.run)
				if err != nil {
					t.Fatal(err)
				}
				runs[key.run] = map[stepKey]engine.HostStep{}
				for _, h := range hs {
					runs[key.run][stepKey{h.RunID, h.Host, h.Step}] = h
				}
			}
			got, ok := runs[key.run][key]
			switch {
			case !ok:
				missing++
			case phase == engine.PhaseFinished && (got.Phase != engine.PhaseFinished || got.Result.Status != engine.StepOK):
				t.Errorf("kill %d: %v acked finished, stored %s %q", k, key, got.Phase, got.Result.Status)
			}
		}
		if missing > 0 {
			t.Errorf("kill %d: %d acknowledged writes missing", k, missing)
		}
		t.Logf("kill %d: %d acknowledged host-steps present", k, len(acked))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts the writer child on dir, SIGKILLs it after it has been
// writing for d, and returns the writes it acknowledged.
func runAndKill(t *testing.T, dir string, d time.Duration) map[stepKey]engine.StepPhase {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[stepKey]engine.StepPhase{}
	sc := bufio.NewScanner(out)
	started := false
	var timer <-chan time.Time
	lines := make(chan string)
	go func() {
		defer close(lines)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-timer:
			cmd.Process.Signal(syscall.SIGKILL)
			timer = nil
			continue
		case line, ok := <-lines:
			if !ok {
				err := cmd.Wait()
				if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
					t.Fatalf("child ended without being killed: %v", err)
				}
				if !started {
					t.Fatal("child never started writing")
				}
				return acked
			}
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == "run" {
				started = true
				timer = time.After(d)
				continue
			}
			if len(f) != 4 {
				continue // a line cut by the kill
			}
			id, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			key := stepKey{id, f[2], f[3]}
			switch f[0] {
			case "S":
				if acked[key] == "" {
					acked[key] = engine.PhaseStarted
				}
			case "F":
				acked[key] = engine.PhaseFinished
			}
		}
	}
}

func TestLockProbeChild(t *testing.T) {
	dir := os.Getenv(lockChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestLockAcrossProcesses")
	}
	s, err := Open(context.Background(), dir)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	s.Close()
	fmt.Println("opened")
}

func TestLockAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	probe := func() (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockProbeChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
		out, _ := cmd.Output()
		return string(out), cmd.ProcessState.ExitCode()
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	out, code := probe()
	want := fmt.Sprintf("data directory %s is in use by another ripple process (pid %d)", dir, os.Getpid())
	if code != 3 || !strings.Contains(out, want) {
		t.Errorf("child Open while locked: exit %d, output %q; want exit 3 and %q", code, out, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, code := probe(); code != 0 || !strings.Contains(out, "opened") {
		t.Errorf("child Open after Close: exit %d, output %q", code, out)
	}
}
