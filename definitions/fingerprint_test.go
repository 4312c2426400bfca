package definitions_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ripple-ops/ripple/definitions"
)

const fpBase = `
credential "default" {
  user             = "deploy"
  private_key_file = "/k"
  known_hosts_file = "/kh"
}
group "web" { vars = { workers = 4 } }
host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
  vars    = { color = "blue", unused = 1 }
}
host "web-02" {
  address = "10.0.0.2"
  groups  = ["web"]
  vars    = { color = "green", unused = 1 }
}
job "nginx" {
  description = "nginx"
  targets { groups = ["web"] }
  step "config" {
    file {
      source      = "nginx.conf.tmpl"
      destination = "/etc/nginx/nginx.conf"
    }
  }
  step "reload" { run = "systemctl reload nginx # ${host.vars.color}" }
  rollout { waves = [1, "100%"] }
}
`

const fpTemplate = "worker_processes ${host.vars.workers};\n"

func fpLoad(t *testing.T, hcl, tmpl string) *definitions.Definitions {
	t.Helper()
	d, diags := definitions.Load(fstest.MapFS{
		"main.hcl":        {Data: []byte(hcl)},
		"nginx.conf.tmpl": {Data: []byte(tmpl)},
	}, "c", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return d
}

// TestFingerprintChangesWhereDiffRuns: a job's fingerprint on a host changes
// exactly on the hosts where Diff runs the job, for every kind of change the
// planner knows; unrelated and cosmetic changes change nothing.
func TestFingerprintChangesWhereDiffRuns(t *testing.T) {
	tests := []struct {
		name       string
		hcl, tmpl  func(string) string
		wantOnHost []string
	}{
		{"nothing", nil, nil, nil},
		{"reformatted and commented", func(s string) string {
			return strings.ReplaceAll(s, `step "reload" {`, "# reload it\n  step   \"reload\"   {")
		}, nil, nil},
		{"description and rollout", func(s string) string {
			return strings.NewReplacer(`description = "nginx"`, `description = "the web tier"`, `waves = [1, "100%"]`, `waves = ["100%"]`).Replace(s)
		}, nil, nil},
		{"a step changed", func(s string) string { return strings.Replace(s, "systemctl reload nginx", "nginx -s reload", 1) }, nil, []string{"web-01", "web-02"}},
		{"the template changed", nil, func(s string) string { return s + "# tuned\n" }, []string{"web-01", "web-02"}},
		{"a used host var", func(s string) string { return strings.Replace(s, `color = "blue"`, `color = "red"`, 1) }, nil, []string{"web-01"}},
		{"an unused host var", func(s string) string {
			return strings.Replace(s, `color = "blue", unused = 1`, `color = "blue", unused = 2`, 1)
		}, nil, nil},
		{"a group var the template uses", func(s string) string { return strings.Replace(s, "workers = 4", "workers = 8", 1) }, nil, []string{"web-01", "web-02"}},
		{"an address nothing uses", func(s string) string { return strings.Replace(s, `"10.0.0.2"`, `"10.0.0.22"`, 1) }, nil, nil},
		{"the login user", func(s string) string { return strings.Replace(s, `user             = "deploy"`, `user = "ops"`, 1) }, nil, []string{"web-01", "web-02"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hcl, tmpl := fpBase, fpTemplate
			if tc.hcl != nil {
				hcl = tc.hcl(hcl)
			}
			if tc.tmpl != nil {
				tmpl = tc.tmpl(tmpl)
			}
			old, cur := fpLoad(t, fpBase, fpTemplate), fpLoad(t, hcl, tmpl)
			before := definitions.NewFingerprints(old).Job("nginx")
			after := definitions.NewFingerprints(cur).Job("nginx")
			if len(before) != 2 || len(after) != 2 {
				t.Fatalf("fingerprints of %d and %d hosts, want 2", len(before), len(after))
			}
			var changed []string
			for _, h := range slices.Sorted(maps.Keys(after)) {
				if after[h] != before[h] {
					changed = append(changed, h)
				}
			}
			if !slices.Equal(changed, tc.wantOnHost) {
				t.Errorf("fingerprint changed on %v, want %v", changed, tc.wantOnHost)
			}
			var ran []string
			for _, jc := range definitions.Diff(old, cur).Jobs {
				if jc.Name == "nginx" {
					ran = jc.Hosts
				}
			}
			if len(ran) == 0 {
				ran = nil
			}
			if !slices.Equal(changed, ran) {
				t.Errorf("fingerprint changed on %v but Diff runs the job on %v", changed, ran)
			}
		})
	}
}

func TestFingerprintOfHostsOutsideTargets(t *testing.T) {
	d := fpLoad(t, fpBase+"\nhost \"db-01\" { address = \"10.0.1.1\" }\n", fpTemplate)
	f := definitions.NewFingerprints(d)
	if got := f.Host("nginx", "db-01"); got != "" {
		t.Errorf("fingerprint of a host the job does not target = %q", got)
	}
	if got := f.Host("nope", "web-01"); got != "" {
		t.Errorf("fingerprint of an undefined job = %q", got)
	}
	if a, b := f.Host("nginx", "web-01"), f.Host("nginx", "web-02"); a == "" || a == b {
		t.Errorf("web-01 %q and web-02 %q (different color) must differ", a, b)
	}
}
