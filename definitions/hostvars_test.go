package definitions

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestHostVarsNameHosts checks that a missing host variable or label
// names the target hosts that lack it: an error when every target lacks
// it, a warning when only some do, and at most five names then a count.
func TestHostVarsNameHosts(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 7; i++ {
		vars := ""
		if i <= 2 {
			vars = "vars = { port = 80 }"
		}
		fmt.Fprintf(&b, "host \"h%d\" {\n  address = \"10.0.0.%d\"\n  transport = \"local\"\n  groups = [\"web\"]\n  %s\n}\n", i, i, vars)
	}
	b.WriteString(`job "j" {
  targets { groups = ["web"] }
  step "a" { run = "listen ${host.vars.port}" }
  step "b" { run = "zone ${host.labels.zone}" }
}
job "one" {
  targets { hosts = ["h3"] }
  step "a" { run = "listen ${host.vars.port}" }
}
`)
	_, diags := Load(fstest.MapFS{"main.hcl": {Data: []byte(b.String())}}, "", Limits{})
	var got []string
	for _, d := range diags {
		got = append(got, diagString(d))
	}
	want := []string{
		`main.hcl:45: WARNING: Missing host variable (host.vars.port is used here, but 5 of its 7 target hosts have no vars key "port" (in its own vars or its groups'): h3, h4, h5, h6, h7. Rendering fails on those hosts at run time.)`,
		`main.hcl:46: ERROR: Missing host label (host.labels.zone is used here, but none of its 7 target hosts has a label "zone": h1, h2, h3, h4, h5 and 2 more. It cannot render on any host.)`,
		`main.hcl:50: ERROR: Missing host variable (host.vars.port is used here, but its only target host, h3, has no vars key "port" (in its own vars or its groups'). It cannot render on any host.)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestHostVarsLookupsBounded checks that the host variable checks stop,
// with a warning, after four lookups (and vars keys gathered) per target
// pair the limit allows.
func TestHostVarsLookupsBounded(t *testing.T) {
	src := `host "a" {
  address   = "10.0.0.1"
  transport = "local"
  vars      = { k1 = 1, k2 = 2, k3 = 3, k4 = 4, k5 = 5 }
}
job "j" {
  targets { hosts = ["a"] }
  step "s" { run = "echo ${host.vars.k1}${host.vars.k2}${host.vars.k3}${host.vars.k4}${host.vars.k5}" }
}
`
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(src)}}
	// 5 keys gathered, 5 looked up.
	if _, diags := Load(fsys, "", Limits{Targets: 3}); len(diags) != 0 {
		t.Errorf("10 lookups, 12 allowed:\n%s", allDiags(diags))
	}
	_, diags := Load(fsys, "", Limits{Targets: 2})
	if len(diags) != 1 || diags[0].Summary != "Host variables not all checked" || diags[0].Severity != hcl.DiagWarning {
		t.Errorf("10 lookups, 8 allowed:\n%s", allDiags(diags))
	}
}
