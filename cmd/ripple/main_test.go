package main

import (
	"os"
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
