package jobs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
)

// A log check reads the new bytes of a file in one command over the
// host's connection: a POSIX sh script (logScript) stats the file and the
// rotated file through descriptors it opened, so a rotation while it runs
// cannot mix two files, decides where to read from with the cursor it is
// given, and prints framed sections:
//
//	TOKEN cur DEV INO SIZE | TOKEN cur missing | TOKEN cur unreadable
//	TOKEN rot DEV INO SIZE                   (when rotated is set and exists)
//	TOKEN data rot FROM N \n N bytes \n      (the rest of the previous file)
//	TOKEN data cur FROM N \n N bytes \n      (the new bytes of the file)
//	TOKEN end
//
// TOKEN is random per check, so a log line cannot pass for a header. It
// needs sh, stat (GNU, busybox or BSD), tail -c and head -c on the host.
// tail seeks in a regular file, so a check costs the new bytes only.

// logScript is the command reading the log of c from cursor from.
// first says there is no cursor for this path: the file is read from its
// end.
func logScript(token, path, rotated string, from *engine.LogCursor, first bool, maxBytes int64) string {
	var b strings.Builder
	b.WriteString("LC_ALL=C; export LC_ALL\n")
	fmt.Fprintf(&b, "k=%s; p=%s; r=%s; m=%d; first=%d\n", token, shellQuote(path), shellQuote(rotated), maxBytes, boolDigit(first))
	cdv, ci, co := fileVars(nil)
	odv, oi, oo := fileVars(nil)
	if from != nil && !first {
		cdv, ci, co = fileVars(from.File)
		odv, oi, oo = fileVars(from.Rotated)
	}
	fmt.Fprintf(&b, "cdv=%s; ci=%s; co=%s; odv=%s; oi=%s; oo=%s\n", cdv, ci, co, odv, oi, oo)
	b.WriteString(logScriptBody)
	return b.String()
}

func fileVars(f *engine.LogFile) (dev, ino, off string) {
	if f == nil {
		return "''", "''", "0"
	}
	return strconv.FormatUint(f.Device, 10), strconv.FormatUint(f.Inode, 10), strconv.FormatInt(f.Offset, 10)
}

func boolDigit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// logScriptBody: see the package comment above. Offsets past a file's
// size mean it was truncated: it is read from its start.
const logScriptBody = `st() { stat -L -c '%d %i %s' "$1" 2>/dev/null || stat -L -f '%d %i %z' "$1" 2>/dev/null; }
left=$m
if [ ! -e "$p" ]; then cur=missing
elif command exec 3<"$p"; then cur=open
else cur=unreadable
fi
if [ "$cur" = open ]; then
  set -- $(st /dev/fd/3)
  [ $# -eq 3 ] || set -- $(st "$p")
  if [ $# -eq 3 ]; then cdev=$1; cino=$2; csize=$3; printf '%s cur %s %s %s\n' "$k" "$1" "$2" "$3"
  else cur=unreadable
  fi
fi
[ "$cur" = open ] || printf '%s cur %s\n' "$k" "$cur"
if [ -n "$r" ] && [ -e "$r" ] && command exec 4<"$r"; then
  set -- $(st /dev/fd/4)
  [ $# -eq 3 ] || set -- $(st "$r")
  if [ $# -eq 3 ]; then
    printf '%s rot %s %s %s\n' "$k" "$1" "$2" "$3"
    ro=
    if [ -n "$ci" ] && [ "$1 $2" = "$cdv $ci" ]; then ro=$co
    elif [ -n "$oi" ] && [ "$1 $2" = "$odv $oi" ]; then ro=$oo
    fi
    if [ -n "$ro" ]; then
      [ "$3" -ge "$ro" ] || ro=0
      n=$(($3 - ro)); [ "$n" -le "$left" ] || n=$left
      printf '%s data rot %s %s\n' "$k" "$ro" "$n"
      if [ "$n" -gt 0 ]; then tail -c +$((ro + 1)) <&4 | head -c "$n"; fi
      printf '\n'
      left=$((left - n))
    fi
  fi
fi
if [ "$cur" = open ]; then
  if [ "$first" = 1 ]; then cf=$csize
  elif [ -n "$ci" ] && [ "$cdev $cino" = "$cdv $ci" ]; then cf=$co; [ "$csize" -ge "$cf" ] || cf=0
  else cf=0
  fi
  n=$((csize - cf)); [ "$n" -le "$left" ] || n=$left
  printf '%s data cur %s %s\n' "$k" "$cf" "$n"
  if [ "$n" -gt 0 ]; then tail -c +$((cf + 1)) <&3 | head -c "$n"; fi
  printf '\n'
fi
printf '%s end\n' "$k"
`

// newLogToken returns a random token for one check's framing.
func newLogToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "rpl" + hex.EncodeToString(b[:])
}

// logFileStat is what the script reported about one file.
type logFileStat struct {
	Device, Inode uint64
	Size          int64
}

// logSection is one data section: bytes of a file from From on.
type logSection struct {
	Which string // "rot" or "cur"
	From  int64
	Want  int64 // bytes the script set out to send
	Got   int64 // bytes it sent (fewer when the file shrank meanwhile)
	// Consumed is the bytes of complete lines: where the cursor moves.
	// A last line without its newline is left for the next check, unless
	// it fills the whole read (a line longer than max_bytes).
	Consumed int64
	partial  int64
}

