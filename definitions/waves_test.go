package definitions

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func hostNames(n int) []string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%03d", i)
	}
	return hosts
}

func waveLens(waves [][]string) []int {
	lens := make([]int, len(waves))
	for i, w := range waves {
		lens[i] = len(w)
	}
	return lens
}

func TestWaves(t *testing.T) {
	pct := func(p float64) WaveSize { return WaveSize{Percent: p} }
	cnt := func(n int) WaveSize { return WaveSize{Count: n} }
	tests := []struct {
		name  string
		hosts int
		sizes []WaveSize
		want  []int
	}{
		{"design example", 20, []WaveSize{cnt(1), pct(10), pct(50)}, []int{1, 2, 10, 7}},
		{"ansible 30 percent", 20, []WaveSize{pct(30)}, []int{6, 6, 6, 2}},
		{"serial 3 on 6", 6, []WaveSize{cnt(3)}, []int{3, 3}},
		{"list repeats last", 20, []WaveSize{cnt(1), cnt(5), cnt(10)}, []int{1, 5, 10, 4}},
		{"tiny percent is one host", 5, []WaveSize{pct(1)}, []int{1, 1, 1, 1, 1}},
		{"percent of total not rest", 10, []WaveSize{pct(50), pct(50)}, []int{5, 5}},
		{"exact 29 percent", 100, []WaveSize{pct(29), pct(100)}, []int{29, 71}},
		{"default [1, 100%]", 4, []WaveSize{cnt(1), pct(100)}, []int{1, 3}},
		{"count larger than hosts", 3, []WaveSize{cnt(10)}, []int{3}},
		{"no sizes is one wave", 7, nil, []int{7}},
		{"no hosts", 0, []WaveSize{cnt(1)}, []int{}},
		{"fractional percent", 8, []WaveSize{pct(12.5)}, []int{1, 1, 1, 1, 1, 1, 1, 1}},
		{"security updates", 50, []WaveSize{pct(10), pct(100)}, []int{5, 45}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := waveLens(Waves(hostNames(tt.hosts), tt.sizes))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wave sizes (-want +got):\n%s", diff)
			}
		})
	}
}

func drawSizes(t *rapid.T) []WaveSize {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) WaveSize {
		if rapid.Bool().Draw(t, "isPercent") {
			return WaveSize{Percent: float64(rapid.IntRange(1, 100).Draw(t, "percent"))}
		}
		return WaveSize{Count: rapid.IntRange(1, 50).Draw(t, "count")}
	}), 1, 6).Draw(t, "sizes")
}

func TestWavesProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hosts := hostNames(rapid.IntRange(0, 300).Draw(t, "hosts"))
		sizes := drawSizes(t)
		waves := Waves(hosts, sizes)

		if got := slices.Concat(waves...); !slices.Equal(got, hosts) {
			t.Fatalf("waves %v do not partition hosts %v in order", waves, hosts)
		}
		for i, w := range waves {
			if len(w) == 0 {
				t.Fatalf("wave %d is empty", i+1)
			}
			want := sizes[min(i, len(sizes)-1)].hosts(len(hosts))
			if i < len(waves)-1 && len(w) != want {
				t.Fatalf("wave %d has %d hosts, its entry %+v stands for %d", i+1, len(w), sizes[min(i, len(sizes)-1)], want)
			}
			if len(w) > want {
				t.Fatalf("wave %d has %d hosts, more than its entry's %d", i+1, len(w), want)
			}
		}
		if len(hosts) == 0 {
			return
		}
		first := sizes[0]
		want := first.Count
		if want == 0 {
			want = max(int(first.Percent)*len(hosts)/100, 1)
		}
		if len(waves[0]) != min(want, len(hosts)) {
			t.Fatalf("first wave has %d hosts, want %d for %+v of %d", len(waves[0]), min(want, len(hosts)), first, len(hosts))
		}
	})
}

