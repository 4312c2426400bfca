package test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestSSHFleet runs the SSH transport against real OpenSSH sshd hosts. The
// subtests share one fleet; each uses its own host(s) or files.
func TestSSHFleet(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 8, LogLevel: "INFO"})
	s := newSSH(t, jobs.SSHOptions{})

	t.Run("commands and exit codes", func(t *testing.T) {
		ctx := testCtx(t)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ep := f.Endpoint(i)
				r := s.RunStep(ctx, ep, runStep(definitions.StepRun, `echo "hello from $(hostname)"; echo warn >&2`))
				wantStatus(t, "echo", r, engine.StepOK)
				if r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "hello from ") || r.Stderr != "warn\n" {
					t.Errorf("host %d: exit %d stdout %q stderr %q", i, r.ExitCode, r.Stdout, r.Stderr)
				}
				r = s.RunStep(ctx, ep, runStep(definitions.StepRun, "echo no >&2; exit 3"))
				wantStatus(t, "exit 3", r, engine.StepFailed)
				if r.ExitCode != 3 || !strings.Contains(r.Error, "exit status 3: no") {
					t.Errorf("host %d: exit %d error %q", i, r.ExitCode, r.Error)
				}
			}()
		}
		wg.Wait()

		// Shell syntax is interpreted by the remote shell, never locally.
		res, err := s.Exec(ctx, f.Endpoint(0), `x='a b'; printf '[%s]' "$x" "$(echo c)"`, nil, 5*time.Second)
		if err != nil || string(res.Stdout) != "[a b][c]" || res.ExitCode != 0 {
			t.Fatalf("Exec: %v %+v", err, res)
		}
		// stdin reaches the command.
		res, err = s.Exec(ctx, f.Endpoint(0), "tr a-z A-Z", strings.NewReader("stdin works"), 5*time.Second)
		if err != nil || string(res.Stdout) != "STDIN WORKS" {
			t.Fatalf("Exec stdin: %v %+v", err, res)
		}
	})

	t.Run("script", func(t *testing.T) {
		ctx := testCtx(t)
		step := &definitions.HostStep{Kind: definitions.StepScript, Timeout: 10 * time.Second,
			Script: []byte("#!/bin/sh\necho \"running $0 as $(id -un)\"\nls -l \"$0\" | cut -c1-10\nexit 5\n")}
		r := s.RunStep(ctx, f.Endpoint(1), step)
		wantStatus(t, "script", r, engine.StepFailed)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if r.ExitCode != 5 || len(lines) != 2 || lines[1] != "-rwx------" {
			t.Fatalf("script: exit %d stdout %q", r.ExitCode, r.Stdout)
		}
		path := strings.Fields(lines[0])[1]
		if exists(path) {
			t.Fatalf("script %s left behind", path)
		}
		step.Script = []byte("echo no shebang; exit 0")
		r = s.RunStep(ctx, f.Endpoint(1), step)
		wantStatus(t, "script without #!", r, engine.StepOK)

		// A job's params reach a script as its environment, quoted as one
		// word each, with or without #!.
		step.Env = []string{"RIPPLE_PARAM_SERVICE=app; rm -rf /nope", "RIPPLE_PARAM_HOSTS=a\nb"}
		for _, body := range []string{"#!/bin/sh\n", ""} {
			step.Script = []byte(body + `printf '[%s]' "$RIPPLE_PARAM_SERVICE" $RIPPLE_PARAM_HOSTS`)
			r = s.RunStep(ctx, f.Endpoint(1), step)
			wantStatus(t, "script with params", r, engine.StepOK)
			if r.Stdout != "[app; rm -rf /nope][a][b]" {
				t.Errorf("script with params printed %q", r.Stdout)
			}
		}
	})

	t.Run("file changed unchanged restored", func(t *testing.T) {
		ctx := testCtx(t)
		ep := f.Endpoint(2)
		dest := filepath.Join(f.Hosts[2].Dir, "app.conf")

		r1 := s.RunStep(ctx, ep, fileStep(dest, "v1\n", 0o640))
		wantStatus(t, "first write", r1, engine.StepChanged)
		if r1.Backup == nil || r1.Backup.Existed || r1.Backup.Destination != dest {
			t.Fatalf("first write backup %+v", r1.Backup)
		}
		checkFile(t, dest, "v1\n", 0o640)

		r := s.RunStep(ctx, ep, fileStep(dest, "v1\n", 0o640))
		wantStatus(t, "same content", r, engine.StepUnchanged)
		if r.Backup != nil {
			t.Fatalf("unchanged step has a backup %+v", r.Backup)
		}

		r = s.RunStep(ctx, ep, fileStep(dest, "v1\n", 0o600))
		wantStatus(t, "mode only", r, engine.StepChanged)
		checkFile(t, dest, "v1\n", 0o600)

		r2 := s.RunStep(ctx, ep, fileStep(dest, "v2\n", 0o644))
		wantStatus(t, "second write", r2, engine.StepChanged)
		checkFile(t, dest, "v2\n", 0o644)
		if r2.Backup == nil || !r2.Backup.Existed || filepath.Dir(r2.Backup.Path) != filepath.Dir(dest) {
			t.Fatalf("second write backup %+v", r2.Backup)
		}
		checkFile(t, r2.Backup.Path, "v1\n", 0o600)
		if left, _ := filepath.Glob(filepath.Join(f.Hosts[2].Dir, ".app.conf.ripple-tmp.*")); len(left) > 0 {
			t.Fatalf("temp files left: %v", left)
		}

		wantStatus(t, "restore v1", s.Restore(ctx, ep, r2.Backup), engine.StepChanged)
		checkFile(t, dest, "v1\n", 0o600)
		wantStatus(t, "restore absent", s.Restore(ctx, ep, r1.Backup), engine.StepChanged)
		if exists(dest) {
			t.Fatal("restoring a backup of an absent file left the file")
		}

		r = s.RunStep(ctx, ep, fileStep("relative/path", "x", 0))
		wantStatus(t, "relative destination", r, engine.StepFailed)
		r = s.RunStep(ctx, ep, fileStep(filepath.Join(f.Hosts[2].Dir, "no/such/dir/x"), "x", 0))
		wantStatus(t, "missing directory", r, engine.StepFailed)
	})

	t.Run("connection reused across steps", func(t *testing.T) {
		ctx := testCtx(t)
		const h = 3
		ep := f.Endpoint(h)
		var wg sync.WaitGroup
		for i := range 24 { // more than MaxSessions (10) at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.RunStep(ctx, ep, runStep(definitions.StepRun, "sleep 0.2; echo "+strconv.Itoa(i)))
				wantStatus(t, "parallel command", r, engine.StepOK)
			}()
		}
		wg.Wait()
		wantStatus(t, "file", s.RunStep(ctx, ep, fileStep(filepath.Join(f.Hosts[h].Dir, "x"), "x", 0)), engine.StepChanged)
		if n := f.AcceptedLogins(h); n != 1 {
			t.Fatalf("%d SSH logins for 26 commands, want 1 reused connection", n)
		}
	})

	t.Run("reconnect after host restart", func(t *testing.T) {
		ctx := testCtx(t)
		const h = 4
		wantStatus(t, "before", s.RunStep(ctx, f.Endpoint(h), runStep(definitions.StepRun, "true")), engine.StepOK)
		f.StopHost(h)
		r := s.RunStep(ctx, f.Endpoint(h), runStep(definitions.StepRun, "true"))
		wantStatus(t, "host down", r, engine.StepUnreachable)
		f.StartHost(h)
		wantStatus(t, "after", s.RunStep(ctx, f.Endpoint(h), runStep(definitions.StepRun, "true")), engine.StepOK)
	})

	t.Run("timeout kills the remote process", func(t *testing.T) {
		ctx := testCtx(t)
		marker := fmt.Sprintf("ripple-orphan-%d", time.Now().UnixNano())
		sleep := fmt.Sprintf("sleep 31%d.5", time.Now().UnixNano()%1000)
		step := runStep(definitions.StepRun, sleep+"; echo "+marker)
		step.Timeout = time.Second
		start := time.Now()
		r := s.RunStep(ctx, f.Endpoint(5), step)
		wantStatus(t, "sleep", r, engine.StepTimeout)
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("timed-out step took %v", d)
		}
		if left := pgrep(t, marker) + pgrep(t, sleep); left != "" {
			t.Fatalf("orphan processes after timeout:\n%s", left)
		}
		// The connection is still good for the next step.
		wantStatus(t, "after timeout", s.RunStep(ctx, f.Endpoint(5), runStep(definitions.StepRun, "true")), engine.StepOK)
	})

	t.Run("changed host key refused, nothing sent", func(t *testing.T) {
		ctx := testCtx(t)
		const h = 6
		f.RotateHostKey(h)
		pwned := filepath.Join(f.Hosts[h].Dir, "pwned")
		r := s.RunStep(ctx, f.Endpoint(h), runStep(definitions.StepRun, "touch "+pwned))
		wantStatus(t, "changed key", r, engine.StepUnreachable)
		if !strings.Contains(r.Error, "HOST KEY CHANGED") {
			t.Fatalf("error %q does not say the host key changed", r.Error)
		}
		_, err := s.Exec(ctx, f.Endpoint(h), "touch "+pwned, nil, time.Second)
		if !errors.Is(err, jobs.ErrHostKeyChanged) || errors.Is(err, jobs.ErrHostUnknown) {
			t.Fatalf("Exec error %v, want ErrHostKeyChanged", err)
		}
		if exists(pwned) {
			t.Fatal("a command ran on a host with a changed key")
		}
	})

	t.Run("unknown host refused, nothing sent", func(t *testing.T) {
		ctx := testCtx(t)
		const h = 7
		ep := f.Endpoint(h)
		ep.Credential.KnownHostsFile = knownHostsWithout(t, f, h)
		pwned := filepath.Join(f.Hosts[h].Dir, "pwned")
		_, err := s.Exec(ctx, ep, "touch "+pwned, nil, time.Second)
		if !errors.Is(err, jobs.ErrHostUnknown) || errors.Is(err, jobs.ErrHostKeyChanged) {
			t.Fatalf("Exec error %v, want ErrHostUnknown", err)
		}
		r := s.RunStep(ctx, ep, runStep(definitions.StepRun, "touch "+pwned))
		wantStatus(t, "unknown host", r, engine.StepUnreachable)
		if !strings.Contains(r.Error, "unknown") {
			t.Fatalf("error %q does not say the host is unknown", r.Error)
		}
		if exists(pwned) {
			t.Fatal("a command ran on an unknown host")
		}
	})

	t.Run("redaction", func(t *testing.T) {
		ctx := testCtx(t)
		const secret = "s3cr3t-Planted-Value"
		ep := f.Endpoint(0)
		step := runStep(definitions.StepRun, "echo out "+secret+"; echo err "+secret+" >&2; exit 9")
		step.Secrets = []string{secret}
		r := s.RunStep(ctx, ep, step)
		wantStatus(t, "secret command", r, engine.StepFailed)
		for name, v := range map[string]string{"stdout": r.Stdout, "stderr": r.Stderr, "error": r.Error} {
			if strings.Contains(v, secret) || !strings.Contains(v, jobs.Redacted) {
				t.Errorf("%s not redacted: %q", name, v)
			}
		}
		// Errors that are not command output: a bad destination naming it.
		fs := fileStep("bad/"+secret, "x", 0)
		fs.Secrets = []string{secret}
		r = s.RunStep(ctx, ep, fs)
		if strings.Contains(r.Error, secret) || !strings.Contains(r.Error, jobs.Redacted) {
			t.Errorf("error not redacted: %q", r.Error)
		}
		// A timed-out command's partial output.
		step = runStep(definitions.StepRun, "echo "+secret+"; sleep 10")
		step.Secrets, step.Timeout = []string{secret}, 500*time.Millisecond
		r = s.RunStep(ctx, ep, step)
		wantStatus(t, "timed-out secret", r, engine.StepTimeout)
		if strings.Contains(r.Stdout, secret) || r.Stdout != jobs.Redacted+"\n" {
			t.Errorf("timed-out stdout not redacted: %q", r.Stdout)
		}
		// Output past the cap, cut in the middle of the secret.
		small := newSSH(t, jobs.SSHOptions{OutputLimit: 1000})
		step = runStep(definitions.StepRun, "head -c 990 /dev/zero | tr '\\0' x; echo "+secret)
		step.Secrets = []string{secret}
		r = small.RunStep(ctx, ep, step)
		wantStatus(t, "capped output", r, engine.StepOK)
		if strings.Contains(r.Stdout, secret[:5]) || !strings.Contains(r.Stdout, "output truncated") {
			t.Errorf("capped output leaks or is not marked: %q", r.Stdout[980:])
		}
	})

	t.Run("passphrase key and redaction", func(t *testing.T) {
		ctx := testCtx(t)
		const pass = "correct-horse-battery-staple"
		keyFile := addPassphraseKey(t, f, pass)
		ep := f.Endpoint(1)
		ep.Credential.PrivateKeyFile, ep.Passphrase = keyFile, pass
		r := s.RunStep(ctx, ep, runStep(definitions.StepRun, "echo "+pass))
		wantStatus(t, "passphrase key", r, engine.StepOK)
		if r.Stdout != jobs.Redacted+"\n" {
			t.Fatalf("passphrase not redacted: %q", r.Stdout)
		}
		// A fresh transport: the pooled connection is already authenticated.
		ep.Passphrase = "wrong"
		_, err := newSSH(t, jobs.SSHOptions{}).Exec(ctx, ep, "true", nil, time.Second)
		if !errors.Is(err, jobs.ErrAuth) {
			t.Fatalf("wrong passphrase: %v, want ErrAuth", err)
		}
	})
}

func checkFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content || fi.Mode().Perm() != mode {
		t.Fatalf("%s: content %q mode %v, want %q %v", path, b, fi.Mode().Perm(), content, mode)
	}
}

// TestSSHTarpit: a port that accepts TCP and never speaks SSH fails within
// the handshake deadline instead of hanging.
func TestSSHTarpit(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() { // ends when l is closed
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

	s := newSSH(t, jobs.SSHOptions{HandshakeTimeout: time.Second})
	ep := f.Endpoint(0)
	ep.Host.Address = "127.0.0.1"
	ep.Host.Port = l.Addr().(*net.TCPAddr).Port
	start := time.Now()
	_, err = s.Exec(testCtx(t), ep, "true", nil, 10*time.Second)
	d := time.Since(start)
	if !errors.Is(err, jobs.ErrUnreachable) {
		t.Fatalf("tarpit: %v, want ErrUnreachable", err)
	}
	if d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("tarpit failed after %v, want about the 1s handshake deadline", d)
	}
	r := s.RunStep(testCtx(t), ep, runStep(definitions.StepRun, "true"))
	wantStatus(t, "tarpit", r, engine.StepUnreachable)
}

// TestLocalTransport: hosts with transport "local" get the same semantics
// through Transport without SSH.
func TestLocalTransport(t *testing.T) {
	tr := jobs.NewTransport(nil, jobs.NewLocal(jobs.SSHOptions{KillGrace: time.Second}))
	ep := engine.Endpoint{Host: &definitions.Host{Name: "controller", Address: "localhost", Transport: "local"}}
	ctx := testCtx(t)

	r := tr.RunStep(ctx, ep, runStep(definitions.StepRun, "echo hi; exit 4"))
	wantStatus(t, "local exit 4", r, engine.StepFailed)
	if r.ExitCode != 4 || r.Stdout != "hi\n" {
		t.Fatalf("local: %+v", r)
	}

	marker := fmt.Sprintf("ripple-local-orphan-%d", time.Now().UnixNano())
	step := runStep(definitions.StepRun, "sh -c 'sleep 300; echo "+marker+"' & sleep 300; echo "+marker)
	step.Timeout = 500 * time.Millisecond
	r = tr.RunStep(ctx, ep, step)
	wantStatus(t, "local timeout", r, engine.StepTimeout)
	if left := pgrep(t, marker); left != "" {
		t.Fatalf("local orphans:\n%s", left)
	}

	dest := filepath.Join(t.TempDir(), "f.conf")
	r1 := tr.RunStep(ctx, ep, fileStep(dest, "one", 0o600))
	wantStatus(t, "local write", r1, engine.StepChanged)
	wantStatus(t, "local same", tr.RunStep(ctx, ep, fileStep(dest, "one", 0o600)), engine.StepUnchanged)
	r2 := tr.RunStep(ctx, ep, fileStep(dest, "two", 0o600))
	wantStatus(t, "local rewrite", r2, engine.StepChanged)
	wantStatus(t, "local restore", tr.Restore(ctx, ep, r2.Backup), engine.StepChanged)
	checkFile(t, dest, "one", 0o600)

	res, err := tr.Exec(ctx, ep, "cat", bytes.NewReader([]byte("in")), time.Second)
	if err != nil || string(res.Stdout) != "in" {
		t.Fatalf("local Exec: %v %+v", err, res)
	}
}
