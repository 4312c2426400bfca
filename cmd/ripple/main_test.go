package main

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
		Dir: "testdata/script",
	})
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
