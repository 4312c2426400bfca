package definitions

import (
	"fmt"
	"io"
	"strings"
)

// maxTextHosts caps the host names the text form prints per wave; the
// JSON form always has them all.
const maxTextHosts = 10

// WriteText renders the plan for people:
//
//	job nginx-config
//	  template files/nginx.conf.tmpl changed
//	  wave 1/3 (1 host): web-01
//	  ...
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
	for _, j := range p.Jobs {
		fmt.Fprintf(&b, "\njob %s\n", j.Name)
		for _, r := range j.Reasons {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		if len(j.Waves) == 0 {
			b.WriteString("  runs on no host\n")
			continue
		}
		if win := p.Windows[j.Name]; win != "" {
			fmt.Fprintf(&b, "  waves start only inside window %s\n", win)
		}
		for i, wave := range j.Waves {
			fmt.Fprintf(&b, "  wave %d/%d (%s): %s\n", i+1, len(j.Waves), plural(len(wave), "host"), hostList(wave))
		}
	}
	for _, name := range p.Removed {
		fmt.Fprintf(&b, "\njob %s removed: runs nothing\n", name)
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
	fmt.Fprintf(&b, "\n%s\n", p.Summary())
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
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
