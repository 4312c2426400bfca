package definitions

import "math"

// Waves splits hosts, in order, into rollout waves with Ansible's `serial`
// semantics:
//
//   - each entry of sizes is a host count, or a percentage of len(hosts)
//     (the job's total, not what is left), rounded down;
//   - a wave has at least one host, however small the percentage;
//   - the last entry repeats until every host is in a wave;
//   - the last wave takes what is left, so it may be smaller than its entry.
//
// [1, "10%", "50%"] on 20 hosts gives waves of 1, 2, 10 and 7 hosts. An
// empty sizes list means one wave of every host. The waves partition hosts
// exactly: concatenated they equal hosts. No hosts gives no waves (nil).
func Waves(hosts []string, sizes []WaveSize) [][]string {
	if len(hosts) == 0 {
		return nil
	}
	if len(sizes) == 0 {
		return [][]string{hosts[:len(hosts):len(hosts)]}
	}
	var waves [][]string
	rest := hosts
	for i := 0; len(rest) > 0; i++ {
		n := sizes[min(i, len(sizes)-1)].hosts(len(hosts))
		n = min(n, len(rest))
		waves = append(waves, rest[:n:n])
		rest = rest[n:]
	}
	return waves
}

// hosts is the number of hosts the entry stands for in a job of total hosts:
// at least 1.
func (w WaveSize) hosts(total int) int {
	n := w.Count
	if n == 0 {
		n = percentOf(w.Percent, total)
	}
	return max(n, 1)
}

// percentOf is floor(pct% of n). The product is computed before the
// division so that whole percentages of whole counts are exact
// (29% of 100 is 29, not the 28 that 0.29*100 gives in floating point).
func percentOf(pct float64, n int) int {
	if pct <= 0 || n <= 0 {
		return 0
	}
	return int(math.Floor(pct * float64(n) / 100))
}
