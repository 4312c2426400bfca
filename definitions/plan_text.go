package definitions

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxTextHosts caps the host names the text form prints per wave, and
// maxTextWaves the waves it prints per job (the first half of it, the
// last, and the one an operator approves after); the JSON form always has
// them all.
const (
	maxTextHosts = 10
	maxTextWaves = 20
)

// WriteText renders the plan for people:
//
//	job nginx-config
//	  template files/nginx.conf.tmpl changed
//	  a wave fails if more than 5% of its hosts fail (max_failures = "5%"); then rollback
//	  health gate after each wave: web-http OK on every host for 30s, within 5m
//	  wave 1/3 (1 host): web-01
//	    -- waits for approval (approve_after = 1)
//	    -- pause 1m
//	  ...
//
//	policy nginx-config: waves [1, "25%", "100%"] -> ["100%"] (weakens: first wave 1 -> all 20 hosts; 3 waves -> 1)
//
//	reads added (env() and file() calls the daemon will make; a plan reads none)
//	  env("DEPLOY_TOKEN") at jobs/web.hcl:14
//
//	monitors
//	  + disk-root
//	  ~ web-http: monitor block changed
//
//	2 jobs, 21 hosts in 4 waves; 1 monitor added
//
// Diagnostics are not part of it: render them with WriteDiagnostics.
func (p *PlanResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s -> %s\n", shortCommit(p.From, "(nothing)"), shortCommit(p.To, "(working tree)"))
	if len(p.RemovesEvery) > 0 {
		fmt.Fprintf(&b, "\n!! this commit removes %s: the daemon refuses it unless it runs with --allow-empty\n", p.RemovesWhat())
	}
	for _, j := range p.Jobs {
		fmt.Fprintf(&b, "\njob %s\n", j.Name)
		for _, r := range j.Reasons {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		if len(j.Waves) == 0 {
			b.WriteString("  runs on no host\n")
			continue
		}
		if j.Window != "" {
			fmt.Fprintf(&b, "  waves start only inside window %s\n", j.Window)
		}
		r := j.policy
		if r != nil {
			writeRolloutPolicy(&b, *r, len(j.Waves))
		}
		if len(j.GateFailing) > 0 {
			fmt.Fprintf(&b, "  failing the health gate now (they count: a wave waits for them and fails if they stay failing): %s\n", hostList(j.GateFailing))
		}
		skipped, skippedHosts := 0, 0
		for i, wave := range j.Waves {
			if len(j.Waves) > maxTextWaves && i >= maxTextWaves/2 && i < len(j.Waves)-1 && (r == nil || r.ApproveAfter != i+1) {
				skipped, skippedHosts = skipped+1, skippedHosts+len(wave)
				continue
			}
			if skipped > 0 {
				fmt.Fprintf(&b, "  waves %d-%d of %d (%s) not shown; ripple plan --json lists every wave\n", i+1-skipped, i, len(j.Waves), plural(skippedHosts, "host"))
				skipped, skippedHosts = 0, 0
			}
			fmt.Fprintf(&b, "  wave %d/%d (%s): %s\n", i+1, len(j.Waves), plural(len(wave), "host"), hostList(wave))
			if r != nil && i < len(j.Waves)-1 {
				// What comes between this wave and the next, in the order
				// the rollout does it.
				if r.ApproveAfter == i+1 {
					fmt.Fprintf(&b, "    -- waits for approval (approve_after = %d)\n", r.ApproveAfter)
				}
				if r.Pause > 0 {
					fmt.Fprintf(&b, "    -- pause %s\n", shortDuration(r.Pause))
				}
			}
		}
	}
	for _, name := range p.Removed {
		fmt.Fprintf(&b, "\njob %s removed: runs nothing\n", name)
	}
	if len(p.PolicyChanges) > 0 {
		b.WriteString("\n")
		writePolicyChanges(&b, p.PolicyChanges)
	}
	if len(p.SecretReadsAdded) > 0 {
		b.WriteString("\n")
		writeSecretReads(&b, p.SecretReadsAdded)
	}
	m := p.Monitors
	if len(m.Added)+len(m.Changed)+len(m.Removed) > 0 {
		b.WriteString("\nmonitors\n")
		for _, n := range m.Added {
			fmt.Fprintf(&b, "  + %s\n", n)
		}
		for _, n := range m.Changed {
			fmt.Fprintf(&b, "  ~ %s", n)
			if r := p.MonitorReasons[n]; len(r) > 0 {
				fmt.Fprintf(&b, ": %s", strings.Join(r, "; "))
			}
			b.WriteString("\n")
		}
		for _, n := range m.Removed {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	if len(p.Inventory) > 0 {
		b.WriteString("\ninventory\n")
		writeInventory(&b, p.Inventory)
	}
	if len(p.OutOfSync) > 0 {
		b.WriteString("\nstill out of sync (this merge does not run them; `ripple sync` does)\n")
		for _, o := range p.OutOfSync {
			fmt.Fprintf(&b, "  %s: %s %s\n", o.Job, o.Host, o.Text)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", p.Summary())
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// writeRolloutPolicy writes what applies to every wave of a job: what
// fails a wave and what then happens, and the health gate; and an
// approve_after that never applies because the job has too few waves.
func writeRolloutPolicy(b *strings.Builder, r Rollout, waves int) {
	onFailure := r.OnFailure
	if onFailure == "" {
		onFailure = DefaultOnFailure
	}
	switch m := r.MaxFailures; {
	case m.IsPercent && m.Percent > 0:
		pct := strconv.FormatFloat(m.Percent, 'f', -1, 64)
		fmt.Fprintf(b, "  a wave fails if more than %s%% of its hosts fail (max_failures = \"%s%%\"); then %s\n", pct, pct, onFailure)
	case !m.IsPercent && m.Count > 0:
		verb := "fail"
		if m.Count == 1 {
			verb = "fails"
		}
		fmt.Fprintf(b, "  a wave fails if more than %s %s (max_failures = %d); then %s\n", plural(m.Count, "host"), verb, m.Count, onFailure)
	default:
		fmt.Fprintf(b, "  a wave fails if any host fails (max_failures = 0); then %s\n", onFailure)
	}
	if g := r.HealthGate; g != nil && len(g.Monitors) > 0 {
		fmt.Fprintf(b, "  health gate after each wave: %s OK on every host for %s, within %s\n",
			strings.Join(g.Monitors, ", "), shortDuration(g.MinHealthyTime), shortDuration(g.HealthyDeadline))
	}
	if r.ApproveAfter > 0 && r.ApproveAfter >= waves {
		fmt.Fprintf(b, "  approve_after = %d never stops this rollout: it has only %s\n", r.ApproveAfter, plural(waves, "wave"))
	}
}

// shortDuration is d as written in HCL: "5m", "1h30m", "30s", not
// time.Duration's "5m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// maxInventoryLines caps inventory lines per kind and action in the text
// form (a first plan of a large fleet adds thousands of hosts).
const maxInventoryLines = 20

func writeInventory(b *strings.Builder, changes []BlockChange) {
	sign := map[Action]string{Added: "+", Changed: "~", Removed: "-"}
	for i := 0; i < len(changes); {
		// A run of changes of one kind and action.
		j := i
		for j < len(changes) && changes[j].Kind == changes[i].Kind && changes[j].Action == changes[i].Action {
			j++
		}
		run := changes[i:j]
		for k, c := range run {
			if k == maxInventoryLines {
				fmt.Fprintf(b, "  %s ... and %d more\n", sign[c.Action], len(run)-k)
				break
			}
			fmt.Fprintf(b, "  %s %s %s", sign[c.Action], c.Kind, c.Name)
			if len(c.Reasons) > 0 {
				fmt.Fprintf(b, ": %s", strings.Join(c.Reasons, ", "))
			}
			b.WriteString("\n")
		}
		i = j
	}
}

// RemovesWhat says what the plan's commit removes entirely, for messages:
// "every host", "every job", "every host and every job"; "" for nothing.
func (p *PlanResult) RemovesWhat() string {
	parts := make([]string, len(p.RemovesEvery))
	for i, k := range p.RemovesEvery {
		parts[i] = "every " + k
	}
	return strings.Join(parts, " and ")
}

// Summary is the plan in one line: "3 jobs, 214 hosts in 5 waves; 1
// monitor added, 2 changed". Hosts are counted once however many jobs run
// on them; waves are added up over jobs.
func (p *PlanResult) Summary() string {
	hosts := map[string]bool{}
	waves, running := 0, 0
	for _, j := range p.Jobs {
		if len(j.Waves) > 0 {
			running++
		}
		waves += len(j.Waves)
		for _, w := range j.Waves {
			for _, h := range w {
				hosts[h] = true
			}
		}
	}
	var parts []string
	if running > 0 {
		parts = append(parts, fmt.Sprintf("%s, %s in %s", plural(running, "job"), plural(len(hosts), "host"), plural(waves, "wave")))
	}
	if idle := len(p.Jobs) - running; idle > 0 {
		parts = append(parts, fmt.Sprintf("%s changed without running", plural(idle, "job")))
	}
	var mons []string
	m := p.Monitors
	if n := len(m.Added); n > 0 {
		mons = append(mons, fmt.Sprintf("%s added", plural(n, "monitor")))
	}
	for _, c := range []struct {
		n    int
		verb string
	}{{len(m.Changed), "changed"}, {len(m.Removed), "removed"}} {
		if c.n == 0 {
			continue
		}
		if len(mons) == 0 {
			mons = append(mons, fmt.Sprintf("%s %s", plural(c.n, "monitor"), c.verb))
		} else {
			mons = append(mons, fmt.Sprintf("%d %s", c.n, c.verb))
		}
	}
	if len(mons) > 0 {
		parts = append(parts, strings.Join(mons, ", "))
	}
	if len(p.Removed) > 0 {
		parts = append(parts, fmt.Sprintf("%s removed", plural(len(p.Removed), "job")))
	}
	if len(parts) == 0 {
		if len(p.Inventory) > 0 {
			return fmt.Sprintf("nothing to run; %s", plural(len(p.Inventory), "inventory change"))
		}
		return "no changes"
	}
	return strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func hostList(hosts []string) string {
	if len(hosts) <= maxTextHosts {
		return strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("%s, ... and %d more", strings.Join(hosts[:maxTextHosts], ", "), len(hosts)-maxTextHosts)
}

func shortCommit(c, none string) string {
	switch {
	case c == "":
		return none
	case len(c) > 12:
		return c[:12]
	}
	return c
}
