package definitions

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// FuzzLoad loads arbitrary bytes as a definitions file, and the same bytes
// as a file step template, then renders what loaded. It must never panic,
// hang or overflow the stack. Seeds are small on purpose: the fuzzer
// minimizes every input that finds new coverage, and minimizing a large
// input costs up to a minute.
func FuzzLoad(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && len(data) < 400 {
			f.Add(data)
		}
		return nil
	})
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	const harness = `
host "fuzz-h" {
  address   = "h.example"
  transport = "local"
  vars      = { v = "x" }
}
job "fuzz-j" {
  targets { hosts = ["fuzz-h"] }
  step "f" {
    file {
      source      = "t.tmpl"
      destination = "/t"
    }
  }
}
`
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a bug too: dump every goroutine if one input stalls.
		stall := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzLoad: one input took over 10s:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer stall.Stop()
		fsys := fstest.MapFS{
			"in.hcl":      {Data: data},
			"harness.hcl": {Data: []byte(harness)},
			"t.tmpl":      {Data: data},
		}
		d, diags := Load(fsys, "", Limits{})
		_ = DiagnosticList(diags)
		_ = ShortDiagnostics(diags)
		var sb strings.Builder
		_ = WriteDiagnostics(&sb, d.Files, diags, false)
		for _, j := range d.Jobs {
			for _, h := range d.Select(j.Targets) {
				for _, s := range j.Steps {
					_, _ = d.RenderStep(j, s, h, fakeSecrets{})
				}
			}
		}
		for _, m := range d.Monitors {
			for _, h := range d.Select(m.Targets) {
				_, _ = d.RenderCheck(m, h, fakeSecrets{})
			}
		}
	})
}

// fuzzSeeds touch every block type and expression form in a few bytes each.
var fuzzSeeds = []string{
	"host \"h\" {\n  address = \"[::1]\"\n  port = 2\n  groups = [\"g\"]\n  labels = { a = \"b\" }\n  vars = { x = 1 }\n}\n",
	"group \"g\" { vars = { x = 2 } }\n",
	"credential \"default\" {\n  user = \"u\"\n  agent = true\n  passphrase = env(\"P\")\n}\n",
	"snmp \"s\" {\n  version = \"3\"\n  user = \"u\"\n  auth_protocol = \"SHA\"\n  auth_passphrase = env(\"A\")\n}\n",
	"window \"w\" {\n  cron = \"0 1 * * SAT\"\n  duration = \"4h\"\n  timezone = \"UTC\"\n}\n",
	"notifier \"slack\" \"n\" { url = env(\"U\") }\n",
	"notifier \"n\" {\n  type = \"webhook\"\n  url = env(\"U\")\n}\n",
	"monitor \"m\" {\n  targets { groups = [\"g\"] }\n  check \"http\" { url = \"http://${host.address}/\" }\n}\n",
	"monitor \"s\" {\n  targets { labels = { a = \"b\" } }\n  check \"snmp\" { oid = \"1.3.6\" }\n}\n",
	"job \"j\" {\n  targets { hosts = [\"fuzz-h\"] }\n  step \"r\" { run = \"echo ${upper(host.name)}\" }\n  rollout {\n    waves = [1, \"50%\"]\n    max_failures = \"5%\"\n    health_gate { monitors = [\"m\"] }\n  }\n}\n",
	"x = <<EOF\n${host.vars.v}\nEOF\n",
	"%{ for g in host.groups }${g}%{ endfor }${format(\"%d\", host.port)}",
	strings.Repeat("[", 70),
}