func TestBudget(t *testing.T) {
	tests := []struct {
		name     string
		b        Budget
		size     int
		allowed  int
		failures int
		exceeded bool
	}{
		{"zero count, no failure", Budget{}, 10, 0, 0, false},
		{"zero count, one failure", Budget{}, 10, 0, 1, true},
		{"count reached is not exceeded", Budget{Count: 2}, 10, 2, 2, false},
		{"count exceeded", Budget{Count: 2}, 10, 2, 3, true},
		{"ansible 50 percent of 4 at 2", Budget{Percent: 50, IsPercent: true}, 4, 2, 2, false},
		{"ansible 49 percent of 4 at 2", Budget{Percent: 49, IsPercent: true}, 4, 1, 2, true},
		{"5 percent of 10 allows none", Budget{Percent: 5, IsPercent: true}, 10, 0, 1, true},
		{"5 percent of 20 allows one", Budget{Percent: 5, IsPercent: true}, 20, 1, 1, false},
		{"zero percent", Budget{IsPercent: true}, 100, 0, 1, true},
		{"100 percent never fails", Budget{Percent: 100, IsPercent: true}, 7, 7, 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Allowed(tt.size); got != tt.allowed {
				t.Errorf("Allowed(%d) = %d, want %d", tt.size, got, tt.allowed)
			}
			if got := tt.b.Exceeded(tt.failures, tt.size); got != tt.exceeded {
				t.Errorf("Exceeded(%d, %d) = %v, want %v", tt.failures, tt.size, got, tt.exceeded)
			}
		})
	}
}

func TestBudgetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b Budget
		if rapid.Bool().Draw(t, "isPercent") {
			b = Budget{Percent: rapid.Float64Range(0, 100).Draw(t, "percent"), IsPercent: true}
			if rapid.Bool().Draw(t, "whole") {
				b.Percent = float64(int(b.Percent))
			}
		} else {
			b = Budget{Count: rapid.IntRange(0, 1000).Draw(t, "count")}
		}
		size := rapid.IntRange(0, 10000).Draw(t, "size")
		failures := rapid.IntRange(0, size).Draw(t, "failures")

		// The definition: a wave fails when failures exceed the budget.
		// Percentages are checked in exact rational arithmetic:
		// failures/size*100 > percent.
		var want bool
		if b.IsPercent {
			if size > 0 {
				ratio := new(big.Rat).SetFrac64(int64(failures)*100, int64(size))
				want = ratio.Cmp(new(big.Rat).SetFloat64(b.Percent)) > 0
			}
		} else {
			want = failures > b.Count
		}
		if got := b.Exceeded(failures, size); got != want {
			t.Fatalf("%+v.Exceeded(%d, %d) = %v, want %v", b, failures, size, got, want)
		}
		allowed := b.Allowed(size)
		if allowed < 0 || (b.IsPercent && allowed > size) {
			t.Fatalf("%+v.Allowed(%d) = %d, out of range", b, size, allowed)
		}
		if got := failures > allowed; got != b.Exceeded(failures, size) && failures <= size {
			t.Fatalf("%+v: Exceeded(%d, %d) = %v but Allowed = %d", b, failures, size, !got, allowed)
		}
		if b.IsPercent && b.Percent == float64(int(b.Percent)) {
			// Whole percentages are exact: Allowed is floor(p*size/100).
			if want := int(b.Percent) * size / 100; allowed != want {
				t.Fatalf("%+v.Allowed(%d) = %d, want %d", b, size, allowed, want)
			}
		}
	})
}

// TestWaveSizeJSON: a wave entry is written as in HCL, a count as a
// number and a percentage as a string, and reads back the same.
func TestWaveSizeJSON(t *testing.T) {
	sizes := []WaveSize{{Count: 1}, {Percent: 12.5}, {Percent: 100}}
	b, err := json.Marshal(sizes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `[1,"12.5%","100%"]`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var back []WaveSize
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sizes, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`0`, `1.5`, `"0%"`, `"101%"`, `"5"`, `true`} {
		var w WaveSize
		if err := json.Unmarshal([]byte(bad), &w); err == nil {
			t.Errorf("%s: no error, got %+v", bad, w)
		}
	}
}
