package main

import (
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
)

// TestServeLimitFlags checks that serve takes the input limits from its
// flags and from RIPPLE_* like its other flags, the flag winning, with
// the definitions defaults otherwise.
func TestServeLimitFlags(t *testing.T) {
	getenv := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	e := env{stdout: io.Discard, stderr: io.Discard}

	e.getenv = getenv(nil)
	c, err := parseServeFlags([]string{"--repo", "."}, e)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(definitions.DefaultLimits(), c.limits); diff != "" {
		t.Errorf("default limits (-want +got):\n%s", diff)
	}

	e.getenv = getenv(map[string]string{"RIPPLE_MAX_HOSTS": "70000", "RIPPLE_MAX_DEFINITIONS_SIZE": "64MiB", "RIPPLE_MAX_TARGETS": "9", "RIPPLE_MAX_TOKENS": "3000000"})
	c, err = parseServeFlags([]string{"--repo", ".", "--max-targets", "10000000", "--max-render-size", "512KiB", "--max-blocks=200000"}, e)
	if err != nil {
		t.Fatal(err)
	}
	want := definitions.Limits{Bytes: 64 << 20, Blocks: 200000, Hosts: 70000, Tokens: 3000000, Targets: 10000000, Render: 512 << 10}
	if diff := cmp.Diff(want, c.limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}

	for _, bad := range [][]string{{"--max-hosts", "0"}, {"--max-definitions-size", "-1"}, {"--max-render-size", "12 parsecs"}} {
		if _, err := parseServeFlags(append([]string{"--repo", "."}, bad...), e); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
