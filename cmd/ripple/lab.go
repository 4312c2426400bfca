package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ripple-ops/ripple/jobs/lab"
)

// runLab is `ripple lab`; its one subcommand is `up`. A help request
// (-h, --help, help) exits 0, like every command's.
func runLab(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && args[0] == "up" {
		return runLabUp(ctx, args[1:], e)
	}
	fmt.Fprintln(e.stderr, "usage: ripple lab up [--hosts N] [--dir DIR] [--prefix NAME]\n\n"+
		"lab up starts a fleet of SSH servers on loopback for trying jobs;\n"+
		"ripple lab up -h says more.")
	if len(args) == 1 && isHelpArg(args[0]) {
		return nil
	}
	return exitError{2}
}

// runLabUp is `ripple lab up`: a fleet of SSH servers on loopback, each
// running commands in its own sandbox directory, until Ctrl-C. It prints
// the inventory (credential and hosts) to paste into an ops repo and writes
// it to DIR/inventory.hcl, for trying jobs with `ripple apply`.
func runLabUp(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	hosts := fs.Int("hosts", 3, "number of lab hosts `N` (1 to 200)")
	dir := fs.String("dir", "", "`DIR` for keys, known_hosts, sandboxes and inventory.hcl (default: a temporary directory, removed on exit)")
	prefix := fs.String("prefix", "lab", "host names are `PREFIX`-01, PREFIX-02, ...")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple lab up [--hosts N] [--dir DIR] [--prefix NAME]\n\n"+
			"Starts SSH servers on 127.0.0.1, one per lab host, that run each command\n"+
			"with sh -c in the host's sandbox directory as the current user (not a\n"+
			"security boundary: use trusted repos only). Prints the inventory to put\n"+
			"in an ops repo, then serves until Ctrl-C.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if fs.NArg() > 0 || *hosts < 1 || *hosts > 200 {
		fs.Usage()
		return exitError{2}
	}
	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "ripple-lab-")
		if err != nil {
			return fmt.Errorf("lab directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		d = tmp
	} else {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("lab directory: %w", err)
		}
		d = abs
	}
	l, err := lab.Start(lab.Options{Hosts: *hosts, Dir: d, Prefix: *prefix})
	if err != nil {
		return err
	}
	defer l.Close()
	inv := filepath.Join(d, "inventory.hcl")
	hcl := "# ripple lab up: " + plural(*hosts, "host") + "; valid while it runs.\n" + l.HCL()
	if err := os.WriteFile(inv, []byte(hcl), 0o644); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	w := e.stdout
	fmt.Fprintf(w, "ripple lab: %s up on 127.0.0.1 (each on its own port, see the inventory)\n", plural(len(l.Hosts), "host"))
	fmt.Fprintf(w, "  client key   %s\n  known_hosts  %s\n  sandboxes    %s\n  inventory    %s\n",
		l.KeyFile, l.KnownHostsFile, filepath.Join(d, "hosts", "NAME"), inv)
	fmt.Fprintf(w, "\nCommands run with sh -c in each host's sandbox (also ${host.vars.sandbox}).\n"+
		"Copy the inventory into an ops repo, add a job, commit, and try it with\n"+
		"  ripple apply --repo REPO --data DATA\n\n%s\nServing until Ctrl-C.\n", hcl)
	<-ctx.Done()
	fmt.Fprintln(w, "ripple lab: stopped")
	return nil
}
