package engine

import (
	"cmp"
	"strings"
)

// ComparePairs orders (monitor, host) pairs by monitor, then host: the
// order of the lists of monitor states, acknowledgements and problems.
func ComparePairs(monitorA, hostA, monitorB, hostB string) int {
	return cmp.Or(strings.Compare(monitorA, monitorB), strings.Compare(hostA, hostB))
}
