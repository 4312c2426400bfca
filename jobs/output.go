package jobs

import (
	"fmt"
	"sync"
)

// DefaultOutputLimit is the default cap on captured stdout and on stderr.
const DefaultOutputLimit = 64 << 10

// capture is an io.Writer keeping the first limit bytes written to it and
// counting the rest. Safe for concurrent use.
type capture struct {
	mu      sync.Mutex
	limit   int
	buf     []byte
	dropped int64
}

func newCapture(limit int) *capture { return &capture{limit: limit} }

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if room >= len(p) {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// result is the captured output, redacted, with a note when it was cut.
func (c *capture) result(r *Redactor) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	if c.dropped == 0 {
		return r.Bytes(b)
	}
	dropped := c.dropped
	cut := r.trimPartial(b)
	dropped += int64(len(b) - len(cut))
	out := r.Bytes(cut)
	return append(out, fmt.Sprintf("\n[ripple: output truncated, %d more bytes]", dropped)...)
}
