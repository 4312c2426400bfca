package backoff

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestDelayBoundsAndDoubling(t *testing.T) {
	floor := func(int64) int64 { return 0 }
	top := func(n int64) int64 { return n - 1 }
	p := Policy{Base: 2 * time.Second, Max: 5 * time.Minute}
	tests := []struct {
		attempt       int
		ceiling, low  time.Duration
		high          time.Duration
		ceilingReason string
	}{
		{0, 2 * time.Second, time.Second, 2 * time.Second, "attempt < 1 counts as 1"},
		{1, 2 * time.Second, time.Second, 2 * time.Second, "Base"},
		{2, 4 * time.Second, 2 * time.Second, 4 * time.Second, "doubled"},
		{3, 8 * time.Second, 4 * time.Second, 8 * time.Second, "doubled twice"},
		{8, 256 * time.Second, 128 * time.Second, 256 * time.Second, "below the cap"},
		{9, 5 * time.Minute, 150 * time.Second, 5 * time.Minute, "capped"},
		{1000, 5 * time.Minute, 150 * time.Second, 5 * time.Minute, "capped, no overflow"},
	}
	for _, tt := range tests {
		if got := p.Ceiling(tt.attempt); got != tt.ceiling {
			t.Errorf("Ceiling(%d) = %v, want %v (%s)", tt.attempt, got, tt.ceiling, tt.ceilingReason)
		}
		p.Rand = floor
		if got := p.Delay(tt.attempt); got != tt.low {
			t.Errorf("Delay(%d) with the lowest draw = %v, want %v", tt.attempt, got, tt.low)
		}
		p.Rand = top
		if got := p.Delay(tt.attempt); got != tt.high {
			t.Errorf("Delay(%d) with the highest draw = %v, want %v", tt.attempt, got, tt.high)
		}
	}
}

// With the default random source every wait stays in [ceiling/2, ceiling],
// and the waits are not all the same (the jitter is there).
func TestDelayDefaultRandomStaysInBounds(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: time.Second}
	for attempt := 1; attempt <= 12; attempt++ {
		c := p.Ceiling(attempt)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.Delay(attempt)
			if d < (c+1)/2 || d > c {
				t.Fatalf("Delay(%d) = %v, outside [%v, %v]", attempt, d, (c+1)/2, c)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Delay(%d) returned %v every time: no jitter", attempt, p.Delay(attempt))
		}
	}
}

// Injecting a seeded source makes the sequence reproducible.
func TestDelayInjectedSourceIsDeterministic(t *testing.T) {
	seq := func() []time.Duration {
		r := rand.New(rand.NewPCG(1, 2))
		p := Policy{Base: time.Second, Max: time.Minute, Rand: r.Int64N}
		var out []time.Duration
		for a := 1; a <= 10; a++ {
			out = append(out, p.Delay(a))
		}
		return out
	}
	a, b := seq(), seq()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different waits: %v vs %v", a, b)
		}
	}
}

func TestDelayEdgeCases(t *testing.T) {
	if d := (Policy{}).Delay(3); d != 0 {
		t.Errorf("zero Policy waits %v, want 0", d)
	}
	if d := (Policy{Base: -time.Second, Max: time.Minute}).Delay(1); d != 0 {
		t.Errorf("negative Base waits %v, want 0", d)
	}
	uncapped := Policy{Base: time.Second, Rand: func(n int64) int64 { return n - 1 }}
	if d := uncapped.Delay(200); d != math.MaxInt64 {
		t.Errorf("uncapped Delay(200) = %v, want the largest Duration (no overflow)", d)
	}
	if d := (Policy{Base: time.Nanosecond, Max: time.Minute}).Delay(1); d != time.Nanosecond {
		t.Errorf("1ns ceiling waits %v, want 1ns", d)
	}
	if d := (Policy{Base: time.Minute, Max: time.Second, Rand: func(int64) int64 { return 0 }}).Delay(1); d != 500*time.Millisecond {
		t.Errorf("Max below Base: Delay(1) = %v, want the capped ceiling's floor 500ms", d)
	}
}
