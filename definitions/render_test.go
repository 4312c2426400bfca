package definitions

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// fakeSecrets is a SecretSource backed by maps.
type fakeSecrets struct {
	env   map[string]string
	files map[string]string
}

func (f fakeSecrets) Env(name string) (string, bool) { v, ok := f.env[name]; return v, ok }

// ReadFile refuses what the definitions protect, by path alone.
func (f fakeSecrets) ReadFile(p string, protected []ProtectedFile) ([]byte, error) {
	for _, pf := range protected {
		if pf.Path == p {
			return nil, fmt.Errorf("%s is the %s", p, pf.Use)
		}
	}
	if v, ok := f.files[p]; ok {
		return []byte(v), nil
	}
	return nil, fs.ErrNotExist
}

func mustLoad(t *testing.T, fsys fs.FS) *Definitions {
	t.Helper()
	d, diags := Load(fsys, "", Limits{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", allDiags(diags))
	}
	return d
}

const renderFixture = `
host "web-01" {
  address = "10.0.1.11"
  groups  = ["web", "tokyo"]
  labels  = { os = "debian12" }
  vars    = { workers = 4, region = "host-wins" }
}
host "web-02" {
  address = "10.0.1.12"
  port    = 2222
  groups  = ["tokyo", "web"]
}
group "web"   { vars = { region = "web", version = "1.24" } }
group "tokyo" { vars = { region = "tokyo", dc = "tyo1" } }
credential "default" {
  user = "deploy"
  private_key_file = "/k"
}
snmp "v2" {
  version   = "2c"
  community = env("COMMUNITY")
}
host "sw-1" {
  address = "sw-1.example.net"
  snmp    = "v2"
}
job "conf" {
  targets { groups = ["web"] }
  step "file" {
    file {
      source      = "t/app.tmpl"
      destination = "/etc/app.conf"
      mode        = "0600"
    }
  }
  step "run" { run = "echo ${host.name} ${env("TOKEN")} ${upper(host.vars.region)}" }
  step "script" { script = "t/s.sh" }
}
monitor "http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}:8080/${file("/etc/p")}" }
}
monitor "tcp" {
  targets { groups = ["web"] }
  check "tcp" { port = 22 }
}
monitor "snmp" {
  targets { hosts = ["sw-1"] }
  check "snmp" { oid = "1.3.6.1.2.1.1.3.0" }
}
`

func renderFS() fstest.MapFS {
	return fstest.MapFS{
		"main.hcl":   {Data: []byte(renderFixture)},
		"t/app.tmpl": {Data: []byte("name=${host.name} port=${host.port} region=${host.vars.region} dc=${host.vars.dc}\n")},
		"t/s.sh":     {Data: []byte("#!/bin/sh\ntrue\n")},
	}
}

func TestHostObjectVarMerging(t *testing.T) {
	d := mustLoad(t, renderFS())
	cases := []struct {
		host string
		want map[string]cty.Value
	}{
		// Host vars win over every group; a later group wins over an earlier one.
		{"web-01", map[string]cty.Value{"workers": cty.NumberIntVal(4), "region": cty.StringVal("host-wins"), "version": cty.StringVal("1.24"), "dc": cty.StringVal("tyo1")}},
		{"web-02", map[string]cty.Value{"region": cty.StringVal("web"), "version": cty.StringVal("1.24"), "dc": cty.StringVal("tyo1")}},
		{"sw-1", map[string]cty.Value{}},
	}
	for _, c := range cases {
		obj := d.HostObject(d.Hosts[c.host])
		got := obj.GetAttr("vars").AsValueMap()
		if got == nil {
			got = map[string]cty.Value{}
		}
		if diff := cmp.Diff(c.want, got, cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) })); diff != "" {
			t.Errorf("%s vars (-want +got):\n%s", c.host, diff)
		}
	}
	obj := d.HostObject(d.Hosts["web-02"])
	if p := obj.GetAttr("port"); !p.RawEquals(cty.NumberIntVal(2222)) {
		t.Errorf("port = %#v", p)
	}
}

