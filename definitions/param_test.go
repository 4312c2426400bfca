package definitions

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

const paramsRepo = `host "web-01" {
  address   = "web-01.example"
  transport = "local"
  groups    = ["web"]
}

job "restart-app" {
  manual = true
  param "service" {
    default = "app"
    allowed = ["app", "worker"]
  }
  param "ticket" {
    regex       = "^OPS-[0-9]+$"
    description = "change ticket"
  }
  param "db_password" {
    sensitive = true
  }
  param "count" {
    type    = number
    default = 1
  }
  param "dry" {
    type    = bool
    default = false
  }
  param "extras" {
    type    = list(string)
    default = []
    regex   = "^[a-z]+$"
  }
  targets { groups = ["web"] }
  step "restart" { run = "systemctl restart ${param.service} # ${param.ticket} x${param.count} dry=${param.dry}" }
  step "conf" {
    file {
      source      = "app.tmpl"
      destination = "/etc/${param.service}/db.conf"
    }
  }
  step "script" { script = "go.sh" }
}
`

func loadParams(t *testing.T, src string) *Definitions {
	t.Helper()
	d, diags := Load(fstest.MapFS{
		"ops.hcl":  {Data: []byte(src)},
		"app.tmpl": {Data: []byte("password = ${param.db_password}\nextras = ${join(\",\", param.extras)}\n")},
		"go.sh":    {Data: []byte("#!/bin/sh\necho \"$RIPPLE_PARAM_SERVICE\"\n")},
	}, "c0ffee", Limits{})
	if diags.HasErrors() {
		t.Fatalf("load:\n%s", allDiags(diags))
	}
	return d
}

// TestParamDiagnosticsPoint checks that param diagnostics point at the
// exact place, column included, as `ripple validate` prints them.
func TestParamDiagnosticsPoint(t *testing.T) {
	src := `host "a" {
  address   = "a.example"
  transport = "local"
}
job "j" {
  manual = true
  targets { hosts = ["a"] }
  param "service" {
    default = "db"
    allowed = ["app"]
  }
  step "s" { run = "echo ${param.servise}" }
}
job "k" {
  targets { hosts = ["a"] }
  param "ticket" { regex = "(" }
  step "s" { run = "true" }
}
`
	_, diags := Load(fstest.MapFS{"jobs.hcl": {Data: []byte(src)}}, "", Limits{})
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
	}
	want := []string{
		"jobs.hcl:9:15: Invalid default",
		"jobs.hcl:12:28: Undeclared param",
		"jobs.hcl:16:3: Required param in a job that runs on commits",
		"jobs.hcl:16:28: Invalid regex",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\n%s", diff, allDiags(diags))
	}
}

