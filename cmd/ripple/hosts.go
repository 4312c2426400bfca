package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/jobs"
)

// runHosts dispatches `ripple hosts SUBCOMMAND`.
func runHosts(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && args[0] == "trust" {
		return runHostsTrust(ctx, args[1:], e)
	}
	fmt.Fprintln(e.stderr, "usage: ripple hosts trust [--dir DIR] NAME...")
	return exitError{2}
}

// runHostsTrust scans the SSH host key of each named host and records it in
// the host's credential known_hosts file. A host already recorded with the
// same key is left alone; a host presenting a different key is refused and
// its entry is never replaced. Exit status: 0 all trusted, 1 any refused or
// unreachable, 2 usage error.
func runHostsTrust(ctx context.Context, args []string, e env) error {
	fset := flag.NewFlagSet("hosts trust", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	dir := fset.String("dir", ".", "ops repo `DIR` holding the definitions")
	timeout := fset.Duration("timeout", 10*time.Second, "connect and handshake timeout per host")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple hosts trust [--dir DIR] NAME...\n\nConnects to each host, prints its SSH host key fingerprint and appends the\nkey to the known_hosts_file of the host's credential. Never replaces a key.")
		fset.PrintDefaults()
	}
	names, err := parseInterspersed(fset, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if len(names) == 0 {
		fset.Usage()
		return exitError{2}
	}
	defs, diags := definitions.Load(os.DirFS(*dir), "", definitions.Limits{})
	if diags.HasErrors() {
		definitions.WriteDiagnostics(e.stderr, defs.Files, diags, false)
		return fmt.Errorf("hosts trust: the definitions in %s are not valid", *dir)
	}
	failed := 0
	for _, name := range names {
		if err := trustHost(ctx, defs, name, *timeout, e); err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
			failed++
		}
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

func trustHost(ctx context.Context, defs *definitions.Definitions, name string, timeout time.Duration, e env) error {
	h, ok := defs.Hosts[name]
	if !ok {
		return fmt.Errorf("no host %q in the definitions", name)
	}
	if h.Transport == "local" {
		fmt.Fprintf(e.stdout, "%s: local transport, no host key to trust\n", name)
		return nil
	}
	cred := defs.Credential(h)
	if cred == nil {
		return fmt.Errorf("credential %q is not defined", h.Credential)
	}
	if cred.KnownHostsFile == "" {
		return fmt.Errorf("credential %q has no known_hosts_file", cred.Name)
	}
	port := h.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(h.Address, strconv.Itoa(port))
	res, err := jobs.TrustHost(ctx, cred.KnownHostsFile, addr, timeout)
	if err != nil {
		if errors.Is(err, jobs.ErrHostKeyChanged) {
			fmt.Fprintf(e.stderr, "%s: if the new key is expected (host reinstalled), verify it out of band, remove the old line from %s and run this again\n", name, cred.KnownHostsFile)
			return fmt.Errorf("REFUSED: %w", err)
		}
		return err
	}
	if res.Added {
		fmt.Fprintf(e.stdout, "%s %s %s %s: added to %s\n", name, addr, res.Key.Type(), res.Fingerprint, cred.KnownHostsFile)
	} else {
		fmt.Fprintf(e.stdout, "%s %s %s %s: already known, unchanged\n", name, addr, res.Key.Type(), res.Fingerprint)
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fset *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			return nil, err
		}
		args = fset.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
