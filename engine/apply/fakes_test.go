package apply

import (
	"fmt"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// fixture holds the fakes an apply runs on; the fleet and jobs come from
// the commits of a mapRepo.
type fixture struct {
	t       *testing.T
	store   *enginetest.MemStore
	exec    *enginetest.Exec
	checker *enginetest.Checker
	clock   *enginetest.AutoClock
	events  *enginetest.ProgressLog
}

func newFixture(t *testing.T) *fixture {
	clock := enginetest.NewAutoClock()
	return &fixture{t: t, store: enginetest.NewMemStore(), exec: &enginetest.Exec{},
		checker: &enginetest.Checker{Clock: clock, State: func(string, string, time.Time) engine.CheckState { return engine.StateOK }},
		clock:   clock, events: &enginetest.ProgressLog{}}
}

func hostName(i int) string { return fmt.Sprintf("h%02d", i) }
