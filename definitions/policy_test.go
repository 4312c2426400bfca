package definitions

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// policyRepo is an ops repo of 20 web hosts and one job "app" with the
// given job attributes and rollout block body.
func policyRepo(attrs, rollout string) map[string]string {
	var hosts strings.Builder
	hosts.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/keys/deploy\"\n}\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&hosts, "host \"web-%02d\" {\n  address = \"10.0.1.%d\"\n  groups  = [\"web\"]\n}\n", i, i)
	}
	hosts.WriteString("window \"night\" {\n  cron     = \"0 1 * * *\"\n  duration = \"4h\"\n}\n")
	return map[string]string{
		"inventory.hcl": hosts.String(),
		"monitors.hcl": `
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}:8080/healthz" }
}
monitor "web-tcp" {
  targets { groups = ["web"] }
  check "tcp" { port = 443 }
}
`,
		"jobs/app.hcl": fmt.Sprintf(`
job "app" {
  targets { groups = ["web"] }
  %s
  step "deploy" { run = "deploy" }
  rollout {
    %s
  }
}
`, attrs, rollout),
	}
}

// policyOf diffs two versions of job "app" and returns its policy change,
// or nil when there is none.
func policyOf(t *testing.T, oldAttrs, oldRollout, newAttrs, newRollout string) *PolicyChange {
	t.Helper()
	old := loadForDiff(t, policyRepo(oldAttrs, oldRollout), "old")
	new := loadForDiff(t, policyRepo(newAttrs, newRollout), "new")
	cs := Diff(old, new)
	for _, pc := range cs.Policies {
		if pc.Job == "app" {
			return &pc
		}
	}
	return nil
}

// change is what a test expects of one PolicyFieldChange.
type change struct {
	Field   string
	Before  string // as text, "none" when absent
	After   string
	Weakens bool
	Why     string // the whole reason; "" when it does not weaken
}

func changesOf(pc *PolicyChange) []change {
	if pc == nil {
		return nil
	}
	var out []change
	for _, c := range pc.Changes {
		out = append(out, change{c.Field, c.BeforeText(), c.AfterText(), c.Weakens, c.Why})
	}
	return out
}

const gate = `health_gate {
      monitors         = ["web-http", "web-tcp"]
      min_healthy_time = "30s"
      healthy_deadline = "5m"
    }`

