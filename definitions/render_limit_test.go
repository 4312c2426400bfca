package definitions

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// numbers is an HCL list literal of n numbers.
func numbers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestRenderLimitAtLoad checks expressions a commit can write that would
// expand far beyond their size when validate evaluates them: each is
// refused with one error naming the limit, quickly and without the
// memory the expansion would take.
func TestRenderLimitAtLoad(t *testing.T) {
	l60 := numbers(60)
	var many strings.Builder
	for i := range 40 {
		fmt.Fprintf(&many, "group \"g%d\" { vars = { x = format(\"%%30000s\", \"\") } }\n", i)
	}
	host := "host \"h\" {\n  address   = \"10.0.0.1\"\n  transport = \"local\"\n}\n"
	job := func(run string) string {
		return host + "job \"j\" {\n  targets { hosts = [\"h\"] }\n  step \"s\" { run = " + run + " }\n}\n"
	}
	cases := []struct {
		name  string
		files map[string]string
	}{
		{"format width", map[string]string{"g.hcl": `group "g" { vars = { x = format("%2000000d", 1) } }`}},
		{"format precision", map[string]string{"g.hcl": `group "g" { vars = { x = format("%.2000000f", 1) } }`}},
		{"replace with an empty substring", map[string]string{"g.hcl": `group "g" { vars = { x = replace("` + strings.Repeat("a", 2000) + `", "", "` + strings.Repeat("b", 2000) + `") } }`}},
		{"join", map[string]string{"g.hcl": `group "g" { vars = { x = join(format("%500000s", ""), ` + numbers(10) + `) } }`}},
		{"nested for expressions", map[string]string{"g.hcl": "group \"g\" { vars = { x = [for a in " + l60 + " : [for b in " + l60 + " : [for c in " + l60 + " : a]]] } }"}},
		{"splat in a for expression", map[string]string{"g.hcl": "group \"g\" { vars = { x = [for a in " + numbers(600) + " : [for b in " + numbers(600) + " : b][*]] } }"}},
		{"template loops in a command", map[string]string{"main.hcl": job(`"%{ for a in ` + l60 + ` }%{ for b in ` + l60 + ` }%{ for c in ` + l60 + ` }x%{ endfor }%{ endfor }%{ endfor }"`)}},
		{"repeated interpolations", map[string]string{"main.hcl": job(`"` + strings.Repeat(`${format("%30000s", "")}`, 40) + `"`)}},
		{"template file", map[string]string{
			"main.hcl": host + "job \"j\" {\n  targets { hosts = [\"h\"] }\n  step \"s\" {\n    file {\n      source      = \"t.tmpl\"\n      destination = \"/t\"\n    }\n  }\n}\n",
			"t.tmpl":   "%{ for a in " + l60 + " }%{ for b in " + l60 + " }%{ for c in " + l60 + " }${host.name} x%{ endfor }%{ endfor }%{ endfor }",
		}},
		// Forty groups of 30,000 bytes each: within the limit one by
		// one, over it together.
		{"many small expressions", map[string]string{"g.hcl": many.String()}},
	}

	const limit = 1 << 20
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range c.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, diags := Load(fsys, "", Limits{Render: limit})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if len(diags) != 1 || diags[0].Summary != "Rendering over the size limit (1 MiB)" || diags[0].Subject == nil {
				t.Errorf("want one error naming the render limit, got:\n%s", allDiags(diags))
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("load allocated %d MiB", n>>20)
			}
			if elapsed > 5*time.Second {
				t.Errorf("load took %v", elapsed)
			}
		})
	}
}

// TestRenderLimitWithinLoads checks that what a repo normally writes,
// loops and functions included, loads and renders within a small limit.
func TestRenderLimitWithinLoads(t *testing.T) {
	src := `host "h" {
  address   = "10.0.0.1"
  transport = "local"
  groups    = ["a", "b"]
  vars      = { ports = [80, 443], name = format("%s-%03d", "web", 7) }
}
job "j" {
  targets { hosts = ["h"] }
  step "s" { run = "echo ${join(",", [for p in host.vars.ports : format("%d", p)])} ${upper(host.name)} ${replace(host.address, ".", "-")}" }
  step "t" {
    file {
      source      = "t.tmpl"
      destination = "/t"
    }
  }
}
`
	tmpl := "%{ for g in host.groups }group ${g}\n%{ endfor }name ${host.vars.name}\n"
	d, diags := Load(fstest.MapFS{"main.hcl": {Data: []byte(src)}, "t.tmpl": {Data: []byte(tmpl)}}, "", Limits{Render: 4 << 10})
	if len(diags) != 0 {
		t.Fatalf("load:\n%s", allDiags(diags))
	}
	j, h := d.Jobs["j"], d.Hosts["h"]
	hs, diags := d.RenderStep(j, j.Steps[0], h, nil)
	if diags.HasErrors() || hs.Command != "echo 80,443 H 10-0-0-1" {
		t.Errorf("run = %+v\n%s", hs, allDiags(diags))
	}
	hs, diags = d.RenderStep(j, j.Steps[1], h, nil)
	if diags.HasErrors() || string(hs.Content) != "group a\ngroup b\nname web-007\n" {
		t.Errorf("file = %+v\n%s", hs, allDiags(diags))
	}
}

// TestRenderLimitPerRender checks the limit when a run renders for a
// host: a command that repeats a large host variable is refused on that
// host, at run time, while validation (where the host is unknown) passes.
func TestRenderLimitPerRender(t *testing.T) {
	src := `host "small" {
  address   = "10.0.0.1"
  transport = "local"
  vars      = { blob = "x" }
}
host "big" {
  address   = "10.0.0.2"
  transport = "local"
  vars      = { blob = "` + strings.Repeat("y", 20000) + `" }
}
job "j" {
  targets { hosts = ["small", "big"] }
  step "s" { run = "` + strings.Repeat("${host.vars.blob}", 100) + `" }
}
`
	d, diags := Load(fstest.MapFS{"main.hcl": {Data: []byte(src)}}, "", Limits{Render: 1 << 20})
	if len(diags) != 0 {
		t.Fatalf("load:\n%s", allDiags(diags))
	}
	j := d.Jobs["j"]
	if hs, diags := d.RenderStep(j, j.Steps[0], d.Hosts["small"], nil); diags.HasErrors() || len(hs.Command) != 100 {
		t.Errorf("small: %s", allDiags(diags))
	}
	_, diags = d.RenderStep(j, j.Steps[0], d.Hosts["big"], nil)
	if len(diags) != 1 || diags[0].Summary != "Rendering over the size limit (1 MiB)" {
		t.Errorf("big: %s", allDiags(diags))
	}
}
