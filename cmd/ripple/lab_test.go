package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabUpThenApply is the `ripple lab up` workflow: start a lab, put the
// inventory it prints into an ops repo with a job, and `ripple apply` it
// over real SSH into the lab hosts' sandboxes.
func TestLabUpThenApply(t *testing.T) {
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	labCtx, stopLab := context.WithCancel(ctx)
	defer stopLab()

	var labOut, labErr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(labCtx, []string{"lab", "up", "--hosts", "2", "--dir", labDir},
			env{stdin: strings.NewReader(""), stdout: &labOut, stderr: &labErr, getenv: func(string) string { return "" }})
	}()
	inventory := filepath.Join(labDir, "inventory.hcl")
	for !strings.Contains(labOut.String(), "Serving until Ctrl-C") {
		select {
		case err := <-done:
			t.Fatalf("lab up ended early: %v\n%s%s", err, labOut.String(), labErr.String())
		case <-ctx.Done():
			t.Fatalf("lab up never came up:\n%s%s", labOut.String(), labErr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, want := range []string{"ripple lab: 2 hosts up", `host "lab-01"`, `host "lab-02"`, `credential "default"`, inventory} {
		if !strings.Contains(labOut.String(), want) {
			t.Errorf("lab up output lacks %q:\n%s", want, labOut.String())
		}
	}
	inv, err := os.ReadFile(inventory)
	if err != nil {
		t.Fatal(err)
	}

	repo, err := newDemoRepo(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	job := `job "hello" {
  targets { hosts = ["lab-01", "lab-02"] }
  step "greet" { run = "echo hello from ${host.name} >greeting" }
}
`
	if _, err := repo.commit(map[string]string{"inventory.hcl": string(inv), "hello.hcl": job}, "try a job on the lab"); err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuffer
	err = run(ctx, []string{"apply", "--repo", repo.dir, "--data", filepath.Join(dir, "data")},
		env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, h := range []string{"lab-01", "lab-02"} {
		b, err := os.ReadFile(filepath.Join(labDir, "hosts", h, "greeting"))
		if err != nil || string(b) != "hello from "+h+"\n" {
			t.Errorf("%s: greeting = %q, %v", h, b, err)
		}
	}

	stopLab()
	if err := <-done; err != nil {
		t.Errorf("lab up: %v", err)
	}
	if !strings.Contains(labOut.String(), "ripple lab: stopped") {
		t.Errorf("lab up did not say it stopped:\n%s", labOut.String())
	}
}
