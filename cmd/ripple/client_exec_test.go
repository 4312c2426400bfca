package main

import (
	"bytes"
	"testing"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// TestPrintHostOutput: each host's part of an exec run is a header with
// its outcome, exit code and duration, then what it printed; a failure's
// error is added only when it says more than the stderr above it.
func TestPrintHostOutput(t *testing.T) {
	for _, c := range []struct {
		name string
		h    httpapi.HostRun
		want string
	}{
		{"ok", httpapi.HostRun{Host: "web-01", State: "ok", Steps: []httpapi.StepResult{{Step: "exec", Status: "ok", DurationMS: 12, Stdout: " 14:02 up 12 days\n"}}},
			"== web-01: ok (exit 0, 12ms)\n 14:02 up 12 days\n"},
		{"stderr says it", httpapi.HostRun{Host: "web-02", State: "failed", Steps: []httpapi.StepResult{{Step: "exec", Status: "failed", ExitCode: 1, DurationMS: 90,
			Stderr: "cat: x: No such file or directory\n", Error: "command: exit status 1: cat: x: No such file or directory"}}},
			"== web-02: failed (exit 1, 90ms)\ncat: x: No such file or directory\n"},
		{"timeout", httpapi.HostRun{Host: "web-03", State: "failed", Steps: []httpapi.StepResult{{Step: "exec", Status: "timeout", ExitCode: -1, DurationMS: 5000,
			Stdout: "waiting", Error: "timed out after 5s"}}},
			"== web-03: timeout (exit -1, 5s)\nwaiting\n   timed out after 5s\n"},
		{"unreachable", httpapi.HostRun{Host: "web-04", State: "not_started"}, "== web-04: not started\n"},
	} {
		var out bytes.Buffer
		printHostOutput(env{stdout: &out}, c.h)
		if out.String() != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, out.String(), c.want)
		}
	}
}
