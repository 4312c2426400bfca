package definitions

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

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
	counts := waveCounts(len(hosts), sizes)
	if counts == nil {
		return nil
	}
	waves := make([][]string, len(counts))
	rest := hosts
	for i, n := range counts {
		waves[i] = rest[:n:n]
		rest = rest[n:]
	}
	return waves
}

// waveCounts is the number of hosts in each wave Waves makes of total
// hosts; nil for none.
func waveCounts(total int, sizes []WaveSize) []int {
	if total <= 0 {
		return nil
	}
	if len(sizes) == 0 {
		return []int{total}
	}
	var counts []int
	for i, rest := 0, total; rest > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)].hosts(total), rest)
		counts = append(counts, n)
		rest -= n
	}
	return counts
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

// String is the entry as written in HCL: 1 or "25%".
func (w WaveSize) String() string {
	if w.Count > 0 {
		return strconv.Itoa(w.Count)
	}
	return strconv.Quote(strconv.FormatFloat(w.Percent, 'f', -1, 64) + "%")
}

// MarshalJSON writes the entry as in HCL: a count as a number, a
// percentage as a string ("25%").
func (w WaveSize) MarshalJSON() ([]byte, error) {
	return []byte(w.String()), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (w *WaveSize) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		if n := int(v); float64(n) == v && n >= 1 {
			*w = WaveSize{Count: n}
			return nil
		}
	case string:
		if p, ok := parsePercent(v); ok && p > 0 {
			*w = WaveSize{Percent: p}
			return nil
		}
	}
	return fmt.Errorf("wave size %s: want a host count of at least 1 or a percentage \"N%%\"", b)
}
