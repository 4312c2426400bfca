package definitions

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// diffBase is the ops repo most diff cases start from.
var diffBase = map[string]string{
	"inventory.hcl": `
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
}

host "web-01" {
  address = "10.0.1.11"
  groups  = ["web"]
  labels  = { os = "debian12" }
}
host "web-02" {
  address = "10.0.1.12"
  groups  = ["web"]
  labels  = { os = "debian12" }
}
host "web-03" {
  address = "10.0.1.13"
  groups  = ["web"]
  labels  = { os = "debian12" }
}
host "db-01" {
  address = "10.0.2.11"
  groups  = ["db"]
}

group "web" { vars = { nginx_version = "1.24", workers = 4, safe_workers = 1 } }
`,
	"monitors.hcl": `
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}:8080/healthz" }
}
monitor "disk" {
  targets { labels = { os = "debian12" } }
  check "command" { run = "check_disk -w 20%" }
}
`,
	"jobs/web.hcl": `
job "nginx-config" {
  description = "nginx config"
  targets { groups = ["web"] }
  step "config" {
    file {
      source      = "../files/nginx.conf.tmpl"
      destination = "/etc/nginx/nginx.conf"
    }
  }
  step "reload" { run = "systemctl reload nginx" }
  rollout { waves = [1, "50%"] }
  rollback {
    step "restore" {
      file {
        source      = "../files/nginx.conf.safe.tmpl"
        destination = "/etc/nginx/nginx.conf"
      }
    }
  }
}

job "pkg" {
  targets { groups = ["web"] }
  step "install" { run = "apt-get install -y nginx=${host.vars.nginx_version}" }
}
`,
	"jobs/db.hcl": `
job "db-backup" {
  targets { groups = ["db"] }
  step "backup" { script = "../scripts/backup.sh" }
}
`,
	"files/nginx.conf.tmpl":      "worker_processes ${host.vars.workers};\n",
	"files/nginx.conf.safe.tmpl": "worker_processes ${host.vars.safe_workers};\n",
	"scripts/backup.sh":          "#!/bin/sh\npg_dumpall > /var/backups/all.sql\n",
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	return fsys
}

func loadForDiff(t *testing.T, files map[string]string, commit string) *Definitions {
	t.Helper()
	d, diags := Load(mapFS(files), commit, Limits{})
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", commit, diags.Error())
	}
	return d
}