// logStream parses the script's output as it arrives (an io.Writer), and
// hands each complete data line to onLine; memory stays bounded by
// maxLineKept whatever the size of the read.
type logStream struct {
	token       []byte
	maxBytes    int64
	onLine      func(which string, line []byte)
	maxLineKept int

	cur      string // "open", "missing", "unreadable"; "" before its header
	curStat  logFileStat
	rot      *logFileStat
	sections []*logSection
	ended    bool
	err      error

	line    []byte // the line being read, its first maxLineKept bytes
	lineLen int64  // its real length so far
	// held is the previous line of a data section, not yet known to be
	// complete: the newline after the last data byte is the script's, so
	// the line before a header is the section's unterminated rest.
	held    []byte
	heldLen int64
	hasHeld bool
	sec     *logSection // the open data section
}

// maxLogLineKept is how much of a line is kept for matching and display.
const maxLogLineKept = 64 << 10

func newLogStream(token string, maxBytes int64, onLine func(which string, line []byte)) *logStream {
	return &logStream{token: []byte(token + " "), maxBytes: maxBytes, onLine: onLine, maxLineKept: maxLogLineKept}
}

// Write implements io.Writer. It never fails, so the transport drains
// the command; a protocol error is kept for Finish.
func (s *logStream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.err == nil && !s.ended {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := s.maxLineKept - len(s.line); room > 0 {
			s.line = append(s.line, chunk[:min(room, len(chunk))]...)
		}
		s.lineLen += int64(len(chunk))
		if i < 0 {
			break
		}
		p = p[i+1:]
		s.endLine()
		s.line, s.lineLen = s.line[:0], 0
	}
	return n, nil
}

// endLine handles the line in s.line, just ended by a newline.
func (s *logStream) endLine() {
	isHeader := s.lineLen < int64(s.maxLineKept) && bytes.HasPrefix(s.line, s.token)
	if s.sec != nil && !isHeader {
		if s.hasHeld {
			s.sec.Got += s.heldLen + 1
			s.sec.Consumed += s.heldLen + 1
			s.onLine(s.sec.Which, s.held)
		}
		s.held = append(s.held[:0], s.line...)
		s.heldLen, s.hasHeld = s.lineLen, true
		return
	}
	if s.sec != nil { // a header ends the section
		if s.hasHeld {
			s.sec.Got += s.heldLen
			s.sec.partial = s.heldLen
		}
		if s.sec.Got > s.sec.Want {
			s.err = fmt.Errorf("log read: %s section sent %d bytes, announced %d", s.sec.Which, s.sec.Got, s.sec.Want)
			return
		}
		// A line as long as the whole read counts now, or it would
		// never be read at all.
		if s.sec.Consumed == 0 && s.sec.partial > 0 && s.sec.Got == s.maxBytes {
			s.sec.Consumed = s.sec.partial
			s.onLine(s.sec.Which, s.held)
		}
		s.sec, s.hasHeld, s.heldLen = nil, false, 0
	}
	if !isHeader {
		return // before the first header: a login script's chatter
	}
	s.header(strings.Fields(string(s.line[len(s.token):])))
}

func (s *logStream) header(f []string) {
	bad := func() { s.err = fmt.Errorf("log read: unexpected header %q", strings.Join(f, " ")) }
	if len(f) == 0 {
		bad()
		return
	}
	switch f[0] {
	case "cur":
		if len(f) == 2 && (f[1] == "missing" || f[1] == "unreadable") {
			s.cur = f[1]
			return
		}
		st, ok := parseStat(f[1:])
		if !ok {
			bad()
			return
		}
		s.cur, s.curStat = "open", st
	case "rot":
		st, ok := parseStat(f[1:])
		if !ok {
			bad()
			return
		}
		s.rot = &st
	case "data":
		if len(f) != 4 || (f[1] != "rot" && f[1] != "cur") {
			bad()
			return
		}
		from, err1 := strconv.ParseInt(f[2], 10, 64)
		want, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || from < 0 || want < 0 || want > s.maxBytes {
			bad()
			return
		}
		s.sec = &logSection{Which: f[1], From: from, Want: want}
		s.sections = append(s.sections, s.sec)
	case "end":
		s.ended = true
	default:
		bad()
	}
}

func parseStat(f []string) (logFileStat, bool) {
	if len(f) != 3 {
		return logFileStat{}, false
	}
	dev, err1 := strconv.ParseUint(f[0], 10, 64)
	ino, err2 := strconv.ParseUint(f[1], 10, 64)
	size, err3 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || size < 0 {
		return logFileStat{}, false
	}
	return logFileStat{Device: dev, Inode: ino, Size: size}, true
}

var errLogTruncatedOutput = errors.New("log read: the output ended early")

// finish checks that the whole output arrived.
func (s *logStream) finish() error {
	switch {
	case s.err != nil:
		return s.err
	case !s.ended || s.cur == "":
		return errLogTruncatedOutput
	}
	return nil
}

// section returns the data section which, or nil.
func (s *logStream) section(which string) *logSection {
	for _, sec := range s.sections {
		if sec.Which == which {
			return sec
		}
	}
	return nil
}
