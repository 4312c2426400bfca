package definitions

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

func bytesFS(files map[string][]byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, b := range files {
		fsys[name] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func loadOK(t *testing.T, fsys fstest.MapFS) *Definitions {
	t.Helper()
	defs, diags := Load(fsys, "c1", Limits{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return defs
}

// A repo of 2,000 switches from a CSV and 40 web hosts from a range loads
// as 2,040 hosts with the row's values.
func TestHostsFromCSVAndRange(t *testing.T) {
	defs := loadOK(t, bytesFS(fleetgen.CSVRepo(2000)))
	if got := len(defs.Hosts); got != 2040 {
		t.Fatalf("%d hosts, want 2040", got)
	}
	sw := defs.Hosts["sw-01234"]
	if sw == nil {
		t.Fatal("no host sw-01234")
	}
	want := &Host{Name: "sw-01234", Address: "10.64.4.210", Port: 22, Transport: "ssh", Groups: []string{"switch", "dallas"},
		Labels: map[string]string{"model": "ex2400"}, Credential: "default"}
	if diff := cmp.Diff(want, sw, cmpHost); diff != "" {
		t.Errorf("sw-01234 (-want +got):\n%s", diff)
	}
	if w := defs.Hosts["web-07"]; w == nil || w.Address != "192.0.2.17" || !slices.Equal(w.Groups, []string{"web"}) {
		t.Errorf("web-07 = %+v", w)
	}
	if got := len(defs.Select(defs.Jobs["switch-config"].Targets)); got != 2000 {
		t.Errorf("switch-config targets %d hosts, want 2000", got)
	}
	// A diagnostic pointing into the CSV can show its line.
	if f := defs.Files["inventory/switches.csv"]; f == nil || len(f.Bytes) == 0 {
		t.Error("the CSV is not in Files")
	}
}

var cmpHost = cmp.Comparer(func(a, b *Host) bool {
	return a.Name == b.Name && a.Address == b.Address && a.Port == b.Port && a.Transport == b.Transport &&
		slices.Equal(a.Groups, b.Groups) && fmt.Sprint(a.Labels) == fmt.Sprint(b.Labels) && a.Credential == b.Credential &&
		a.SNMP == b.SNMP
})

// switchesRepo is a small CSV inventory with csv as its data file.
func switchesRepo(csv string, extra ...string) fstest.MapFS {
	files := fleetgen.CSVRepo(1)
	files["inventory/switches.csv"] = []byte(csv)
	for i := 0; i+1 < len(extra); i += 2 {
		files[extra[i]] = []byte(extra[i+1])
	}
	return bytesFS(files)
}

func csvRows(n int, edit func(line int, row string) string) string {
	lines := strings.Split(strings.TrimSuffix(string(fleetgen.SwitchesCSV(n)), "\n"), "\n")
	for i := range lines {
		lines[i] = edit(i+1, lines[i])
	}
	return strings.Join(lines, "\n") + "\n"
}

// Every error that comes from a row names the data file's line.
func TestHostsDiagnosticsNameTheRow(t *testing.T) {
	tests := []struct {
		name   string
		fsys   fstest.MapFS
		file   string
		line   int
		want   string // in the summary or detail
		errors int
	}{{
		name: "bad IP on line 14",
		fsys: switchesRepo(csvRows(20, func(line int, row string) string {
			if line == 14 {
				return "sw-00013,10.0.0.999,tokyo,ex2300"
			}
			return row
		})),
		file: "inventory/switches.csv", line: 14, want: `"10.0.0.999" is not a hostname`, errors: 1,
	}, {
		name: "duplicate name in the CSV",
		fsys: switchesRepo(csvRows(20, func(line int, row string) string {
			if line == 9 {
				return "sw-00003,10.9.9.9,tokyo,ex2300"
			}
			return row
		})),
		file: "inventory/switches.csv", line: 9, want: `Line 4 and line 9 of inventory/switches.csv both produce the key "sw-00003"`, errors: 1,
	}, {
		name: "missing column",
		fsys: switchesRepo(csvRows(20, func(line int, row string) string {
			if line == 1 {
				return "name,address,site,model"
			}
			return row
		})),
		file: "inventory/switches.csv", line: 1, want: `has no column "ip"`, errors: 1,
	}, {
		name: "row with a missing field",
		fsys: switchesRepo(csvRows(20, func(line int, row string) string {
			if line == 7 {
				return "sw-00006,10.0.0.6,tokyo"
			}
			return row
		})),
		file: "inventory/switches.csv", line: 7, want: "wrong number of fields", errors: 1,
	}, {
		name: "a host block with the name of a row",
		fsys: switchesRepo(csvRows(20, func(_ int, row string) string { return row }),
			"zz.hcl", "host \"sw-00005\" {\n  address = \"10.1.1.1\"\n}\n"),
		file: "zz.hcl", line: 1, want: `host "sw-00005" was already defined; previous definition at inventory/switches.csv:6 (from hosts "switches" at inventory/hosts.hcl:1)`, errors: 1,
	}, {
		name: "a row with the name of a host block",
		fsys: switchesRepo(csvRows(20, func(_ int, row string) string { return row }),
			"aa.hcl", "host \"sw-00005\" {\n  address = \"10.1.1.1\"\n}\n"),
		file: "inventory/switches.csv", line: 6, want: `host "sw-00005" was already defined at aa.hcl:1`, errors: 1,
	}, {
		name: "an invalid host name",
		fsys: switchesRepo(csvRows(5, func(line int, row string) string {
			if line == 3 {
				return "sw 2,10.0.0.2,tokyo,ex2300"
			}
			return row
		})),
		file: "inventory/switches.csv", line: 3, want: `host name "sw 2"`, errors: 1,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, diags := Load(tc.fsys, "c1", Limits{})
			errs := diags.Errs()
			if len(errs) != tc.errors {
				for _, d := range diags {
					t.Log(d)
				}
				t.Fatalf("%d errors, want %d", len(errs), tc.errors)
			}
			d := diags[slices.IndexFunc(diags, func(d *hcl.Diagnostic) bool { return d.Severity == hcl.DiagError })]
			if d.Subject == nil || d.Subject.Filename != tc.file || d.Subject.Start.Line != tc.line {
				t.Errorf("error at %v, want %s:%d: %s", d.Subject, tc.file, tc.line, d.Error())
			}
			if !strings.Contains(d.Summary+": "+d.Detail, tc.want) {
				t.Errorf("error %q; want it to say %q", d.Summary+": "+d.Detail, tc.want)
			}
			// The rendered form starts with the data file's place and
			// shows the row.
			var b strings.Builder
			if err := WriteDiagnostics(&b, defs.Files, diags, false); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%s:%d:", tc.file, tc.line); !strings.HasPrefix(b.String(), want) {
				t.Errorf("rendered:\n%s\nwant it to start with %s", b.String(), want)
			}
		})
	}
}

// repofile() reads relative to the file that calls it and never leaves the
// repository.
func TestRepoFile(t *testing.T) {
	base := "credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/k\"\n}\n"
	t.Run("relative to the HCL file, JSON and YAML", func(t *testing.T) {
		defs := loadOK(t, fstest.MapFS{
			"creds.hcl":            {Data: []byte(base)},
			"site/tokyo/hosts.hcl": {Data: []byte("hosts \"db\" {\n  for_each = jsondecode(repofile(\"db.json\"))\n  address = each.value.ip\n  vars = { role = each.value.role }\n}\nhosts \"cache\" {\n  for_each = yamldecode(repofile(\"../cache.yaml\"))\n  address = each.value\n  labels = { site = \"tokyo\" }\n}\nhosts \"lb\" {\n  for_each = toset([\"lb-1\", \"lb-2\"])\n  address = \"${each.key}.example.com\"\n}\n")},
			"site/tokyo/db.json":   {Data: []byte(`{"db-1": {"ip": "10.1.0.1", "role": "primary"}, "db-2": {"ip": "10.1.0.2", "role": "replica"}}`)},
			"site/cache.yaml":      {Data: []byte("cache-1: 10.2.0.1\ncache-2: 10.2.0.2\n")},
		})
		if h := defs.Hosts["db-2"]; h == nil || h.Address != "10.1.0.2" || h.Vars.GetAttr("role").AsString() != "replica" {
			t.Errorf("db-2 = %+v", h)
		}
		if h := defs.Hosts["cache-1"]; h == nil || h.Address != "10.2.0.1" || h.Labels["site"] != "tokyo" {
			t.Errorf("cache-1 = %+v", h)
		}
		if h := defs.Hosts["lb-2"]; h == nil || h.Address != "lb-2.example.com" {
			t.Errorf("lb-2 = %+v", h)
		}
	})
	for _, tc := range []struct{ name, call, want string }{
		{"climbs out", `repofile("../../etc/passwd")`, "outside the repository"},
		{"absolute", `repofile("/etc/passwd")`, "must be a path relative to the file that names it"},
		{"missing", `repofile("nope.csv")`, "there is no file inv/nope.csv in the repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Load(fstest.MapFS{
				"creds.hcl":     {Data: []byte(base)},
				"inv/hosts.hcl": {Data: []byte("hosts \"x\" {\n  for_each = csvdecode(" + tc.call + ")\n  address = each.value.ip\n}\n")},
			}, "c1", Limits{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) || !strings.Contains(diags.Error(), "inv/hosts.hcl:2") {
				t.Errorf("diagnostics %q; want an error at inv/hosts.hcl:2 saying %q", diags.Error(), tc.want)
			}
		})
	}
	t.Run("a list is not a for_each", func(t *testing.T) {
		_, diags := Load(fstest.MapFS{
			"creds.hcl": {Data: []byte(base)},
			"hosts.hcl": {Data: []byte("hosts \"x\" {\n  for_each = [\"a\", \"b\"]\n  address = each.value\n}\n")},
		}, "c1", Limits{})
		if !strings.Contains(diags.Error(), "hosts.hcl:2,14") || !strings.Contains(diags.Error(), "for_each must be a map") {
			t.Errorf("diagnostics %q", diags.Error())
		}
	})
}

