package definitions

import "math/big"

// Allowed is the number of failed hosts a wave of waveSize hosts may have
// without failing: the count, or floor(percent% of waveSize). Unreachable and
// timed-out hosts count as failed. Allowed(n) is the largest number of
// failures, at most n, for which Exceeded(failures, n) is false.
func (b Budget) Allowed(waveSize int) int {
	if !b.IsPercent {
		return max(b.Count, 0)
	}
	a := percentOf(b.Percent, waveSize)
	// percentOf divides in floating point; settle on Exceeded's exact
	// comparison so the two never disagree at the boundary.
	for a > 0 && b.Exceeded(a, waveSize) {
		a--
	}
	for !b.Exceeded(a+1, waveSize) && a < waveSize {
		a++
	}
	return a
}

// Exceeded reports whether failures in a wave of waveSize hosts exceed the
// budget, which fails the wave. Reaching the budget is not enough (Ansible's
// max_fail_percentage): with "50%" a wave of 4 fails at 3 failures, not 2.
// For a percentage it is failures/waveSize*100 > percent, strictly.
func (b Budget) Exceeded(failures, waveSize int) bool {
	if b.IsPercent {
		if waveSize <= 0 {
			return failures > 0
		}
		// Exact rational arithmetic: a float division could round a
		// failure ratio onto the budget and hide a breach.
		ratio := new(big.Rat).SetFrac64(int64(failures)*100, int64(waveSize))
		pct := new(big.Rat).SetFloat64(b.Percent)
		if pct == nil { // NaN or infinite: the loader never makes one
			return failures > 0
		}
		return ratio.Cmp(pct) > 0
	}
	return failures > max(b.Count, 0)
}
