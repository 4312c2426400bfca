package definitions

import (
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const selectFixture = `
credential "default" {
  user  = "r"
  agent = true
}
host "c" {
  address = "10.0.0.3"
  groups  = ["web", "db"]
  labels  = { os = "debian12", rack = "r2" }
}
host "a" {
  address = "10.0.0.1"
  groups  = ["web"]
  labels  = { os = "debian12", rack = "r1" }
}
host "b" {
  address = "10.0.0.2"
  groups  = ["web"]
  labels  = { os = "rocky9", rack = "r1" }
}
host "d" {
  address = "10.0.0.4"
  groups  = ["db"]
  labels  = { os = "debian12" }
}
`

func TestSelect(t *testing.T) {
	d := mustLoad(t, fstest.MapFS{"hosts.hcl": {Data: []byte(selectFixture)}})
	cases := []struct {
		name string
		t    Targets
		want []string
	}{
		{"group", Targets{Groups: []string{"web"}}, []string{"a", "b", "c"}},
		{"groups overlap, no duplicates", Targets{Groups: []string{"web", "db"}}, []string{"a", "b", "c", "d"}},
		{"hosts and groups", Targets{Hosts: []string{"d", "a"}, Groups: []string{"web"}}, []string{"a", "b", "c", "d"}},
		{"group and labels", Targets{Groups: []string{"web"}, Labels: map[string]string{"os": "debian12"}}, []string{"a", "c"}},
		{"all labels must match", Targets{Labels: map[string]string{"os": "debian12", "rack": "r1"}}, []string{"a"}},
		{"labels only", Targets{Labels: map[string]string{"os": "debian12"}}, []string{"a", "c", "d"}},
		{"exclude", Targets{Groups: []string{"web"}, Exclude: []string{"b"}}, []string{"a", "c"}},
		{"labels and exclude", Targets{Labels: map[string]string{"os": "debian12"}, Exclude: []string{"c"}}, []string{"a", "d"}},
		{"unknown names", Targets{Hosts: []string{"zz"}, Groups: []string{"nope"}}, nil},
		{"empty", Targets{}, nil},
		{"label value mismatch", Targets{Labels: map[string]string{"os": "arch"}}, nil},
	}
	hand := &Definitions{Hosts: d.Hosts} // no index: the fallback path
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, defs := range []*Definitions{d, hand} {
				var got []string
				for _, h := range defs.Select(c.t) {
					got = append(got, h.Name)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("Select (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestSelectRepeatedNames checks that targets naming a group or a host
// many times, or excluding many hosts, cost what the hosts they match
// cost: a pull request could otherwise make a few kilobytes of HCL select
// billions of candidates.
func TestSelectRepeatedNames(t *testing.T) {
	hosts := map[string]*Host{}
	for i := range 2000 {
		name := fmt.Sprintf("h%04d", i)
		hosts[name] = &Host{Name: name, Groups: []string{"web"}}
	}
	d := &Definitions{Hosts: hosts, index: buildIndex(hosts)}
	var tg Targets
	for i := range 20000 {
		tg.Groups = append(tg.Groups, "web")
		tg.Hosts = append(tg.Hosts, "h0001")
		tg.Exclude = append(tg.Exclude, fmt.Sprintf("x%d", i))
	}
	tg.Exclude = append(tg.Exclude, "h0002")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := d.Select(tg)
	runtime.ReadMemStats(&after)
	if len(got) != 1999 || got[0].Name != "h0000" || got[2].Name != "h0003" {
		t.Fatalf("selected %d hosts", len(got))
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("Select allocated %d MiB", n>>20)
	}
}
