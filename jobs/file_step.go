package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// keepBackups is how many backups of one destination are kept.
const keepBackups = 5

// backupPath names the backup of dest taken at t: a hidden file beside it,
// ending in "~" so that include directories (run-parts, sudoers.d,
// logrotate.d) and *.conf globs skip it.
func backupPath(dest string, t time.Time) string {
	return path.Join(path.Dir(dest), "."+path.Base(dest)+".ripple-bak-"+strconv.FormatInt(t.UnixNano(), 10)+"~")
}

func checkDestination(dest string) error {
	if !path.IsAbs(dest) || path.Clean(dest) != dest || dest == "/" || strings.ContainsAny(dest, "\x00\n") {
		return fmt.Errorf("destination %q is not a clean absolute file path", dest)
	}
	return nil
}

// remoteFile is what the probe found at the destination.
type remoteFile struct {
	exists bool
	sha256 string
	mode   string // octal, as stat %a prints it
	owner  string
	group  string
}

const probeScript = `d=%s
if [ -e "$d" ]; then
  h=$(sha256sum < "$d") || exit 3
  st=$(stat -c '%%a %%U %%G' -- "$d") || exit 3
  printf 'present %%s %%s\n' "${h%%%% *}" "$st"
else
  printf 'absent\n'
fi`

func parseProbe(out []byte) (remoteFile, error) {
	f := strings.Fields(string(out))
	switch {
	case len(f) == 1 && f[0] == "absent":
		return remoteFile{}, nil
	case len(f) == 5 && f[0] == "present" && len(f[1]) == 64:
		return remoteFile{exists: true, sha256: f[1], mode: f[2], owner: f[3], group: f[4]}, nil
	}
	return remoteFile{}, fmt.Errorf("unexpected checksum output %q", firstLine(out))
}

// file is a file step: write step.Content to step.Destination unless it is
// already there with the right mode and owner.
func (sr *stepRun) file(ctx context.Context, step *definitions.HostStep) {
	dest := step.Destination
	if err := checkDestination(dest); err != nil {
		sr.fail(err)
		return
	}
	mode := step.Mode
	if mode == 0 {
		mode = 0o644
	}
	want := sha256.Sum256(step.Content)
	wantHex := hex.EncodeToString(want[:])
	wantMode := strconv.FormatUint(uint64(mode), 8)

	pr, ok := sr.run(ctx, "checksum "+dest, fmt.Sprintf(probeScript, shellQuote(dest)), nil, housekeepingTimeout)
	if !ok {
		return
	}
	cur, err := parseProbe(pr.Stdout)
	if err != nil {
		sr.fail(err)
		return
	}
	if cur.exists && cur.sha256 == wantHex && cur.mode == wantMode &&
		(step.Owner == "" || step.Owner == cur.owner) && (step.Group == "" || step.Group == cur.group) {
		sr.res.Status = engine.StepUnchanged
		sr.res.Stdout, sr.res.Stderr = "", ""
		return
	}

	bak := backupPath(dest, time.Now())
	dir, base := path.Dir(dest), path.Base(dest)
	var w strings.Builder
	fmt.Fprintf(&w, "set -e\nd=%s\nb=%s\n", shellQuote(dest), shellQuote(bak))
	fmt.Fprintf(&w, "t=$(mktemp %s)\ntrap 'rm -f -- \"$t\"' EXIT\n", shellQuote(dir+"/."+base+".ripple-tmp.XXXXXXXX"))
	w.WriteString("cat > \"$t\"\n")
	fmt.Fprintf(&w, "chmod %s \"$t\"\n", wantMode)
	if step.Owner != "" {
		fmt.Fprintf(&w, "chown -- %s \"$t\"\n", shellQuote(step.Owner))
	}
	if step.Group != "" {
		fmt.Fprintf(&w, "chgrp -- %s \"$t\"\n", shellQuote(step.Group))
	}
	// The backup is a hard link to the old inode (the rename below leaves
	// it untouched), or a copy where links are not supported.
	// It prints "backup" and then the start of the old content, for the
	// diff the run page shows.
	fmt.Fprintf(&w, "if [ -e \"$d\" ]; then ln -- \"$d\" \"$b\" 2>/dev/null || cp -p -- \"$d\" \"$b\"; echo backup; head -c %d -- \"$b\" || :; fi\n", maxStepDiffRead+1)
	w.WriteString("mv -f -- \"$t\" \"$d\"\ntrap - EXIT\n")
	fmt.Fprintf(&w, "set -- %s.ripple-bak-*~\nwhile [ $# -gt %d ]; do rm -f -- \"$1\"; shift; done\n",
		shellQuote(dir+"/."+base), keepBackups)

	wr, ok := sr.run(ctx, "write "+dest, w.String(), bytes.NewReader(step.Content), sr.timeout)
	if !ok {
		return
	}
	sr.res.Status = engine.StepChanged
	sr.res.Stdout, sr.res.Stderr = "", string(wr.Stderr)
	if old, ok := bytes.CutPrefix(wr.Stdout, []byte("backup\n")); ok {
		sr.res.Backup = &engine.Backup{Destination: dest, Path: bak, Existed: true}
		sr.res.Diff = stepDiff(dest, old, true, step.Content, sr.red)
	} else {
		sr.res.Backup = &engine.Backup{Destination: dest}
		sr.res.Diff = stepDiff(dest, nil, false, step.Content, sr.red)
	}
}