func TestRenderStep(t *testing.T) {
	d := mustLoad(t, renderFS())
	job := d.Jobs["conf"]
	src := fakeSecrets{env: map[string]string{"TOKEN": "s3cret"}}
	want := map[string]string{
		"web-01": "name=web-01 port=22 region=host-wins dc=tyo1\n",
		"web-02": "name=web-02 port=2222 region=web dc=tyo1\n",
	}
	for host, content := range want {
		h := d.Hosts[host]
		hs, diags := d.RenderStep(job, job.Steps[0], h, src)
		if diags.HasErrors() {
			t.Fatal(allDiags(diags))
		}
		if string(hs.Content) != content || hs.Mode != 0o600 || hs.Destination != "/etc/app.conf" || hs.Kind != StepFile {
			t.Errorf("%s: file step = %+v", host, hs)
		}
		if len(hs.Secrets) != 0 {
			t.Errorf("%s: file step secrets = %q", host, hs.Secrets)
		}
	}
	hs, diags := d.RenderStep(job, job.Steps[1], d.Hosts["web-01"], src)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	if hs.Command != "echo web-01 s3cret HOST-WINS" || hs.Job != "conf" || hs.Name != "run" || hs.Timeout != DefaultStepTimeout {
		t.Errorf("run step = %+v", hs)
	}
	if diff := cmp.Diff([]string{"s3cret"}, hs.Secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	hs, diags = d.RenderStep(job, job.Steps[2], d.Hosts["web-01"], nil)
	if diags.HasErrors() || string(hs.Script) != "#!/bin/sh\ntrue\n" {
		t.Errorf("script step = %+v, %s", hs, allDiags(diags))
	}
	// Without a secret source, env() cannot be rendered and nothing leaks.
	if _, diags := d.RenderStep(job, job.Steps[1], d.Hosts["web-01"], nil); !diags.HasErrors() {
		t.Error("run step with env() rendered without a secret source")
	}
	// A variable that is not set is an error, not an empty string.
	if _, diags := d.RenderStep(job, job.Steps[1], d.Hosts["web-01"], fakeSecrets{}); !diags.HasErrors() {
		t.Error("run step rendered with TOKEN unset")
	}
}

func TestRenderCheck(t *testing.T) {
	d := mustLoad(t, renderFS())
	src := fakeSecrets{env: map[string]string{"COMMUNITY": "pub1ic"}, files: map[string]string{"/etc/p": "healthz"}}
	hc, diags := d.RenderCheck(d.Monitors["http"], d.Hosts["web-02"], src)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	if hc.URL != "http://10.0.1.12:8080/healthz" || hc.Status != 200 || hc.Timeout != DefaultCheckTimeout {
		t.Errorf("http check = %+v", hc)
	}
	if diff := cmp.Diff([]string{"healthz"}, hc.Secrets); diff != "" {
		t.Errorf("http secrets (-want +got):\n%s", diff)
	}
	hc, diags = d.RenderCheck(d.Monitors["tcp"], d.Hosts["web-01"], nil)
	if diags.HasErrors() || hc.Address != "10.0.1.11" || hc.Port != 22 {
		t.Errorf("tcp check = %+v, %s", hc, allDiags(diags))
	}
	hc, diags = d.RenderCheck(d.Monitors["snmp"], d.Hosts["sw-1"], src)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	want := &SNMPAccess{Address: "sw-1.example.net", Port: 161, Version: "2c", Community: "pub1ic", Timeout: DefaultSNMPTimeout, Retries: DefaultSNMPRetries}
	if diff := cmp.Diff(want, hc.SNMP); diff != "" {
		t.Errorf("snmp access (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pub1ic"}, hc.Secrets); diff != "" {
		t.Errorf("snmp secrets (-want +got):\n%s", diff)
	}
}

func TestResolveSecretAndCredential(t *testing.T) {
	d := mustLoad(t, renderFS())
	p := d.SNMP["v2"]
	if v, diags := d.ResolveSecret(p.Community, fakeSecrets{env: map[string]string{"COMMUNITY": "x"}}); diags.HasErrors() || v != "x" {
		t.Errorf("ResolveSecret = %q, %s", v, allDiags(diags))
	}
	if _, diags := d.ResolveSecret(p.Community, nil); !diags.HasErrors() {
		t.Error("ResolveSecret without a source succeeded")
	}
	if v, diags := d.ResolveSecret(nil, nil); v != "" || diags != nil {
		t.Errorf("ResolveSecret(nil) = %q, %v", v, diags)
	}
	if c := d.Credential(d.Hosts["web-01"]); c == nil || c.User != "deploy" {
		t.Errorf("Credential = %+v", c)
	}
}

// TestEnvNeverReadsProcess checks that validate-time evaluation does not
// read the process environment or the disk.
func TestEnvNeverReadsProcess(t *testing.T) {
	t.Setenv("RIPPLE_TEST_SECRET", "leak")
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(`
host "h" {
  address = "h.example"
  transport = "local"
  labels = { x = env("RIPPLE_TEST_SECRET") } # not allowed: labels are static
}
`)}}
	_, diags := Load(fsys, "", Limits{})
	for _, d := range diags {
		if d.Summary != "Secret not allowed here" {
			t.Errorf("unexpected %s", diagString(d))
		}
	}
	if len(diags) != 1 {
		t.Errorf("want one diagnostic, got %s", allDiags(diags))
	}
}

