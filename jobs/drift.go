package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Drift checks are read-only: they run sha256sum, stat, head and the
// steps' own check commands, never a step, and never write to a host.

// maxDriftRead caps what a drift check reads of a destination to show the
// difference; a longer file is compared by hash and shown cut.
const maxDriftRead = 256 << 10

// maxDriftDetail caps the detail of one step's drift.
const maxDriftDetail = 32 << 10

var _ engine.DriftChecker = (*Transport)(nil)

// CheckDrift implements engine.DriftChecker on the transport ep's host
// uses.
func (t *Transport) CheckDrift(ctx context.Context, ep engine.Endpoint, step *definitions.HostStep) engine.DriftResult {
	x := t.pick(ep)
	if x == nil {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: errNoTransport.Error()}
	}
	return checkDrift(ctx, x, ep, step)
}

func checkDrift(ctx context.Context, x execer, ep engine.Endpoint, step *definitions.HostStep) engine.DriftResult {
	red := NewRedactor(append([]string{ep.Passphrase}, step.Secrets...)...)
	switch step.Kind {
	case definitions.StepFile:
		return driftFile(ctx, x, ep, step, red)
	case definitions.StepRun, definitions.StepScript:
		if step.Check == "" {
			return engine.DriftResult{}
		}
		return driftCheckCommand(ctx, x, ep, step, red)
	}
	return engine.DriftResult{}
}

// driftError classifies an exec error: a host that could not be reached
// is unknown, not drifted.
func driftError(what string, err error, red *Redactor) engine.DriftResult {
	if IsTransport(err) {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: red.String("unreachable: " + err.Error())}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: what + ": timed out"}
	}
	return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: red.String(what + ": " + err.Error())}
}

func driftCheckCommand(ctx context.Context, x execer, ep engine.Endpoint, step *definitions.HostStep, red *Redactor) engine.DriftResult {
	timeout := step.Timeout
	if timeout <= 0 || timeout > housekeepingTimeout {
		timeout = housekeepingTimeout
	}
	r, err := x.exec(ctx, ep, step.Check, nil, timeout, red)
	if err != nil {
		return driftError("check "+step.Name, err, red)
	}
	switch {
	case r.TimedOut:
		return engine.DriftResult{Checked: true, Status: engine.DriftDrifted, Detail: fmt.Sprintf("step %s: check timed out after %s", step.Name, timeout)}
	case r.ExitCode != 0:
		out := strings.TrimSpace(string(r.Stderr))
		if out == "" {
			out = strings.TrimSpace(string(r.Stdout))
		}
		d := fmt.Sprintf("step %s: check `%s` exited %d", step.Name, red.String(step.Check), r.ExitCode)
		if out != "" {
			d += ": " + engine.FirstLine(out, 200)
		}
		return engine.DriftResult{Checked: true, Status: engine.DriftDrifted, Detail: d}
	}
	return engine.DriftResult{Checked: true, Status: engine.DriftClean}
}

func driftFile(ctx context.Context, x execer, ep engine.Endpoint, step *definitions.HostStep, red *Redactor) engine.DriftResult {
	dest := step.Destination
	if err := checkDestination(dest); err != nil {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: err.Error()}
	}
	pr, err := x.exec(ctx, ep, fmt.Sprintf(probeScript, shellQuote(dest)), nil, housekeepingTimeout, red)
	if err != nil {
		return driftError("checksum "+dest, err, red)
	}
	if pr.ExitCode != 0 || pr.TimedOut {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: red.String(fmt.Sprintf("checksum %s: exit status %d%s", dest, pr.ExitCode, firstLine(pr.Stderr)))}
	}
	cur, err := parseProbe(pr.Stdout)
	if err != nil {
		return engine.DriftResult{Checked: true, Status: engine.DriftUnknown, Detail: err.Error()}
	}
	mode := step.Mode
	if mode == 0 {
		mode = definitions.DefaultFileMode
	}
	want := sha256.Sum256(step.Content)
	wantMode := strconv.FormatUint(uint64(mode), 8)
	var diffs []string
	if !cur.exists {
		diffs = append(diffs, dest+" is missing")
	} else {
		if cur.mode != wantMode {
			diffs = append(diffs, fmt.Sprintf("mode %s, want %s", cur.mode, wantMode))
		}
		if step.Owner != "" && cur.owner != step.Owner {
			diffs = append(diffs, fmt.Sprintf("owner %s, want %s", cur.owner, step.Owner))
		}
		if step.Group != "" && cur.group != step.Group {
			diffs = append(diffs, fmt.Sprintf("group %s, want %s", cur.group, step.Group))
		}
	}
	contentDiffers := !cur.exists || cur.sha256 != hex.EncodeToString(want[:])
	if !contentDiffers && len(diffs) == 0 {
		return engine.DriftResult{Checked: true, Status: engine.DriftClean}
	}
	detail := fmt.Sprintf("step %s: %s", step.Name, dest)
	if len(diffs) > 0 {
		detail += ": " + strings.Join(diffs, ", ")
	}
	if contentDiffers {
		var remote []byte
		if cur.exists {
			r, err := x.exec(ctx, ep, fmt.Sprintf("head -c %d -- %s", maxDriftRead+1, shellQuote(dest)), nil, housekeepingTimeout, red)
			if err != nil {
				return driftError("read "+dest, err, red)
			}
			remote = r.Stdout
		}
		detail += "\n" + fileDiff(dest, remote, step.Content, red)
	}
	return engine.DriftResult{Checked: true, Status: engine.DriftDrifted, Detail: clipDetail(detail)}
}

// fileDiff is the unified diff from what the host has to what the step
// renders, secrets redacted on both sides; binary or cut content is said
// so instead of being shown.
func fileDiff(dest string, remote, rendered []byte, red *Redactor) string {
	switch {
	case len(remote) > maxDriftRead:
		return fmt.Sprintf("(the host's file is larger than %d KiB; not shown)", maxDriftRead>>10)
	case !utf8.Valid(remote) || !utf8.Valid(rendered):
		return "(binary content differs; not shown)"
	}
	old, cur := red.String(string(remote)), red.String(string(rendered))
	if old == cur {
		return "(the difference is in a secret; not shown)"
	}
	edits := udiff.Lines(old, cur)
	d, err := udiff.ToUnified(dest+" (on the host)", dest+" (rendered)", old, edits, udiff.DefaultContextLines)
	if err != nil {
		return "(content differs)"
	}
	return d
}

func clipDetail(s string) string {
	if len(s) <= maxDriftDetail {
		return s
	}
	cut := maxDriftDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n… (cut)"
}