func TestResolveParams(t *testing.T) {
	j := loadParams(t, paramsRepo).Jobs["restart-app"]
	raw := func(m map[string]string) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			out[k] = json.RawMessage(v)
		}
		return out
	}
	tests := []struct {
		name  string
		given map[string]string
		want  map[string]string // param -> value as text; nil when refused
		errs  []string          // substrings of the error, in order
	}{
		{
			name:  "defaults fill in; strings spell numbers, bools and lists",
			given: map[string]string{"ticket": `"OPS-12"`, "db_password": `"s3cret"`, "count": `"3"`, "dry": `"true"`, "extras": `"a, b"`},
			want:  map[string]string{"service": "app", "ticket": "OPS-12", "db_password": "s3cret", "count": "3", "dry": "true", "extras": `["a","b"]`},
		},
		{
			name:  "JSON types and a JSON array in a string",
			given: map[string]string{"service": `"worker"`, "ticket": `"OPS-1"`, "db_password": `"x"`, "count": `2.5`, "dry": `false`, "extras": `"[\"x\",\"y,z\"]"`},
			errs:  []string{`param extras: "y,z" does not match regex "^[a-z]+$"`},
		},
		{
			name:  "list as a JSON array; null means not given",
			given: map[string]string{"ticket": `"OPS-1"`, "db_password": `"x"`, "extras": `["q"]`, "count": `null`},
			want:  map[string]string{"service": "app", "ticket": "OPS-1", "db_password": "x", "count": "1", "dry": "false", "extras": `["q"]`},
		},
		{
			name:  "every refusal names its param, sorted by param",
			given: map[string]string{"service": `"db"`, "ticket": `"ops-1"`, "count": `"many"`, "dry": `"maybe"`, "colour": `"red"`},
			errs: []string{
				`param colour: job restart-app has no such param (params: service, ticket, db_password, count, dry, extras)`,
				`param count: must be a number; got "many"`,
				`param dry: must be true or false; got "maybe"`,
				`param service: "db" is not allowed (allowed: "app", "worker")`,
				`param ticket: "ops-1" does not match regex "^OPS-[0-9]+$"`,
				`param db_password: is required (it has no default)`,
			},
		},
		{
			name:  "a string param takes no number",
			given: map[string]string{"ticket": `12`, "db_password": `"x"`},
			errs:  []string{`param ticket: must be a string`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := j.ResolveParams(raw(tt.given))
			if tt.errs != nil {
				if err == nil {
					t.Fatalf("no error; values %v", vals)
				}
				if diff := cmp.Diff(tt.errs, strings.Split(err.Error(), "\n")); diff != "" {
					t.Errorf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range vals {
				got[k] = valueText(v, false)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSensitiveParamValueNeverInErrors: an error about a sensitive param
// names it, never its value.
func TestSensitiveParamValueNeverInErrors(t *testing.T) {
	src := strings.Replace(paramsRepo, "sensitive = true", "sensitive = true\n    regex = \"^[A-Z]{8,}$\"", 1)
	j := loadParams(t, src).Jobs["restart-app"]
	_, err := j.ResolveParams(map[string]json.RawMessage{"ticket": json.RawMessage(`"OPS-1"`), "db_password": json.RawMessage(`"hunter2"`)})
	if err == nil || !strings.Contains(err.Error(), "param db_password: the value does not match regex") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %v", err)
	}
}

func TestRenderStepWithParams(t *testing.T) {
	d := loadParams(t, paramsRepo)
	j := d.Jobs["restart-app"]
	h := d.Hosts["web-01"]
	vals, err := j.ResolveParams(map[string]json.RawMessage{
		"service": json.RawMessage(`"worker"`), "ticket": json.RawMessage(`"OPS-7"`),
		"db_password": json.RawMessage(`"pw"`), "extras": json.RawMessage(`["a","b"]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	run, diags := d.RenderStep(j, j.Steps[0], h, nil, vals)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	if want := "systemctl restart worker # OPS-7 x1 dry=false"; run.Command != want {
		t.Errorf("command = %q, want %q", run.Command, want)
	}
	// The sensitive value is a secret of every step, so the executor
	// redacts it from the output whatever its length.
	if !slices.Contains(run.Secrets, "pw") {
		t.Errorf("secrets = %q, want the sensitive value", run.Secrets)
	}
	conf, diags := d.RenderStep(j, j.Steps[1], h, nil, vals)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	if conf.Destination != "/etc/worker/db.conf" || string(conf.Content) != "password = pw\nextras = a,b\n" {
		t.Errorf("file step = %q -> %q", conf.Content, conf.Destination)
	}
	script, diags := d.RenderStep(j, j.Steps[2], h, nil, vals)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	want := []string{"RIPPLE_PARAM_SERVICE=worker", "RIPPLE_PARAM_TICKET=OPS-7", "RIPPLE_PARAM_DB_PASSWORD=pw", "RIPPLE_PARAM_COUNT=1", "RIPPLE_PARAM_DRY=false", "RIPPLE_PARAM_EXTRAS=a\nb"}
	if diff := cmp.Diff(want, script.Env); diff != "" {
		t.Errorf("script env (-want +got):\n%s", diff)
	}

	// Without values (nil: the defaults) a step that reads a required
	// param does not render, and says which.
	_, diags = d.RenderStep(j, j.Steps[0], h, nil, nil)
	if !diags.HasErrors() || diags[0].Summary != "Missing param value" || !strings.Contains(diags[0].Detail, `"ticket"`) {
		t.Errorf("render without the required param: %s", allDiags(diags))
	}
	_, diags = d.RenderStep(j, j.Steps[1], h, nil, ParamValues{"service": cty.StringVal("app")})
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, `"db_password"`) || diags[0].Subject.Filename != "app.tmpl" {
		t.Errorf("template without the sensitive param: %s", allDiags(diags))
	}
}

func TestScheduleParams(t *testing.T) {
	d, diags := Load(os.DirFS("testdata/valid/design_example"), "", Limits{})
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	j := d.Jobs["rotate-logs"]
	vals, err := j.ResolveParamValues(j.ScheduleParams)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range vals {
		got[k] = valueText(v, false)
	}
	want := map[string]string{"keep": "7", "services": `["app","worker"]`, "compress": "true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scheduled values (-want +got):\n%s", diff)
	}
	rec := j.RecordParams(vals)
	if string(rec["keep"]) != "7" || string(rec["services"]) != `["app","worker"]` {
		t.Errorf("recorded = %s", rec)
	}
	if rj := d.Jobs["restart-app"]; string(rj.RecordParams(ParamValues{"db_password": cty.StringVal("pw")})["db_password"]) != `"***"` {
		t.Error("a sensitive param is recorded as its value")
	}
}
