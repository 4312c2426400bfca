package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/engine/webui"
)

// burst describes one load: Deliveries distinct signed deliveries sent
// Concurrency at a time, spread over Refs branches and PRs pull requests,
// beside Slow slowloris-style clients (half trickle their headers, half
// send full webhook headers and then trickle the body).
type burst struct {
	Deliveries, Concurrency, Refs, PRs, Slow int
}

// burstResult is what the senders saw.
type burstResult struct {
	codes     map[int]int     // HTTP status -> count
	latencies []time.Duration // one per delivery, sorted
	want      map[string]string
}

func (r burstResult) accepted() int {
	n := 0
	for code, c := range r.codes {
		if code/100 == 2 {
			n += c
		}
	}
	return n
}

func (r burstResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(int(float64(len(r.latencies))*p), len(r.latencies)-1)
	return r.latencies[i]
}

// burstDaemon stands in for gitops.Daemon, which serve wires as both the
// API's backend and the webhook handler's sink: it remembers the latest
// head it was handed per ref and per pull request.
type burstDaemon struct {
	mu    sync.Mutex
	heads map[string]string // burstKey -> head
	calls int
}

func newBurstDaemon() *burstDaemon { return &burstDaemon{heads: map[string]string{}} }

func (d *burstDaemon) Push(_ context.Context, ev engine.PushEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.heads[ev.Ref] = ev.After
	d.calls++
	return nil
}

func (d *burstDaemon) PullRequest(_ context.Context, ev engine.PullRequestEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.heads[fmt.Sprintf("pr#%d", ev.Number)] = ev.HeadSHA
	d.calls++
	return nil
}

// missing lists the keys whose latest head the sink has not seen.
func (d *burstDaemon) missing(want map[string]string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for k, head := range want {
		if d.heads[k] != head {
			out = append(out, fmt.Sprintf("%s: got %.8s, want %.8s", k, d.heads[k], head))
		}
	}
	slices.Sort(out)
	return out
}

func (d *burstDaemon) sinkCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

func (d *burstDaemon) Status() engine.DaemonStatus           { return engine.DaemonStatus{Ready: true} }
func (d *burstDaemon) Ready() bool                           { return true }
func (d *burstDaemon) Definitions() *definitions.Definitions { return nil }
func (d *burstDaemon) Trigger(string)                        {}

var errNotInBurst = errors.New("not used by the burst test")

func (d *burstDaemon) Approve(context.Context, int64, string, string) error { return errNotInBurst }
func (d *burstDaemon) Abort(context.Context, int64, string, string) error   { return errNotInBurst }
func (d *burstDaemon) Accept(context.Context, string, string, string) error { return errNotInBurst }
func (d *burstDaemon) StartRun(context.Context, engine.JobRunRequest) (*engine.Run, error) {
	return nil, errNotInBurst
}

var (
	_ httpapi.Backend    = (*burstDaemon)(nil)
	_ engine.TriggerSink = (*burstDaemon)(nil)
)

// burstStack is the daemon's HTTP surface as serve builds it: the webhook
// handler inside httpapi, mounted beside the web UI, served with
// httpapi.NewServer's timeouts, over a real SQLite store.
type burstStack struct {
	srv    *httptest.Server
	hook   *Handler
	daemon *burstDaemon
	store  *sqlstore.Store
}