// A run command may read a data file of the commit: repofile() renders
// per host too, relative to the job's file.
func TestRepoFileInRunCommand(t *testing.T) {
	defs := loadOK(t, fstest.MapFS{
		"hosts.hcl":   {Data: []byte("host \"a\" {\n  transport = \"local\"\n}\n")},
		"jobs/j.hcl":  {Data: []byte("job \"j\" {\n  targets { hosts = [\"a\"] }\n  step \"s\" { run = \"echo ${jsondecode(repofile(\"v.json\")).version}\" }\n}\n")},
		"jobs/v.json": {Data: []byte(`{"version": "1.2.3"}`)},
	})
	j := defs.Jobs["j"]
	hs, diags := defs.RenderStep(j, j.Steps[0], defs.Hosts["a"], nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if hs.Command != "echo 1.2.3" {
		t.Errorf("command %q", hs.Command)
	}
}

// The plan of a commit that adds 3 rows to the CSV shows exactly those 3
// hosts as new, and the job that targets them runs on them alone.
func TestPlanOfThreeNewRows(t *testing.T) {
	old := loadOK(t, bytesFS(fleetgen.CSVRepo(2000)))
	files := fleetgen.CSVRepo(2003)
	newDefs := loadOK(t, bytesFS(files))
	cs := Diff(old, newDefs)
	var added []string
	for _, c := range cs.Inventory {
		if c.Kind != "host" || c.Action != Added {
			t.Errorf("unexpected inventory change %+v", c)
			continue
		}
		added = append(added, c.Name)
	}
	if want := []string{"sw-02001", "sw-02002", "sw-02003"}; !slices.Equal(added, want) {
		t.Errorf("added hosts %v, want %v", added, want)
	}
	if len(cs.Jobs) != 1 || cs.Jobs[0].Name != "switch-config" || !slices.Equal(cs.Jobs[0].Hosts, []string{"sw-02001", "sw-02002", "sw-02003"}) {
		t.Errorf("jobs %+v; want switch-config on the 3 new hosts", cs.Jobs)
	}
}

// A job whose command reads a data file runs on all its hosts when the
// file changes, though its block did not.
func TestDiffDataFileOfJob(t *testing.T) {
	files := func(version string) fstest.MapFS {
		return fstest.MapFS{
			"hosts.hcl":   {Data: []byte("host \"a\" {\n  transport = \"local\"\n}\nhost \"b\" {\n  transport = \"local\"\n}\n")},
			"jobs/j.hcl":  {Data: []byte("job \"j\" {\n  targets { hosts = [\"a\", \"b\"] }\n  step \"s\" { run = \"echo ${jsondecode(repofile(\"v.json\")).version}\" }\n}\n")},
			"jobs/v.json": {Data: []byte(`{"version": "` + version + `"}`)},
		}
	}
	old, same, changed := loadOK(t, files("1")), loadOK(t, files("1")), loadOK(t, files("2"))
	if cs := Diff(old, same); len(cs.Jobs) != 0 {
		t.Errorf("same data: jobs %+v", cs.Jobs)
	}
	cs := Diff(old, changed)
	if len(cs.Jobs) != 1 || !slices.Equal(cs.Jobs[0].Reasons, []string{"data file jobs/v.json changed"}) || !slices.Equal(cs.Jobs[0].Hosts, []string{"a", "b"}) {
		t.Errorf("jobs %+v; want j on a and b because jobs/v.json changed", cs.Jobs)
	}
}

// Generated hosts count toward the hosts limit like host blocks: a
// for_each over more than the limit is one error at the for_each, and no
// host is decoded.
func TestHostsLimitCountsGeneratedHosts(t *testing.T) {
	fsys := fstest.MapFS{
		"creds.hcl": {Data: []byte("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/k\"\n}\n")},
		"a.hcl":     {Data: []byte("host \"a\" {\n  address = \"10.0.0.1\"\n}\n")},
		"b.hcl":     {Data: []byte("hosts \"n\" {\n  for_each = toset([for i in range(10) : \"n-${i}\"])\n  address = \"${each.key}.example.com\"\n}\n")},
	}
	if _, diags := Load(fsys, "c1", Limits{Hosts: 11}); diags.HasErrors() {
		t.Fatalf("11 hosts within a limit of 11: %s", diags.Error())
	}
	defs, diags := Load(fsys, "c1", Limits{Hosts: 10})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "b.hcl:2,14") || !strings.Contains(diags.Error(), "Too many hosts (over 10)") {
		t.Errorf("diagnostics %q; want Too many hosts at b.hcl:2,14", diags.Error())
	}
	if defs != nil && len(defs.Hosts) > 1 {
		t.Errorf("%d hosts decoded over the limit", len(defs.Hosts))
	}
}

