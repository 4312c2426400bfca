package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ripple": func() { os.Exit(mainExit()) },
	})
}

// TestScripts runs the CLI scripts in testdata/script: each is a user's
// session with the ripple binary, with its expected output and exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"fleetrepo": cmdFleetRepo},
	})
}

// cmdFleetRepo writes fleetgen.CSVRepo(ROWS) into DIR: `fleetrepo DIR ROWS`,
// a repo of ROWS switches from inventory/switches.csv and 40 web hosts.
func cmdFleetRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fleetrepo DIR ROWS")
	}
	rows, err := strconv.Atoi(args[1])
	ts.Check(err)
	for name, data := range fleetgen.CSVRepo(rows) {
		p := filepath.Join(ts.MkAbs(args[0]), name)
		ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
		ts.Check(os.WriteFile(p, data, 0o644))
	}
}

// TestHelpScriptNamesEveryCommand keeps testdata/script/help.txtar in step
// with the commands table: every command answers -h and --help with exit 0.
func TestHelpScriptNamesEveryCommand(t *testing.T) {
	b, err := os.ReadFile("testdata/script/help.txtar")
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, c := range commands() {
		for _, flag := range []string{"-h", "--help"} {
			line := "\nexec ripple " + c.name + " " + flag + "\n"
			if !strings.Contains(script, line) {
				t.Errorf("help.txtar has no line %q", strings.TrimSpace(line))
			}
		}
	}
}