// edit returns a copy of diffBase with edits applied: a value replaces a
// file, "" deletes it, and "s/old => new" rewrites it.
func edit(edits map[string][]string) map[string]string {
	out := map[string]string{}
	for k, v := range diffBase {
		out[k] = v
	}
	for name, ops := range edits {
		for _, op := range ops {
			switch {
			case op == "":
				delete(out, name)
			case strings.HasPrefix(op, "s/"):
				parts := strings.SplitN(op[2:], " => ", 2)
				if !strings.Contains(out[name], parts[0]) {
					panic("edit: " + name + " has no " + parts[0])
				}
				out[name] = strings.Replace(out[name], parts[0], parts[1], 1)
			default:
				out[name] = op
			}
		}
	}
	return out
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name      string
		edits     map[string][]string
		jobs      []JobChange
		monitors  MonitorChanges
		inventory []BlockChange
	}{
		{
			name: "nothing changed",
		},
		{
			name: "formatting and comments change nothing",
			edits: map[string][]string{
				"jobs/web.hcl":  {"s/step \"reload\" { run = \"systemctl reload nginx\" } => # reload after the config\n  step \"reload\" {\n    run     =     \"systemctl reload nginx\"   // inline\n  }"},
				"inventory.hcl": {"s/address = \"10.0.1.11\" => address    = \"10.0.1.11\" # rack 1"},
			},
		},
		{
			name:  "template changed runs the job everywhere",
			edits: map[string][]string{"files/nginx.conf.tmpl": {"worker_processes ${host.vars.workers};\nevents {}\n"}},
			jobs: []JobChange{{Name: "nginx-config", Reasons: []string{"template files/nginx.conf.tmpl changed"},
				Hosts: []string{"web-01", "web-02", "web-03"}}},
		},
		{
			name:  "script changed",
			edits: map[string][]string{"scripts/backup.sh": {"#!/bin/sh\npg_dumpall -c > /var/backups/all.sql\n"}},
			jobs:  []JobChange{{Name: "db-backup", Reasons: []string{"script scripts/backup.sh changed"}, Hosts: []string{"db-01"}}},
		},
		{
			name: "new host in a group runs jobs only on it",
			edits: map[string][]string{"inventory.hcl": {`s/host "db-01" => host "web-04" {
  address = "10.0.1.14"
  groups  = ["web"]
}
host "db-01"`}},
			jobs: []JobChange{
				{Name: "nginx-config", Reasons: []string{"new hosts match targets: web-04"}, Hosts: []string{"web-04"}},
				{Name: "pkg", Reasons: []string{"new hosts match targets: web-04"}, Hosts: []string{"web-04"}},
			},
			monitors:  MonitorChanges{Changed: []string{"web-http"}, Reasons: map[string][]string{"web-http": {"now checks web-04"}}},
			inventory: []BlockChange{{Kind: "host", Name: "web-04", Action: Added}},
		},
		{
			name:  "group var used by one job",
			edits: map[string][]string{"inventory.hcl": {`s/nginx_version = "1.24" => nginx_version = "1.26"`}},
			jobs: []JobChange{{Name: "pkg", Reasons: []string{"group web vars changed"},
				Hosts: []string{"web-01", "web-02", "web-03"}}},
			inventory: []BlockChange{{Kind: "group", Name: "web", Action: Changed, Reasons: []string{"vars changed"}}},
		},
		{
			name:  "group var used by a template",
			edits: map[string][]string{"inventory.hcl": {`s/workers = 4 => workers = 8`}},
			jobs: []JobChange{{Name: "nginx-config", Reasons: []string{"group web vars changed"},
				Hosts: []string{"web-01", "web-02", "web-03"}}},
			inventory: []BlockChange{{Kind: "group", Name: "web", Action: Changed, Reasons: []string{"vars changed"}}},
		},
		{
			name: "host var overrides a group var on one host",
			edits: map[string][]string{"inventory.hcl": {`s/address = "10.0.1.12"
  groups  = ["web"] => address = "10.0.1.12"
  groups  = ["web"]
  vars    = { workers = 16 }`}},
			jobs:      []JobChange{{Name: "nginx-config", Reasons: []string{"vars changed: web-02"}, Hosts: []string{"web-02"}}},
			inventory: []BlockChange{{Kind: "host", Name: "web-02", Action: Changed, Reasons: []string{"vars changed"}}},
		},
		{
			name:      "address change reaches what uses it",
			edits:     map[string][]string{"inventory.hcl": {`s/10.0.1.11 => 10.0.1.21`}},
			monitors:  MonitorChanges{},
			inventory: []BlockChange{{Kind: "host", Name: "web-01", Action: Changed, Reasons: []string{"address changed"}}},
		},
		{
			name:  "renamed job is removed and added",
			edits: map[string][]string{"jobs/web.hcl": {`s/job "pkg" => job "nginx-package"`}},
			jobs: []JobChange{
				{Name: "nginx-package", Reasons: []string{"new job"}, Hosts: []string{"web-01", "web-02", "web-03"}},
				{Name: "pkg", Reasons: []string{"job removed"}, Hosts: []string{}, Removed: true},
			},
		},
		{
			name:     "removed monitor",
			edits:    map[string][]string{"monitors.hcl": {"s/monitor \"disk\" {\n  targets { labels = { os = \"debian12\" } }\n  check \"command\" { run = \"check_disk -w 20%\" }\n} => "}},
			monitors: MonitorChanges{Removed: []string{"disk"}},
		},
		{
			name:     "changed monitor",
			edits:    map[string][]string{"monitors.hcl": {"s/-w 20% => -w 10%"}},
			monitors: MonitorChanges{Changed: []string{"disk"}, Reasons: map[string][]string{"disk": {"monitor block changed"}}},
		},
		{
			name:  "rollout and description changes run nothing",
			edits: map[string][]string{"jobs/web.hcl": {`s/waves = [1, "50%"] => waves = [1, "100%"]`, `s/nginx config => the nginx config`}},
			jobs:  []JobChange{{Name: "nginx-config", Reasons: []string{"description changed", "rollout changed"}, Hosts: []string{}}},
		},
		{
			name:  "rollback template change runs nothing",
			edits: map[string][]string{"files/nginx.conf.safe.tmpl": {"worker_processes 1;\n"}},
			jobs:  []JobChange{{Name: "nginx-config", Reasons: []string{"rollback template files/nginx.conf.safe.tmpl changed"}, Hosts: []string{}}},
		},
		{
			name:      "a var only rollback steps use runs nothing",
			edits:     map[string][]string{"inventory.hcl": {`s/safe_workers = 1 => safe_workers = 2`}},
			inventory: []BlockChange{{Kind: "group", Name: "web", Action: Changed, Reasons: []string{"vars changed"}}},
		},
		{
			name:  "changed step runs everywhere",
			edits: map[string][]string{"jobs/web.hcl": {`s/systemctl reload nginx => nginx -t && systemctl reload nginx`}},
			jobs: []JobChange{{Name: "nginx-config", Reasons: []string{"step reload changed"},
				Hosts: []string{"web-01", "web-02", "web-03"}}},
		},
		{
			name: "targets widened runs only on the new hosts",
			edits: map[string][]string{"jobs/web.hcl": {`s/targets { groups = ["web"] }
  step "install" => targets { groups = ["web", "db"] }
  step "install"`}},
			jobs: []JobChange{{Name: "pkg", Reasons: []string{"targets changed", "new hosts match targets: db-01"}, Hosts: []string{"db-01"}}},
		},
		{
			name:  "login user change runs every job on its hosts",
			edits: map[string][]string{"inventory.hcl": {`s/user             = "deploy" => user             = "ops"`}},
			jobs: []JobChange{
				{Name: "db-backup", Reasons: []string{"credential default changed"}, Hosts: []string{"db-01"}},
				{Name: "nginx-config", Reasons: []string{"credential default changed"}, Hosts: []string{"web-01", "web-02", "web-03"}},
				{Name: "pkg", Reasons: []string{"credential default changed"}, Hosts: []string{"web-01", "web-02", "web-03"}},
			},
			inventory: []BlockChange{{Kind: "credential", Name: "default", Action: Changed, Reasons: []string{"credential block changed"}}},
		},
		{
			name:      "key rotation runs nothing",
			edits:     map[string][]string{"inventory.hcl": {`s/keys/deploy => keys/deploy-2026`}},
			inventory: []BlockChange{{Kind: "credential", Name: "default", Action: Changed, Reasons: []string{"credential block changed"}}},
		},
		{
			name:  "removed host runs nothing",
			edits: map[string][]string{"inventory.hcl": {"s/host \"web-03\" {\n  address = \"10.0.1.13\"\n  groups  = [\"web\"]\n  labels  = { os = \"debian12\" }\n} => "}},
			monitors: MonitorChanges{Changed: []string{"disk", "web-http"}, Reasons: map[string][]string{
				"disk": {"no longer checks web-03"}, "web-http": {"no longer checks web-03"},
			}},
			inventory: []BlockChange{{Kind: "host", Name: "web-03", Action: Removed}},
		},
	}
	old := loadForDiff(t, diffBase, "old")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := Diff(old, loadForDiff(t, edit(tt.edits), "new"))
			if cs.From != "old" || cs.To != "new" {
				t.Errorf("From, To = %q, %q", cs.From, cs.To)
			}
			opts := cmpopts.EquateEmpty()
			if diff := cmp.Diff(tt.jobs, cs.Jobs, opts); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.monitors, cs.Monitors, opts); diff != "" {
				t.Errorf("monitors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.inventory, cs.Inventory, opts); diff != "" {
				t.Errorf("inventory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffFromNothing(t *testing.T) {
	d := loadForDiff(t, diffBase, "first")
	for _, old := range []*Definitions{nil, {}} {
		cs := Diff(old, d)
		want := []JobChange{
			{Name: "db-backup", Reasons: []string{"new job"}, Hosts: []string{"db-01"}},
			{Name: "nginx-config", Reasons: []string{"new job"}, Hosts: []string{"web-01", "web-02", "web-03"}},
			{Name: "pkg", Reasons: []string{"new job"}, Hosts: []string{"web-01", "web-02", "web-03"}},
		}
		if diff := cmp.Diff(want, cs.Jobs); diff != "" {
			t.Errorf("jobs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"disk", "web-http"}, cs.Monitors.Added); diff != "" {
			t.Errorf("monitors added (-want +got):\n%s", diff)
		}
		if cs.From != "" || cs.To != "first" {
			t.Errorf("From, To = %q, %q", cs.From, cs.To)
		}
		if len(cs.Inventory) != 6 { // 4 hosts, 1 group, 1 credential
			t.Errorf("inventory has %d changes, want 6: %+v", len(cs.Inventory), cs.Inventory)
		}
	}
}

// TestDiffHandBuilt: without source, a job that is present in both counts
// as changed, so the diff runs rather than skips.
func TestDiffHandBuilt(t *testing.T) {
	mk := func() *Definitions {
		return &Definitions{
			Hosts: map[string]*Host{"a": {Name: "a", Groups: []string{"g"}}},
			Jobs:  map[string]*Job{"j": {Name: "j", Targets: Targets{Groups: []string{"g"}}}},
		}
	}
	cs := Diff(mk(), mk())
	want := []JobChange{{Name: "j", Reasons: []string{"job block changed"}, Hosts: []string{"a"}}}
	if diff := cmp.Diff(want, cs.Jobs); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

// TestMatchTargetsAgreesWithSelect: the diff's per-host matcher and Select
// must select the same hosts, or incremental plans would drift.
func TestMatchTargetsAgreesWithSelect(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		names := []string{"a", "b", "c", "d", "e"}
		groups := []string{"g1", "g2", "g3"}
		pick := func(label string, from []string) []string {
			return rapid.SliceOfDistinct(rapid.SampledFrom(from), rapid.ID).Draw(t, label)
		}
		labels := func(label string) map[string]string {
			return rapid.MapOfN(rapid.SampledFrom([]string{"os", "rack"}), rapid.SampledFrom([]string{"x", "y"}), 0, 2).Draw(t, label)
		}
		d := &Definitions{Hosts: map[string]*Host{}}
		for _, n := range pick("hosts", names) {
			d.Hosts[n] = &Host{Name: n, Groups: pick("groups "+n, groups), Labels: labels("labels " + n)}
		}
		tg := Targets{
			Hosts:   pick("target hosts", append(names, "zz")),
			Groups:  pick("target groups", append(groups, "g9")),
			Labels:  labels("target labels"),
			Exclude: pick("exclude", names),
		}
		want := hostNamesOf(d.Select(tg))
		var got []string
		for _, h := range sortedHosts(d.Hosts) {
			if matchTargets(tg, h) {
				got = append(got, h.Name)
			}
		}
		if !slices.Equal(want, got) {
			t.Fatalf("Select = %v, matchTargets = %v for %+v", want, got, tg)
		}
	})
}

// TestDiffSelf: a commit compared with itself changes nothing, and
// compared with nothing, every job runs on all its targets.
func TestDiffSelf(t *testing.T) {
	for _, dir := range []string{"testdata/valid/design_example", "testdata/plan/base"} {
		t.Run(dir, func(t *testing.T) {
			d, diags := Load(os.DirFS(dir), "c", Limits{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if cs := Diff(d, d); !cs.Empty() {
				t.Errorf("Diff(d, d) = %+v, want empty", cs)
			}
			cs := Diff(nil, d)
			if len(cs.Jobs) != len(d.Jobs) {
				t.Fatalf("Diff(nil, d) has %d jobs, want %d", len(cs.Jobs), len(d.Jobs))
			}
			for _, jc := range cs.Jobs {
				want := hostNamesOf(d.Select(d.Jobs[jc.Name].Targets))
				if !slices.Equal(jc.Hosts, want) {
					t.Errorf("job %s runs on %v, want all targets %v", jc.Name, jc.Hosts, want)
				}
			}
			if len(cs.Monitors.Added) != len(d.Monitors) {
				t.Errorf("Diff(nil, d) adds %d monitors, want %d", len(cs.Monitors.Added), len(d.Monitors))
			}
		})
	}
}

// TestDiffNotifierForms: a notifier is the same whichever form names its
// kind, the label (notifier "webhook" "ops-chat") or the deprecated type
// attribute, so rewriting one form as the other is not a change.
func TestDiffNotifierForms(t *testing.T) {
	const (
		attrHook  = "notifier \"ops-chat\" {\n  type = \"webhook\"\n  url  = env(\"OPS_WEBHOOK_URL\")\n}\n"
		labelHook = "notifier \"webhook\" \"ops-chat\" {\n  url = env(\"OPS_WEBHOOK_URL\")\n}\n"
		attrMail  = `notifier "ops-mail" {
  to       = ["ops@example.net"]
  type     = "email"
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  password = file("/etc/ripple/smtp-password")
}
`
		labelMail = `# the label form
notifier "email" "ops-mail" {
  from     = "ripple@example.net"
  to       = ["ops@example.net"]
  smtp     = "smtp.example.net:587"
  password = file("/etc/ripple/smtp-password")
}
`
	)
	changed := []BlockChange{{Kind: "notifier", Name: "ops-chat", Action: Changed, Reasons: []string{"notifier block changed"}}}
	tests := []struct {
		name     string
		old, new string
		want     []BlockChange
	}{
		{name: "attribute form to label form", old: attrHook, new: labelHook},
		{name: "label form to attribute form", old: labelHook, new: attrHook},
		{name: "label form unchanged", old: labelHook, new: labelHook + "\n# a comment\n"},
		{name: "label form with a redundant type", old: attrHook, new: strings.Replace(labelHook, "{\n", "{\n  type = \"webhook\"\n", 1)},
		{name: "email, attributes in another order", old: attrMail, new: labelMail},
		{name: "kind changed with the form", old: attrHook, new: strings.Replace(labelHook, `"webhook"`, `"slack"`, 1), want: changed},
		{name: "kind changed in the label form", old: labelHook, new: strings.Replace(labelHook, `"webhook"`, `"slack"`, 1), want: changed},
		{name: "url changed with the form", old: attrHook, new: strings.Replace(labelHook, "OPS_WEBHOOK_URL", "OPS_HOOK", 1), want: changed},
		{name: "url changed in the label form", old: labelHook, new: strings.Replace(labelHook, "OPS_WEBHOOK_URL", "OPS_HOOK", 1), want: changed},
		{name: "renamed with the form", old: attrHook, new: strings.Replace(labelHook, `"ops-chat"`, `"chat"`, 1), want: []BlockChange{
			{Kind: "notifier", Name: "chat", Action: Added},
			{Kind: "notifier", Name: "ops-chat", Action: Removed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := loadForDiff(t, map[string]string{"notify.hcl": tt.old}, "old")
			new := loadForDiff(t, map[string]string{"notify.hcl": tt.new}, "new")
			cs := Diff(old, new)
			if diff := cmp.Diff(tt.want, cs.Inventory, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("inventory (-want +got):\n%s", diff)
			}
			if tt.want == nil && !cs.Empty() {
				t.Errorf("change set = %+v, want empty", cs)
			}
		})
	}
}