func TestPolicyChanges(t *testing.T) {
	tests := []struct {
		name               string
		oldAttrs, newAttrs string
		old, new           string // rollout block bodies
		want               []change
	}{
		// Waves: compared on the job's 20 hosts.
		{
			name: "acceptance: first wave larger and fewer waves",
			old:  `waves = [1, "25%", "100%"]`, new: `waves = ["100%"]`,
			want: []change{{"waves", `[1, "25%", "100%"]`, `["100%"]`, true, "first wave 1 -> all 20 hosts; 3 waves -> 1"}},
		},
		{
			name: "first wave count larger",
			old:  `waves = [1, "100%"]`, new: `waves = [4, "100%"]`,
			want: []change{{"waves", `[1, "100%"]`, `[4, "100%"]`, true, "first wave 1 -> 4 of 20 hosts"}},
		},
		{
			name: "first wave percentage larger as written, same host today",
			old:  `waves = ["1%", "100%"]`, new: `waves = ["4%", "100%"]`,
			want: []change{{"waves", `["1%", "100%"]`, `["4%", "100%"]`, true, `first wave "1%" -> "4%" as written (1 of 20 hosts today either way)`}},
		},
		{
			name: "fewer waves",
			old:  `waves = [1, "10%", "50%"]`, new: `waves = [1, "50%"]`,
			want: []change{{"waves", `[1, "10%", "50%"]`, `[1, "50%"]`, true, "4 waves -> 3"}},
		},
		{
			name: "fewer waves lose the approval stop",
			old:  "waves = [1, \"100%\"]\n approve_after = 1", new: "waves = [\"100%\"]\n approve_after = 1",
			want: []change{{"waves", `[1, "100%"]`, `["100%"]`, true, "first wave 1 -> all 20 hosts; 2 waves -> 1; the approval stop after wave 1 no longer happens (1 wave)"}},
		},
		{
			name: "count to percentage with the same first wave today is not flagged",
			old:  `waves = [1, "100%"]`, new: `waves = ["5%", "100%"]`,
			want: []change{{"waves", `[1, "100%"]`, `["5%", "100%"]`, false, ""}},
		},
		{
			name: "smaller first wave and more waves are not flagged",
			old:  `waves = [5, "100%"]`, new: `waves = [1, "10%", "100%"]`,
			want: []change{{"waves", `[5, "100%"]`, `[1, "10%", "100%"]`, false, ""}},
		},
		// max_parallel.
		{
			name: "max_parallel larger",
			old:  `max_parallel = 5`, new: `max_parallel = 20`,
			want: []change{{"max_parallel", "5", "20", true, "up to 20 hosts of a wave at once, was 5"}},
		},
		{
			name: "max_parallel smaller",
			old:  `max_parallel = 20`, new: `max_parallel = 5`,
			want: []change{{"max_parallel", "20", "5", false, ""}},
		},
		// max_failures: counts with counts, percentages with percentages,
		// and a count with a percentage on each wave of the new rollout
		// (here the default [1, "100%"]: waves of 1 and 19 hosts).
		{
			name: "max_failures count larger",
			old:  `max_failures = 0`, new: `max_failures = 2`,
			want: []change{{"max_failures", "0", "2", true, "a wave fails only when more than 2 hosts fail, was 0"}},
		},
		{
			name: "max_failures count smaller",
			old:  `max_failures = 2`, new: `max_failures = 1`,
			want: []change{{"max_failures", "2", "1", false, ""}},
		},
		{
			name: "max_failures percentage larger",
			old:  `max_failures = "10%"`, new: `max_failures = "25%"`,
			want: []change{{"max_failures", `"10%"`, `"25%"`, true, "a wave fails only when more than 25% of its hosts fail, was 10%"}},
		},
		{
			name: "max_failures percentage smaller",
			old:  `max_failures = "25%"`, new: `max_failures = "10%"`,
			want: []change{{"max_failures", `"25%"`, `"10%"`, false, ""}},
		},
		{
			name: "max_failures count to a larger share of a wave",
			old:  `max_failures = 1`, new: `max_failures = "50%"`,
			want: []change{{"max_failures", "1", `"50%"`, true, "in a wave of 19 hosts, 9 may fail, was 1"}},
		},
		{
			name: "max_failures percentage to a count that a small wave never reaches",
			old:  `max_failures = "50%"`, new: `max_failures = 1`,
			want: []change{{"max_failures", `"50%"`, "1", true, "in a wave of 1 host, 1 may fail, was 0"}},
		},
		{
			name: "max_failures percentage to a count that allows no more in any wave",
			old:  `max_failures = "10%"`, new: `max_failures = 0`,
			want: []change{{"max_failures", `"10%"`, "0", false, ""}},
		},
		{
			name: "max_failures 0 to 0%",
			old:  `max_failures = 0`, new: `max_failures = "0%"`,
			want: []change{{"max_failures", "0", `"0%"`, false, ""}},
		},
		// on_failure.
		{
			name: "on_failure rollback to halt",
			old:  `on_failure = "rollback"`, new: `on_failure = "halt"`,
			want: []change{{"on_failure", `"rollback"`, `"halt"`, true, "a failed run stops and leaves its hosts as they are; it no longer rolls them back"}},
		},
		{
			name: "on_failure halt to rollback",
			old:  `on_failure = "halt"`, new: ``,
			want: []change{{"on_failure", `"halt"`, `"rollback"`, false, ""}},
		},
		// approve_after, on waves [1, "10%", "100%"]: 1, 2 and 17 hosts.
		{
			name: "approve_after removed",
			old:  "waves = [1, \"10%\", \"100%\"]\n approve_after = 1", new: `waves = [1, "10%", "100%"]`,
			want: []change{{"approve_after", "1", "none", true, "no approval stop, was after wave 1"}},
		},
		{
			name: "approve_after moved later",
			old:  "waves = [1, \"10%\", \"100%\"]\n approve_after = 1", new: "waves = [1, \"10%\", \"100%\"]\n approve_after = 2",
			want: []change{{"approve_after", "1", "2", true, "approval after wave 2, was after wave 1"}},
		},
		{
			name: "approve_after moved past the last wave",
			old:  "waves = [1, \"10%\", \"100%\"]\n approve_after = 1", new: "waves = [1, \"10%\", \"100%\"]\n approve_after = 3",
			want: []change{{"approve_after", "1", "3", true, "approve_after = 3 never stops this rollout of 3 waves; it stopped after wave 1"}},
		},
		{
			name: "approve_after moved earlier",
			old:  "waves = [1, \"10%\", \"100%\"]\n approve_after = 2", new: "waves = [1, \"10%\", \"100%\"]\n approve_after = 1",
			want: []change{{"approve_after", "2", "1", false, ""}},
		},
		{
			name: "approve_after added",
			old:  ``, new: `approve_after = 1`,
			want: []change{{"approve_after", "none", "1", false, ""}},
		},
		{
			name: "approve_after that never stopped removed",
			old:  `approve_after = 2`, new: ``,
			want: []change{{"approve_after", "2", "none", false, ""}},
		},
		// pause: shortened or removed weakens (docs/plan.md).
		{
			name: "pause removed",
			old:  `pause = "5m"`, new: ``,
			want: []change{{"pause", `"5m"`, "none", true, "no pause between waves, was 5m"}},
		},
		{
			name: "pause shortened",
			old:  `pause = "5m"`, new: `pause = "30s"`,
			want: []change{{"pause", `"5m"`, `"30s"`, true, "a pause of 30s between waves, was 5m"}},
		},
		{
			name: "pause lengthened",
			old:  `pause = "1m"`, new: `pause = "1h"`,
			want: []change{{"pause", `"1m"`, `"1h"`, false, ""}},
		},
		// The health gate.
		{
			name: "gate removed",
			old:  gate, new: ``,
			want: []change{{"health_gate", `{monitors = ["web-http", "web-tcp"], min_healthy_time = "30s", healthy_deadline = "5m"}`, "none", true, "health gate removed: waves no longer wait for web-http, web-tcp"}},
		},
		{
			name: "gate added",
			old:  ``, new: gate,
			want: []change{{"health_gate", "none", `{monitors = ["web-http", "web-tcp"], min_healthy_time = "30s", healthy_deadline = "5m"}`, false, ""}},
		},
		{
			name: "gate monitor removed",
			old:  gate, new: strings.Replace(gate, `"web-http", "web-tcp"`, `"web-http"`, 1),
			want: []change{{"health_gate.monitors", `["web-http", "web-tcp"]`, `["web-http"]`, true, "the gate no longer waits for web-tcp"}},
		},
		{
			name: "gate monitor added",
			old:  strings.Replace(gate, `"web-http", "web-tcp"`, `"web-http"`, 1), new: gate,
			want: []change{{"health_gate.monitors", `["web-http"]`, `["web-http", "web-tcp"]`, false, ""}},
		},
		{
			name: "min_healthy_time shortened",
			old:  gate, new: strings.Replace(gate, `"30s"`, `"10s"`, 1),
			want: []change{{"health_gate.min_healthy_time", `"30s"`, `"10s"`, true, "a host counts as healthy after 10s OK, was 30s"}},
		},
		{
			name: "min_healthy_time lengthened",
			old:  gate, new: strings.Replace(gate, `"30s"`, `"1m"`, 1),
			want: []change{{"health_gate.min_healthy_time", `"30s"`, `"1m"`, false, ""}},
		},
		{
			// A shorter deadline fails a wave sooner; it lets no wave
			// pass that would have failed.
			name: "healthy_deadline shortened is shown, not flagged",
			old:  gate, new: strings.Replace(gate, `"5m"`, `"2m"`, 1),
			want: []change{{"health_gate.healthy_deadline", `"5m"`, `"2m"`, false, ""}},
		},
		{
			name: "healthy_deadline lengthened",
			old:  gate, new: strings.Replace(gate, `"5m"`, `"15m"`, 1),
			want: []change{{"health_gate.healthy_deadline", `"5m"`, `"15m"`, false, ""}},
		},
		// Job attributes.
		{
			name:     "self_heal turned on",
			oldAttrs: `drift_check = "1h"`, newAttrs: "drift_check = \"1h\"\n self_heal = true",
			want: []change{{"self_heal", "false", "true", true, "ripple now re-runs the job by itself on drifted and out-of-sync hosts, with no commit or person starting it"}},
		},
		{
			name:     "self_heal turned off",
			oldAttrs: "drift_check = \"1h\"\n self_heal = true", newAttrs: `drift_check = "1h"`,
			want: []change{{"self_heal", "true", "false", false, ""}},
		},
		{
			name:     "drift_check is shown, not flagged",
			oldAttrs: `drift_check = "1h"`, newAttrs: `drift_check = "10m"`,
			want: []change{{"drift_check", `"1h"`, `"10m"`, false, ""}},
		},
		{
			name:     "window removed is shown, not flagged",
			oldAttrs: `window = "night"`, newAttrs: ``,
			want: []change{{"window", `"night"`, "none", false, ""}},
		},
		// Several at once, in field order.
		{
			name: "weakened everywhere",
			old:  "waves = [1, \"25%\", \"100%\"]\n max_failures = 0\n " + gate,
			new:  "waves = [\"100%\"]\n max_failures = 3",
			want: []change{
				{"waves", `[1, "25%", "100%"]`, `["100%"]`, true, "first wave 1 -> all 20 hosts; 3 waves -> 1"},
				{"max_failures", "0", "3", true, "a wave fails only when more than 3 hosts fail, was 0"},
				{"health_gate", `{monitors = ["web-http", "web-tcp"], min_healthy_time = "30s", healthy_deadline = "5m"}`, "none", true, "health gate removed: waves no longer wait for web-http, web-tcp"},
			},
		},
		// Nothing changed: no entry, even if written differently.
		{
			name: "same policy written differently",
			old:  `waves = [1, "100%"]`, new: "max_parallel = 10\n on_failure = \"rollback\"",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := policyOf(t, tc.oldAttrs, tc.old, tc.newAttrs, tc.new)
			if diff := cmp.Diff(tc.want, changesOf(pc)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if pc == nil {
				return
			}
			if pc.Before == nil || pc.After == nil {
				t.Errorf("before = %v, after = %v: a job in both commits shows both", pc.Before, pc.After)
			}
			weakens := false
			for _, c := range tc.want {
				weakens = weakens || c.Weakens
			}
			if pc.Weakens() != weakens {
				t.Errorf("Weakens() = %v, want %v", pc.Weakens(), weakens)
			}
		})
	}
}

