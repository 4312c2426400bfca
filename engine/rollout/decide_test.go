package rollout

import (
	"math/big"
	"testing"

	"pgregory.net/rapid"

	"github.com/ripple-ops/ripple/definitions"
)

// The failure budget rule, by its definition: the wave fails when failures
// exceed max_failures, a count or a percentage of the wave, compared
// exactly (no float rounding at the boundary).
func TestBudgetRuleProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.IntRange(1, 10000).Draw(t, "size")
		failures := rapid.IntRange(0, size).Draw(t, "failures")
		var b definitions.Budget
		var want bool
		if rapid.Bool().Draw(t, "percent") {
			pct := rapid.IntRange(0, 100).Draw(t, "pct")
			b = definitions.Budget{Percent: float64(pct), IsPercent: true}
			// failures/size > pct/100  <=>  100*failures > pct*size
			want = big.NewRat(int64(failures), int64(size)).Cmp(big.NewRat(int64(pct), 100)) > 0
		} else {
			c := rapid.IntRange(0, size).Draw(t, "count")
			b = definitions.Budget{Count: c}
			want = failures > c
		}
		outcomes := make([]hostOutcome, size)
		for i := range failures {
			outcomes[i].failed = true
		}
		if got, _ := waveVerdict(b, outcomes); got != want {
			t.Fatalf("budget %+v, %d/%d failed: fail=%v, want %v", b, failures, size, got, want)
		}
	})
}

func TestWaveVerdictIgnoresSkippedHosts(t *testing.T) {
	// Hosts skipped by an abort are not passed in; a wave of 10 where 2 ran
	// and 1 failed is judged on the 2.
	fail, _ := waveVerdict(definitions.Budget{Percent: 40, IsPercent: true}, []hostOutcome{{failed: true}, {}})
	if !fail {
		t.Fatal("1/2 failed should exceed 40%")
	}
}
