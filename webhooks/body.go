package webhooks

import (
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// firstChunk is the buffer a body starts with; it doubles as bytes arrive.
const firstChunk = 4 << 10

// errBodyBuffer means the bodies being read already hold the handler's
// whole body buffer.
var errBodyBuffer = errors.New("webhook body buffer exhausted")

// readBody reads r's body, at most limit bytes, by deadline. The bytes it
// holds are taken from budget as they arrive, not when the request starts:
// a client that trickles its body holds what it has sent (a few KiB), so
// slow clients cannot take the room deliveries need, while fast large
// bodies together stay within the budget (errBodyBuffer beyond it).
// release gives the bytes back; call it once body is no longer used, also
// after an error. Calling it again does nothing.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, budget *semaphore.Weighted, deadline time.Time) (body []byte, release func(), err error) {
	// The server's ReadTimeout is meant for every endpoint and is longer
	// than GitHub waits for an answer. Not every ResponseWriter supports
	// deadlines (httptest's recorder); the server's timeouts apply then.
	_ = http.NewResponseController(w).SetReadDeadline(deadline)

	// One byte over the limit lets MaxBytesReader report the overflow.
	capLimit := limit + 1
	if r.ContentLength >= 0 && r.ContentLength < limit {
		capLimit = r.ContentLength + 1
	}
	var held int64
	release = func() {
		budget.Release(held)
		held = 0
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			grow := min(max(int64(2*cap(buf)), firstChunk), capLimit) - int64(cap(buf))
			if grow <= 0 {
				// Unreachable: the readers stop one byte short of
				// capLimit. Growing anyway keeps the loop from spinning.
				grow = 1
			}
			if !budget.TryAcquire(grow) {
				return nil, release, errBodyBuffer
			}
			held += grow
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, release, nil
		}
		if err != nil {
			return nil, release, err
		}
	}
}
