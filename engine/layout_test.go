package engine_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ripple-ops/ripple"

// allowedImports is the dependency direction of DESIGN.md's Layout: for
// each package of ours (by path in the module), the packages of ours its
// non-test code may import. A component imports the leaf (engine),
// definitions and the components it is built on, never one above it; jobs
// and webhooks implement engine's contracts and never import each other;
// only cmd wires concrete types together (and test drives them).
var allowedImports = map[string][]string{
	"definitions":           {},
	"definitions/fleetgen":  {},
	"engine":                {"definitions"},
	"engine/backoff":        {},
	"engine/source":         {"engine", "definitions"},
	"engine/schedule":       {"engine", "definitions"},
	"engine/convergence":    {"engine", "definitions"},
	"engine/facts":          {"engine", "definitions"},
	"engine/monitor":        {"engine", "definitions", "engine/schedule"},
	"engine/rollout":        {"engine", "definitions", "engine/schedule"},
	"engine/gitops":         {"engine", "definitions", "engine/source", "engine/schedule", "engine/backoff", "engine/cluster", "engine/convergence", "engine/facts"},
	"engine/apply":          {"engine", "definitions", "engine/rollout", "engine/convergence"},
	"engine/sqlstore":       {"engine", "definitions"},
	"engine/pgstore":        {"engine", "definitions", "engine/cluster"},
	"engine/cluster":        {"engine", "definitions"},
	"engine/enginetest":     {"engine", "definitions", "engine/cluster"},
	"engine/storetest":      {"engine", "definitions"},
	"engine/pgstore/pgtest": {},
	"engine/httpapi":        {"engine", "definitions", "engine/monitor", "engine/convergence", "engine/facts"},
	"engine/webui":          {"engine", "definitions", "engine/httpapi", "engine/monitor", "engine/convergence", "engine/facts"},
	"jobs":                  {"engine", "definitions"},
	"jobs/lab":              {"engine", "definitions", "jobs"},
	"webhooks":              {"engine", "definitions", "engine/backoff"},
	"webhooks/notify":       {"engine", "definitions", "engine/backoff"},
}

// unrestricted packages wire or drive everything.
var unrestricted = []string{"cmd/", "test/"}

// TestImportDirection fails when a package imports one of ours against the
// direction above, or when a new package appears without a rule.
func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{} // package -> our packages it imports
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			ip := strings.Trim(imp.Path.Value, `"`)
			if ip == module || strings.HasPrefix(ip, module+"/") {
				imports[pkg][strings.TrimPrefix(strings.TrimPrefix(ip, module), "/")] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	for pkg, deps := range imports {
		if slices.ContainsFunc(unrestricted, func(p string) bool { return strings.HasPrefix(pkg+"/", p) }) {
			continue
		}
		allowed, ok := allowedImports[pkg]
		if !ok {
			t.Errorf("package %s has no rule in allowedImports: say which of our packages it may import (DESIGN.md, Layout)", pkg)
			continue
		}
		for dep := range deps {
			if !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, against the dependency direction (it may import %v)", pkg, dep, allowed)
			}
		}
	}
}

// TestNoFstestInProduction keeps one git reader: commit trees are read
// lazily from the object store (engine/source), never copied into an
// in-memory file system outside tests.
func TestNoFstestInProduction(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata" || rel == "test" || rel == filepath.Join("engine", "enginetest")) {
				return filepath.SkipDir
			}
			return nil
		}
		if path.Ext(p) != ".go" || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), `"testing/fstest"`) {
			t.Errorf("%s imports testing/fstest outside tests", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
