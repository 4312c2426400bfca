package definitions

import (
	"fmt"
	"strconv"
	"strings"
)

// writePolicyChanges writes one line per changed setting of a job's
// policy, and one line with the whole policy of a new job:
//
//	policy nginx-config: waves [1, "25%", "100%"] -> ["100%"] (weakens: first wave 1 -> all 20 hosts; 3 waves -> 1)
//	policy nginx-config: on_failure "halt" -> "rollback"
//	policy db-check (new job): waves [1, "100%"], max_parallel 10, max_failures 0, on_failure "rollback"
func writePolicyChanges(b *strings.Builder, changes []PolicyChange) {
	for _, pc := range changes {
		if pc.Before == nil {
			fmt.Fprintf(b, "policy %s (new job): %s\n", pc.Job, pc.After)
			continue
		}
		for _, c := range pc.Changes {
			fmt.Fprintf(b, "policy %s: %s %s -> %s", pc.Job, c.Field, c.BeforeText(), c.AfterText())
			if c.Weakens {
				fmt.Fprintf(b, " (weakens: %s)", c.Why)
			}
			b.WriteString("\n")
		}
	}
}

// BeforeText is the setting's old value as written in HCL, or "none".
func (c PolicyFieldChange) BeforeText() string { return policyValueText(c.Field, c.Before) }

// AfterText is the setting's new value as written in HCL, or "none".
func (c PolicyFieldChange) AfterText() string { return policyValueText(c.Field, c.After) }

// String is the policy on one line, settings as written in HCL:
// `waves [1, "100%"], max_parallel 10, max_failures 0, on_failure "rollback"`,
// then those of approve_after, pause, health_gate, window, self_heal and
// drift_check that are set.
func (p *JobPolicy) String() string {
	parts := []string{
		FieldWaves + " " + policyValueText(FieldWaves, p.Waves),
		FieldMaxParallel + " " + strconv.Itoa(p.MaxParallel),
		FieldMaxFailures + " " + policyValueText(FieldMaxFailures, p.MaxFailures),
		FieldOnFailure + " " + strconv.Quote(p.OnFailure),
	}
	if p.ApproveAfter > 0 {
		parts = append(parts, FieldApproveAfter+" "+strconv.Itoa(p.ApproveAfter))
	}
	if p.Pause != "" {
		parts = append(parts, FieldPause+" "+strconv.Quote(p.Pause))
	}
	if p.HealthGate != nil {
		parts = append(parts, FieldHealthGate+" "+policyValueText(FieldHealthGate, p.HealthGate))
	}
	if p.Window != "" {
		parts = append(parts, FieldWindow+" "+strconv.Quote(p.Window))
	}
	if p.SelfHeal {
		parts = append(parts, FieldSelfHeal+" true")
	}
	if p.DriftCheck != "" {
		parts = append(parts, FieldDriftCheck+" "+strconv.Quote(p.DriftCheck))
	}
	return strings.Join(parts, ", ")
}

// policyValueText is a PolicyFieldChange value as written in HCL: a
// count bare, strings quoted, lists in brackets, nil as "none".
func policyValueText(field string, v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case []WaveSize:
		s := make([]string, len(v))
		for i, w := range v {
			s[i] = w.String()
		}
		return "[" + strings.Join(s, ", ") + "]"
	case []string:
		return quotedList(v)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case string:
		if field == FieldMaxFailures && !strings.HasSuffix(v, "%") {
			return v // a count, written bare
		}
		return strconv.Quote(v)
	case *PlannedGate:
		return fmt.Sprintf("{monitors = %s, min_healthy_time = %q, healthy_deadline = %q}",
			quotedList(v.Monitors), v.MinHealthyTime, v.HealthyDeadline)
	}
	return fmt.Sprint(v)
}

func quotedList(list []string) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = strconv.Quote(e)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