// TestPolicyNewAndRemovedJobs: a new job shows its policy and flags
// nothing, however loose; a removed job shows nothing.
func TestPolicyNewAndRemovedJobs(t *testing.T) {
	base := policyRepo("", `waves = [1, "100%"]`)
	loose := policyRepo("drift_check = \"1h\"\n self_heal = true", "waves = [\"100%\"]\n max_failures = \"100%\"\n on_failure = \"halt\"")
	loose["jobs/new.hcl"] = strings.Replace(loose["jobs/app.hcl"], `job "app"`, `job "new"`, 1)
	loose["jobs/app.hcl"] = base["jobs/app.hcl"]

	cs := Diff(loadForDiff(t, base, "old"), loadForDiff(t, loose, "new"))
	if len(cs.Policies) != 1 {
		t.Fatalf("policies = %+v, want only the new job", cs.Policies)
	}
	pc := cs.Policies[0]
	if pc.Job != "new" || pc.Before != nil || len(pc.Changes) != 0 || pc.Changes == nil || pc.Weakens() {
		t.Errorf("new job = %+v", pc)
	}
	if got, want := pc.After.String(), `waves ["100%"], max_parallel 10, max_failures "100%", on_failure "halt", self_heal true, drift_check "1h"`; got != want {
		t.Errorf("policy = %s\nwant     %s", got, want)
	}

	cs = Diff(loadForDiff(t, loose, "old"), loadForDiff(t, base, "new"))
	if len(cs.Policies) != 0 {
		t.Errorf("removed job: policies = %+v, want none", cs.Policies)
	}
}