// What a file step keeps of the change it made, for the run page: the
// unified diff from the old content (the first maxStepDiffRead bytes,
// read as the backup is taken, in the same command) to the new, secrets
// redacted on both sides, at most maxStepDiff bytes.
const (
	maxStepDiffRead = 32 << 10
	maxStepDiff     = 8 << 10
)

// stepDiff is the change a file step made to dest: from old (existed
// false: there was no file) to rendered.
func stepDiff(dest string, old []byte, existed bool, rendered []byte, red *Redactor) string {
	switch {
	case len(old) > maxStepDiffRead || len(rendered) > maxStepDiffRead:
		return fmt.Sprintf("(%s is larger than %d KiB; the change is not shown)", dest, maxStepDiffRead>>10)
	case !utf8.Valid(old) || !utf8.Valid(rendered):
		return "(binary content; the change is not shown)"
	}
	before, after := red.String(string(old)), red.String(string(rendered))
	from := dest + " (before)"
	if !existed {
		from = "/dev/null (new file)"
	}
	if before == after {
		if existed && !bytes.Equal(old, rendered) {
			return "(the change is in a secret; not shown)"
		}
		return "(same content; mode or owner changed)"
	}
	d, err := udiff.ToUnified(from, dest+" (after)", before, udiff.Lines(before, after), udiff.DefaultContextLines)
	if err != nil {
		return "(content changed)"
	}
	if len(d) > maxStepDiff {
		cut := maxStepDiff
		for cut > 0 && !utf8.RuneStart(d[cut]) {
			cut--
		}
		d = d[:cut] + "\n… (diff cut at 8 KiB)"
	}
	return d
}

func restore(ctx context.Context, x execer, ep engine.Endpoint, b *engine.Backup) engine.StepResult {
	sr := &stepRun{x: x, ep: ep, red: NewRedactor(ep.Passphrase), timeout: housekeepingTimeout,
		res: engine.StepResult{Started: time.Now(), ExitCode: -1}}
	defer func() { sr.res.Duration = time.Since(sr.res.Started) }()
	if b == nil {
		sr.fail(fmt.Errorf("restore: no backup"))
		return sr.res
	}
	if err := checkDestination(b.Destination); err != nil {
		sr.fail(err)
		return sr.res
	}
	var cmd string
	if b.Existed {
		if err := checkDestination(b.Path); err != nil || path.Dir(b.Path) != path.Dir(b.Destination) {
			sr.fail(fmt.Errorf("restore: backup %q is not beside %q", b.Path, b.Destination))
			return sr.res
		}
		dir, base := path.Dir(b.Destination), path.Base(b.Destination)
		cmd = fmt.Sprintf("set -e\nd=%s\nb=%s\n[ -e \"$b\" ] || { echo \"backup $b is gone\" >&2; exit 1; }\n"+
			"t=$(mktemp %s)\ntrap 'rm -f -- \"$t\"' EXIT\ncp -p -- \"$b\" \"$t\"\nmv -f -- \"$t\" \"$d\"\ntrap - EXIT\n",
			shellQuote(b.Destination), shellQuote(b.Path), shellQuote(dir+"/."+base+".ripple-tmp.XXXXXXXX"))
	} else {
		cmd = "rm -f -- " + shellQuote(b.Destination)
	}
	if _, ok := sr.run(ctx, "restore "+b.Destination, cmd, nil, housekeepingTimeout); ok {
		sr.res.Status = engine.StepChanged
	}
	return sr.res
}
