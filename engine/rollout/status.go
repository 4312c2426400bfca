package rollout

import (
	"fmt"
	"unicode/utf8"

	"github.com/ripple-ops/ripple/engine"
)

// runningDescription is the pending status while wave (1-based) of waves
// runs: counts first, so the useful part survives truncation.
func runningDescription(wave, waves, ok, total, failed int) string {
	s := fmt.Sprintf("wave %d/%d: %s ok", wave, waves, engine.PluralOf(ok, total, "host"))
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	return s
}

// statusDescription is desc as run's commit status says it. A manual or
// scheduled run at a commit writes the same ripple/job/<job> context as the
// merge's run did, so its descriptions say so ("manual run by alice: 1/1
// host ok in 1 wave", "scheduled run: 4/4 hosts ok in 2 waves"), and the
// merge's result is not mistaken for it. When the actor's name would push a
// manual run's description over GitHub's 140 characters, it is left out
// ("manual run: ..."); what is still too long is cut as always.
func statusDescription(run *engine.Run, desc string) string {
	switch run.Trigger {
	case engine.TriggerManual:
		prefix := "manual run by " + engine.ActorOr(run.Actor) + ": "
		if utf8.RuneCountInString(prefix+desc) > engine.MaxStatusDescription {
			prefix = "manual run: "
		}
		desc = prefix + desc
	case engine.TriggerSchedule:
		desc = "scheduled run: " + desc
	case engine.TriggerSync:
		prefix := "sync by " + engine.ActorOr(run.Actor) + ": "
		if utf8.RuneCountInString(prefix+desc) > engine.MaxStatusDescription {
			prefix = "sync: "
		}
		desc = prefix + desc
	case engine.TriggerSelfHeal:
		desc = "self-heal: " + desc
	}
	return engine.TruncateDescription(desc)
}
