package definitions

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPlanTextManyWaves checks that the text form of a job with many waves
// (waves = [1] on 60 hosts) shows the first ten, the last, and the wave an
// operator approves after, with the rest summed up: a plan's text stays
// readable, and bounded, however many waves a rollout has.
func TestPlanTextManyWaves(t *testing.T) {
	var hosts []string
	for i := range 60 {
		hosts = append(hosts, fmt.Sprintf("h%02d", i))
	}
	cs := &ChangeSet{From: "a", To: "b", Jobs: []JobChange{{Name: "serial", Reasons: []string{"new job"}, Hosts: hosts}}}
	defs := &Definitions{Jobs: map[string]*Job{"serial": {Name: "serial", Rollout: Rollout{Waves: []WaveSize{{Count: 1}}, ApproveAfter: 30}}}}
	var b strings.Builder
	if err := Plan(cs, defs).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	var waves []string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "  wave") || strings.HasPrefix(line, "    --") {
			waves = append(waves, line)
		}
	}
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("  wave %d/60 (1 host): h%02d", i+1, i))
	}
	want = append(want,
		"  waves 11-29 of 60 (19 hosts) not shown; ripple plan --json lists every wave",
		"  wave 30/60 (1 host): h29",
		"    -- waits for approval (approve_after = 30)",
		"  waves 31-59 of 60 (29 hosts) not shown; ripple plan --json lists every wave",
		"  wave 60/60 (1 host): h59",
	)
	if diff := cmp.Diff(want, waves); diff != "" {
		t.Errorf("waves (-want +got):\n%s", diff)
	}
}