// A job's steps and templates may read both the run's params and data
// files: repofile() resolves relative to the file that calls it (the
// job's file, the template), and a missing required param is still
// refused.
func TestRepoFileWithParams(t *testing.T) {
	defs := loadOK(t, fstest.MapFS{
		"hosts.hcl": {Data: []byte("host \"a\" {\n  transport = \"local\"\n}\n")},
		"jobs/j.hcl": {Data: []byte(`job "j" {
  manual = true
  param "service" {
    default = "app"
  }
  param "ticket" {}
  targets { hosts = ["a"] }
  step "run" { run = "restart ${param.service} ${jsondecode(repofile("v.json"))[param.service]}" }
  step "conf" {
    file {
      source      = "tmpl/app.tmpl"
      destination = "/etc/${param.service}.conf"
    }
  }
  step "ticket" { run = "echo ${param.ticket}" }
}
`)},
		"jobs/v.json":          {Data: []byte(`{"app": "1.2.3", "worker": "4.5.6"}`)},
		"jobs/tmpl/app.tmpl":   {Data: []byte(`port=${jsondecode(repofile("ports.json"))[param.service]}` + "\n")},
		"jobs/tmpl/ports.json": {Data: []byte(`{"app": "8080", "worker": "9090"}`)},
	})
	j, h := defs.Jobs["j"], defs.Hosts["a"]
	params := ParamValues{"service": cty.StringVal("worker"), "ticket": cty.StringVal("OPS-1")}
	hs, diags := defs.RenderStep(j, j.Steps[0], h, nil, params)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if hs.Command != "restart worker 4.5.6" {
		t.Errorf("command %q; want restart worker 4.5.6", hs.Command)
	}
	hs, diags = defs.RenderStep(j, j.Steps[1], h, nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if string(hs.Content) != "port=8080\n" || hs.Destination != "/etc/app.conf" {
		t.Errorf("file step with the defaults: %q to %s; want port=8080 to /etc/app.conf", hs.Content, hs.Destination)
	}
	if _, diags = defs.RenderStep(j, j.Steps[2], h, nil, nil); !diags.HasErrors() || !strings.Contains(diags.Error(), `param "ticket" has no value`) {
		t.Errorf("a step reading a required param without a value: %v", diags)
	}
}
