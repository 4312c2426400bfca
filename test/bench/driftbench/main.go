// Command driftbench measures a drift check beside a plain apply of the
// same job: a job with two file steps on N lab hosts (in-process SSH
// servers in a child process, so that this process's CPU is the
// controller's alone). It prints hosts/s and controller CPU per host for
// both, and checks that the drift check wrote nothing on any host.
//
//	go run ./test/bench/driftbench -hosts 200
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/gitops"
	"github.com/ripple-ops/ripple/engine/rollout"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/jobs/lab"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "lab" {
		if err := serveLab(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "driftbench lab:", err)
			os.Exit(1)
		}
		return
	}
	hosts := flag.Int("hosts", 200, "lab hosts (1 to 200)")
	parallel := flag.Int("parallel", 32, "hosts at once, for both the apply and the drift check")
	flag.Parse()
	if err := run(*hosts, *parallel); err != nil {
		fmt.Fprintln(os.Stderr, "driftbench:", err)
		os.Exit(1)
	}
}

// serveLab runs the lab until stdin closes (the parent exits).
func serveLab(args []string) error {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	n := fs.Int("hosts", 200, "")
	dir := fs.String("dir", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := lab.Start(lab.Options{Hosts: *n, Dir: *dir, Prefix: "lab", Groups: func(int) []string { return []string{"lab"} }})
	if err != nil {
		return err
	}
	defer l.Close()
	if err := os.WriteFile(filepath.Join(*dir, "inventory.hcl"), []byte(l.HCL()), 0o644); err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

const job = `
job "conf" {
  targets { groups = ["lab"] }
  step "app" {
    idempotent = true
    file {
      source      = "app.conf.tmpl"
      destination = "${host.vars.sandbox}/app.conf"
    }
  }
  step "limits" {
    idempotent = true
    file {
      source      = "limits.conf.tmpl"
      destination = "${host.vars.sandbox}/limits.conf"
      mode        = "0640"
    }
  }
  rollout {
    waves        = ["100%"]
    max_parallel = %d
  }
}
`

func run(n, parallel int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "driftbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	labDir := filepath.Join(dir, "lab")
	if err := os.MkdirAll(labDir, 0o755); err != nil {
		return err
	}
	child := exec.CommandContext(ctx, os.Args[0], "lab", "-hosts", fmt.Sprint(n), "-dir", labDir)
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); _ = child.Wait() }()
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("lab did not start: %q: %w", first, err)
	}
	if strings.TrimSpace(first) != "ready" {
		return fmt.Errorf("lab did not start: %q", first)
	}

	repo := filepath.Join(dir, "repo")
	inv, err := os.ReadFile(filepath.Join(labDir, "inventory.hcl"))
	if err != nil {
		return err
	}
	for name, body := range map[string]string{
		"inventory.hcl":    string(inv),
		"job.hcl":          strings.Replace(job, "%d", fmt.Sprint(parallel), 1),
		"app.conf.tmpl":    "# app on ${host.name}\nworkers = 8\nlisten = ${host.address}:${host.port}\n" + strings.Repeat("# padding line\n", 40),
		"limits.conf.tmpl": "nofile 65536\nnproc 4096\n",
	} {
		if err := os.MkdirAll(repo, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	defs, diags := definitions.Load(os.DirFS(repo), "bench", definitions.Limits{})
	if diags.HasErrors() {
		return fmt.Errorf("definitions: %s", diags.Error())
	}
	j := defs.Jobs["conf"]
	var hosts []string
	for _, h := range defs.Select(j.Targets) {
		hosts = append(hosts, h.Name)
	}
	sort.Strings(hosts)

	log := zerolog.Nop()
	ssh := jobs.NewSSH(jobs.SSHOptions{Logger: &log})
	transport := jobs.NewTransport(ssh, nil)
	defer transport.Close()
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer store.Close()
	runner := rollout.New(rollout.Options{Store: store, Sync: store, Executor: transport, Logger: log, ReturnOnWait: true})

	// The apply: one wave over every host, journaled like any run.
	cpu0, wall0 := cpuTime(), time.Now()
	r, err := runner.Submit(ctx, engine.RunRequest{Job: "conf", Commit: "bench", Branch: "main", Trigger: engine.TriggerApply, Waves: [][]string{hosts}})
	if err != nil {
		return err
	}
	if r, err = runner.Execute(ctx, defs, r.ID); err != nil {
		return err
	}
	if r.State != engine.RunSucceeded {
		return fmt.Errorf("apply run %s: %s", r.State, r.Error)
	}
	applyCPU, applyWall := cpuTime()-cpu0, time.Since(wall0)

	before, err := snapshot(labDir)
	if err != nil {
		return err
	}
	cpu0, wall0 = cpuTime(), time.Now()
	results, err := gitops.CheckHosts(ctx, transport, nil, defs, j, hosts)
	if err != nil {
		return err
	}
	driftCPU, driftWall := cpuTime()-cpu0, time.Since(wall0)
	clean := 0
	for _, res := range results {
		if res.Status == engine.DriftClean {
			clean++
		} else {
			fmt.Printf("unexpected: %s %s %s\n", res.Host, res.Status, res.Detail)
		}
	}
	after, err := snapshot(labDir)
	if err != nil {
		return err
	}
	wrote := 0
	for p, sum := range after {
		if before[p] != sum {
			wrote++
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			wrote++
		}
	}

	fmt.Printf("driftbench: a job with 2 file steps on %d lab hosts, %d at once\n", n, parallel)
	fmt.Printf("%-12s %10s %10s %16s\n", "", "wall", "hosts/s", "CPU per host")
	line := func(name string, wall, cpu time.Duration) {
		fmt.Printf("%-12s %10s %10.0f %13.2f ms\n", name, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), float64(cpu.Microseconds())/1000/float64(n))
	}
	line("apply", applyWall, applyCPU)
	line("drift check", driftWall, driftCPU)
	fmt.Printf("drift check / apply CPU per host: %.2f (goal <= 1, and <= 2 ms per host)\n", float64(driftCPU)/float64(applyCPU))
	fmt.Printf("hosts clean: %d/%d; files the drift check changed on the hosts: %d (must be 0)\n", clean, n, wrote)
	if wrote != 0 || clean != n {
		return fmt.Errorf("the drift check wrote to hosts or found drift")
	}
	return nil
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// snapshot is the content hash and modification time of every file under
// dir.
func snapshot(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x %d %o", sha256.Sum256(b), fi.ModTime().UnixNano(), fi.Mode())
		return nil
	})
	return out, err
}