func TestRenderPerHostDestinationAndCheck(t *testing.T) {
	d := mustLoad(t, fstest.MapFS{
		"main.hcl": {Data: []byte(`
host "a" {
  transport = "local"
  vars      = { dir = "/srv/a" }
}
host "b" {
  transport = "local"
  vars      = { dir = "relative" }
}
job "app" {
  targets { hosts = ["a", "b"] }
  step "conf" {
    file {
      source      = "app.tmpl"
      destination = "${host.vars.dir}/app.conf"
    }
  }
  step "install" {
    run   = "install-app"
    check = "test -x ${host.vars.dir}/bin/app"
  }
}
`)},
		"app.tmpl": {Data: []byte("name = ${host.name}\n")},
	})
	j := d.Jobs["app"]
	hs, diags := d.RenderStep(j, j.Steps[0], d.Hosts["a"], nil)
	if diags.HasErrors() || hs.Destination != "/srv/a/app.conf" {
		t.Fatalf("destination on a: %q %v", hs.Destination, diags)
	}
	if _, diags := d.RenderStep(j, j.Steps[0], d.Hosts["b"], nil); !diags.HasErrors() || diags[0].Summary != "Invalid destination" {
		t.Fatalf("a relative destination on b rendered: %v", diags)
	}
	hs, diags = d.RenderStep(j, j.Steps[1], d.Hosts["a"], nil)
	if diags.HasErrors() || hs.Check != "test -x /srv/a/bin/app" || hs.Command != "install-app" {
		t.Fatalf("check on a: %+v %v", hs, diags)
	}
}

// TestRenderRefusesCredentialFiles: every render hands the source the
// files the definitions' credentials authenticate with, so a template, a
// check or a secret cannot read them through file().
func TestRenderRefusesCredentialFiles(t *testing.T) {
	fsys := renderFS()
	fsys["creds.hcl"] = &fstest.MapFile{Data: []byte(`
credential "deploy" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
  known_hosts_file = "/etc/ripple/known_hosts"
}
job "leak" {
  targets { groups = ["web"] }
  step "key"   { run = "echo ${file("/etc/ripple/keys/deploy")}" }
  step "known" { run = "echo ${file("/etc/ripple/known_hosts")}" }
}
`)}
	d := mustLoad(t, fsys)
	want := []ProtectedFile{
		{Path: "/k", Use: `private_key_file of credential "default"`},
		{Path: "/etc/ripple/keys/deploy", Use: `private_key_file of credential "deploy"`},
		{Path: "/etc/ripple/known_hosts", Use: `known_hosts_file of credential "deploy"`},
	}
	if diff := cmp.Diff(want, d.CredentialFiles()); diff != "" {
		t.Errorf("CredentialFiles (-want +got):\n%s", diff)
	}
	src := fakeSecrets{files: map[string]string{"/etc/ripple/keys/deploy": "KEY", "/etc/ripple/known_hosts": "KNOWN"}}
	job := d.Jobs["leak"]
	for i, use := range []string{`private_key_file of credential "deploy"`, `known_hosts_file of credential "deploy"`} {
		hs, diags := d.RenderStep(job, job.Steps[i], d.Hosts["web-01"], src)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), use) {
			t.Errorf("step %s rendered %+v, %v; want a refusal naming the %s", job.Steps[i].Name, hs, diags, use)
		}
	}
}
