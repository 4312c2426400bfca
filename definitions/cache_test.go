package definitions

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestCachePlanMatchesUncached plans the generated fleet's two commits with
// and without a parse cache: the plans must be the same.
func TestCachePlanMatchesUncached(t *testing.T) {
	if testing.Short() {
		t.Skip("large fixture")
	}
	v1, v2 := genFleet(false), genFleet(true)
	planText := func(old, new *Definitions) string {
		var b strings.Builder
		if err := Plan(Diff(old, new), new).WriteText(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	old, _ := Load(v1, "v1", Limits{})
	new, _ := Load(v2, "v2", Limits{})
	want := planText(old, new)

	cache := NewCache()
	old, _ = cache.Load(v1, "v1", Limits{})
	new, _ = cache.Load(v2, "v2", Limits{})
	if diff := cmp.Diff(want, planText(old, new)); diff != "" {
		t.Errorf("cached plan differs (-uncached +cached):\n%s", diff)
	}
}

// TestCacheDiagnostics loads a broken file twice through a cache: the
// second load reports the same errors, and a fixed file is parsed anew.
func TestCacheDiagnostics(t *testing.T) {
	broken := fstest.MapFS{"hosts.hcl": {Data: []byte("host \"a\" {\n  address = \n}\n")}}
	fixed := fstest.MapFS{"hosts.hcl": {Data: []byte("host \"a\" {\n  address = \"10.0.0.1\"\n  transport = \"local\"\n}\n")}}
	cache := NewCache()
	_, first := cache.Load(broken, "1", Limits{})
	_, second := cache.Load(broken, "2", Limits{})
	if !first.HasErrors() || first.Error() != second.Error() {
		t.Fatalf("first load: %v\nsecond load: %v", first, second)
	}
	if _, diags := cache.Load(fixed, "3", Limits{}); diags.HasErrors() {
		t.Fatalf("fixed file: %v", diags)
	}

	// Host blocks decoded once are replayed with their diagnostics and
	// references: a bad address and an unknown SNMP profile both times.
	hosts := fstest.MapFS{"hosts.hcl": {Data: []byte("host \"a\" {\n  address = \"a;b\"\n  transport = \"local\"\n}\nhost \"b\" {\n  address = \"10.0.0.2\"\n  transport = \"local\"\n  snmp = \"nope\"\n}\n")}}
	want := "hosts.hcl:2,13-18: Invalid host address; \"a;b\" is not a hostname, an IPv4 address or a bracketed IPv6 address such as \"[2001:db8::1]\"., and 1 other diagnostic(s)"
	for i := range 2 {
		d, diags := cache.Load(hosts, "h", Limits{})
		if diags.Error() != want || !strings.Contains(allDiags(diags), "Unknown SNMP profile") || d.Hosts["b"] == nil {
			t.Fatalf("load %d: %s", i+1, allDiags(diags))
		}
	}
	if len(cache.hosts) != 2 {
		t.Errorf("cache holds %d decoded hosts, want the 2 of the last loads", len(cache.hosts))
	}
}

// TestCacheKeepsTwoLoads checks the eviction: files of the last two loads
// stay, older ones go.
func TestCacheKeepsTwoLoads(t *testing.T) {
	repo := func(addr string) fstest.MapFS {
		return fstest.MapFS{"h.hcl": {Data: []byte("host \"a\" {\n  address = \"" + addr + "\"\n  transport = \"local\"\n}\n")}}
	}
	cache := NewCache()
	for _, addr := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if _, diags := cache.Load(repo(addr), addr, Limits{}); diags.HasErrors() {
			t.Fatal(diags)
		}
	}
	var kept []string
	for k := range cache.entries {
		kept = append(kept, k.content)
	}
	if len(kept) != 2 || strings.Contains(strings.Join(kept, ""), "10.0.0.1") {
		t.Errorf("cache keeps %d files: %q", len(kept), kept)
	}
}