func newBurstStack(tb testing.TB) *burstStack {
	tb.Helper()
	store, err := sqlstore.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	d := newBurstDaemon()
	reg := prometheus.NewRegistry()
	hook, err := NewHandler(HandlerOptions{
		Secret: []byte(testSecret), Repos: []string{"Codertocat/Hello-World"}, Sink: d, Deliveries: store,
		Metrics: NewHandlerMetrics(reg), Logger: zerolog.Nop(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	startHandler(tb, hook)
	api := httpapi.New(httpapi.Options{Backend: d, Store: store, Webhook: hook, Registry: reg, Logger: zerolog.Nop()})
	ui, err := webui.New(webui.Options{Backend: d, Store: store, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	handler := httpapi.Mount(api, ui)
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = httpapi.NewServer("", handler)
	srv.Start()
	tb.Cleanup(srv.Close)
	return &burstStack{srv: srv, hook: hook, daemon: d, store: store}
}

// burstPayloads signs bodies derived from the real fixtures: delivery i
// moves branch b-(i%Refs) or pull request i%PRs+1 to a head unique to i.
type burstPayloads struct {
	push, pr []byte
}

func newBurstPayloads(tb testing.TB) burstPayloads {
	return burstPayloads{
		push: edit(tb, fixture(tb, "push/with-new-branch.payload.json"),
			`"before": "`+zero+`"`, `"before": "`+shaB+`"`,
			`"created": true`, `"created": false`),
		pr: fixture(tb, "pull_request/synchronize.payload.json"),
	}
}

// delivery returns the event name, the key the sink files it under, its
// head and its body.
func (p burstPayloads) delivery(b burst, i int) (event, key, head string, body []byte) {
	head = fmt.Sprintf("%08x", i+1) + strings.Repeat("e", 32)
	k := i % (b.Refs + b.PRs)
	if k < b.Refs {
		ref := fmt.Sprintf("refs/heads/b-%d", k)
		s := strings.Replace(string(p.push), `"ref": "refs/heads/master"`, `"ref": "`+ref+`"`, 1)
		s = strings.Replace(s, `"after": "`+shaA+`"`, `"after": "`+head+`"`, 1)
		return eventPush, ref, head, []byte(s)
	}
	n := k - b.Refs + 1
	s := strings.Replace(string(p.pr), `"number": 2,`, fmt.Sprintf(`"number": %d,`, n), 1)
	s = strings.Replace(s, `"sha": "`+prHeadSHA+`"`, `"sha": "`+head+`"`, 1)
	return eventPullRequest, fmt.Sprintf("pr#%d", n), head, []byte(s)
}

// prHeadSHA is pull_request.head.sha in synchronize.payload.json.
const prHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

// slowClients starts n slowloris-style connections to addr and returns a
// stop function that closes them and waits. Even ones trickle a header
// line; odd ones send a complete, plausible webhook request head (signed
// push, 1 MiB Content-Length) and then trickle the body. Each reconnects
// when the server cuts it off. The returned channel is closed once every
// client has sent its request head at least once.
func slowClients(addr string, n int, every time.Duration) (stop func(), started <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg, first sync.WaitGroup
	first.Add(n)
	for i := range n {
		var head string
		if i%2 == 0 {
			head = "POST /webhooks/github HTTP/1.1\r\nHost: ripple\r\nX-Slow: "
		} else {
			head = "POST /webhooks/github HTTP/1.1\r\nHost: ripple\r\nContent-Type: application/json\r\n" +
				"X-GitHub-Event: push\r\nX-GitHub-Delivery: slow-" + fmt.Sprint(i) + "\r\n" +
				"X-Hub-Signature-256: sha256=" + strings.Repeat("0", 64) + "\r\nContent-Length: 1048576\r\n\r\n{"
		}
		wg.Go(func() {
			once := sync.OnceFunc(first.Done)
			defer once()
			for ctx.Err() == nil {
				trickle(ctx, addr, head, every, once)
			}
		})
	}
	done := make(chan struct{})
	go func() { first.Wait(); close(done) }()
	return func() { cancel(); wg.Wait() }, done
}

// trickle sends head on one connection, then one byte every interval until
// the server closes it or ctx ends.
func trickle(ctx context.Context, addr, head string, every time.Duration, sent func()) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, head); err != nil {
		return
	}
	sent()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}
}

// sendBurst sends b's deliveries to url, Concurrency at a time. The
// deliveries of one key are sent by one sender in order, so the last one
// sent per key is the latest head, which is what the sink must end with.
func sendBurst(tb testing.TB, url string, b burst, p burstPayloads, idPrefix string) burstResult {
	tb.Helper()
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: b.Concurrency, MaxConnsPerHost: b.Concurrency},
	}
	defer client.CloseIdleConnections()
	res := burstResult{codes: map[int]int{}, want: map[string]string{}}
	for i := range b.Deliveries {
		_, key, head, _ := p.delivery(b, i)
		res.want[key] = head
	}
	keys := b.Refs + b.PRs
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range b.Concurrency {
		wg.Go(func() {
			for i := range b.Deliveries {
				if (i%keys)%b.Concurrency != w {
					continue
				}
				event, _, _, body := p.delivery(b, i)
				start := time.Now()
				code := post(client, url, event, fmt.Sprintf("%s%d", idPrefix, i), body)
				took := time.Since(start)
				mu.Lock()
				res.codes[code]++
				res.latencies = append(res.latencies, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(res.latencies)
	return res
}

// post sends one signed delivery and returns the status code, or 0 when
// the request failed.
func post(client *http.Client, url, event, id string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/github", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookBurstBesideSlowClients is the outside review's load: distinct
// valid deliveries sent 32 at a time while slow clients hold connections.
// Every delivery must be answered 2xx (GitHub never redelivers a failed
// one by itself), and every ref and pull request must reach the sink with
// its latest head.
func TestWebhookBurstBesideSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	b := burst{Deliveries: 600, Concurrency: 32, Refs: 40, PRs: 40, Slow: 100}
	st := newBurstStack(t)
	stopSlow, started := slowClients(st.srv.Listener.Addr().String(), b.Slow, 200*time.Millisecond)
	defer stopSlow()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("slow clients did not connect")
	}
	time.Sleep(200 * time.Millisecond) // let the server hand their requests to the handler

	res := sendBurst(t, st.srv.URL, b, newBurstPayloads(t), "burst-")
	if got := res.accepted(); got != b.Deliveries {
		t.Errorf("%d of %d deliveries answered 2xx; answers by status: %v", got, b.Deliveries, res.codes)
	}
	// GitHub counts an answer after 10 s as a failed delivery.
	if worst := res.latencies[len(res.latencies)-1]; worst > 10*time.Second {
		t.Errorf("slowest answer took %v", worst)
	}

	deadline := time.Now().Add(15 * time.Second)
	for len(st.daemon.missing(res.want)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if miss := st.daemon.missing(res.want); len(miss) > 0 {
		t.Errorf("%d of %d refs and pull requests not acted on with their latest head, e.g. %v",
			len(miss), len(res.want), miss[:min(len(miss), 5)])
	}
	// Ids are recorded once the sink has the event.
	settle(t, st.hook)
	for i := range b.Deliveries {
		if seen, err := st.store.DeliverySeen(t.Context(), fmt.Sprintf("burst-%d", i)); err != nil || !seen {
			t.Errorf("delivery burst-%d not recorded (err %v)", i, err)
			break
		}
	}
	t.Logf("%d deliveries, %d sink calls, p99 %v", b.Deliveries, st.daemon.sinkCalls(), res.percentile(0.99))
}
