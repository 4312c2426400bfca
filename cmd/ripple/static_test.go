package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticBuildRunsVersion builds ripple the way the Dockerfile does
// (CGO_ENABLED=0, -trimpath) and runs `ripple version`: the distroless image
// has no libc, so the binary must not need one.
func TestStaticBuildRunsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "ripple")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-X main.version=test-static", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ripple test-static ") {
		t.Fatalf("ripple version = %q, %v", out, err)
	}
	// No dynamic loader: a static ELF has no PT_INTERP, which `file`-less
	// environments can check by looking for the interpreter path.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "/lib64/ld-linux") {
		t.Fatal("the CGO_ENABLED=0 binary references the dynamic loader")
	}
}
