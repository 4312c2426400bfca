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
// hang or overflow the stack. Seeds are every file under testdata.
func FuzzLoad(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<16 {
			f.Add(data)
		}
		return nil
	})
	f.Add([]byte(strings.Repeat("[", 100)))
	f.Add([]byte("x = <<EOF\n${" + strings.Repeat("(", 70) + "\nEOF\n"))
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
		d, diags := Load(fsys, "")
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