// TestPolicyWithoutHosts: a job that targets no host has no first wave
// size or per-wave budget to compare; entries are compared as written,
// and a count is not compared with a percentage.
func TestPolicyWithoutHosts(t *testing.T) {
	repo := func(rollout string) map[string]string {
		r := policyRepo("", rollout)
		r["jobs/app.hcl"] = strings.Replace(r["jobs/app.hcl"], `groups = ["web"]`, `labels = { role = "none" }`, 1)
		return r
	}
	load := func(rollout string) *Definitions {
		d, diags := Load(mapFS(repo(rollout)), "c", Limits{})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return d
	}
	tests := []struct {
		old, new string
		want     []change
	}{
		{`waves = [1, "100%"]`, `waves = [3, "100%"]`, []change{{"waves", `[1, "100%"]`, `[3, "100%"]`, true, "first wave 1 -> 3 as written"}}},
		{`waves = [1, "100%"]`, `waves = ["100%"]`, []change{{"waves", `[1, "100%"]`, `["100%"]`, false, ""}}},
		{`max_failures = 1`, `max_failures = "50%"`, []change{{"max_failures", "1", `"50%"`, false, ""}}},
		{`approve_after = 1`, ``, []change{{"approve_after", "1", "none", true, "no approval stop, was after wave 1"}}},
	}
	for _, tc := range tests {
		cs := Diff(load(tc.old), load(tc.new))
		var got []change
		for _, pc := range cs.Policies {
			got = append(got, changesOf(&pc)...)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s -> %s (-want +got):\n%s", tc.old, tc.new, diff)
		}
	}
}
