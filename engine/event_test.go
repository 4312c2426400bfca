package engine

import "testing"

func TestEventText(t *testing.T) {
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{Action: "submit", Actor: "ripple", Reason: "commit 0123456789ab: new job"}, "submitted: commit 0123456789ab: new job"},
		{Event{Action: "submit", Actor: "alice", Reason: "OPS-12"}, "submitted by alice: OPS-12"},
		{Event{Action: "start", Actor: "ripple", Reason: "start"}, "started"},
		{Event{Action: "start", Actor: "ripple", Reason: "resume at wave 2/3"}, "resume at wave 2/3"},
		{Event{Action: "gate_baseline", Actor: "ripple"}, "gate checks all OK before the first wave"},
		{Event{Action: "gate_baseline", Actor: "ripple", Reason: "web-http@web-01\nweb-http@web-02"},
			"2 gate checks already failing before the first wave (they count): web-http@web-01, web-http@web-02"},
		{Event{Action: "gate_baseline", Actor: "ripple", Reason: "web-http@web-01"},
			"1 gate check already failing before the first wave (they count): web-http@web-01"},
		{Event{Action: "gate_failed", Actor: "ripple", Reason: "wave 1/3: 1 host not healthy by the deadline\nweb-01: web-http@web-01 CRITICAL: 503"},
			"health gate: wave 1/3: 1 host not healthy by the deadline"},
		{Event{Action: "wait_approval", Actor: "ripple", Reason: "after wave 1"}, "waiting for approval: after wave 1"},
		{Event{Action: "needs_operator", Actor: "ripple", Reason: "step reload on web-01 was interrupted"}, "stopped for an operator: step reload on web-01 was interrupted"},
		{Event{Action: "interrupted", Actor: "ripple", Reason: "the store could not write: store cannot write: database or disk is full (13)"},
			"execution stopped: the store could not write: store cannot write: database or disk is full (13)"},
		{Event{Action: "approve", Actor: "alice"}, "approved by alice"},
		{Event{Action: "approve", Actor: "alice", Reason: "canary fine"}, "approved by alice: canary fine"},
		{Event{Action: "abort", Actor: "bob", Reason: "wrong window"}, "abort requested by bob: wrong window"},
		{Event{Action: "pause", Actor: "ripple", Reason: "before wave 2/3: 2m0s, until 2026-11-29T10:33:13Z"},
			"pause before wave 2/3: 2m0s, until 2026-11-29T10:33:13Z"},
		{Event{Action: "supersede", Actor: "alice", Reason: "superseded by 0123456789ab (the job changed)"},
			"superseded by 0123456789ab (the job changed), applied by alice"},
		{Event{Action: "supersede", Actor: "ripple", Reason: "superseded by 0123456789ab (the job changed)"},
			"superseded by 0123456789ab (the job changed)"},
		{Event{Action: "rollback", Actor: "ripple", Reason: "wave 1/2 failed: 1/1 host failed (max_failures 0)\nweb-01: step reload failed"},
			"rolling back: wave 1/2 failed: 1/1 host failed (max_failures 0)"},
		{Event{Action: "finish", Actor: "ripple", Reason: "succeeded: 3/3 hosts ok in 2 waves"}, "finished succeeded: 3/3 hosts ok in 2 waves"},
		{Event{Action: "finish", Actor: "ripple"}, "finished"},
		{Event{Action: "revert", Actor: "alice", Reason: "branch ripple/revert-0123456789ab, pull request https://github.com/acme/ops/pull/7\nnginx 1.27 breaks the config"},
			"revert proposed by alice: branch ripple/revert-0123456789ab, pull request https://github.com/acme/ops/pull/7"},
		{Event{Action: "reconcile", Actor: "carol"}, "reconcile by carol"},
		{Event{Action: "reconcile", Actor: ""}, "reconcile"},
	} {
		if got := c.ev.Text(); got != c.want {
			t.Errorf("%+v.Text() = %q, want %q", c.ev, got, c.want)
		}
	}
}
