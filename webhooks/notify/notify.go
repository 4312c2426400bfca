package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/backoff"
)

var (
	_ engine.NotificationSink = (*Notifiers)(nil)
	_ engine.ConfigApplier    = (*Notifiers)(nil)
)

// Options configures alert delivery.
type Options struct {
	// Secrets resolves the notifiers' env() and file() references, at
	// each attempt.
	Secrets definitions.SecretSource
	// Redact holds every secret the process has loaded: removed from what
	// a notification says and from the errors of failed attempts. Nil
	// redacts only the notifier's own secrets from its errors.
	Redact     *engine.SecretRegistry
	HTTPClient *http.Client // default: 10 s timeout
	SMTP       SMTPDialer   // default: net/smtp with STARTTLS
	PublicURL  string       // base of links to monitor pages
	Logger     zerolog.Logger
	// Backoff is the longest wait after the first failed attempt; the
	// ceiling doubles after each further one up to MaxBackoff, and each
	// wait is drawn from the upper half of its ceiling (backoff.Policy's
	// equal jitter), so notifiers failing together do not retry in
	// lockstep. Default 2s.
	Backoff time.Duration
	// MaxBackoff caps the wait between attempts; default 5m.
	MaxBackoff time.Duration
	// Outcomes, when set, is told the outcome of every attempt (and of
	// every withdrawn notification), so that the monitor runner keeps an
	// undelivered notification owed until it is sent. It is called from
	// the delivery goroutine.
	Outcomes engine.DeliveryOutcomes
	// Metrics, when set, counts delivery attempts (see NewMetrics).
	Metrics *Metrics
}

// DeliveryRecord is the outcome of one attempt to deliver a notification
// to a notifier.
type DeliveryRecord struct {
	Notifier     string
	Notification engine.Notification
	Attempts     int    // attempts so far for this notification, this one included
	Error        string // why this attempt failed, without secrets; empty on success
	// Withdrawn marks a notification that is not sent and no longer owed:
	// a recovery whose alert never reached the notifier, or a notification
	// of a monitor that the applied commit removed or no longer has notify
	// this notifier.
	Withdrawn bool
	// Final is set when no attempt follows: delivered, withdrawn, or the
	// notifier is gone from the applied commit. A failed attempt that is
	// not final is retried with backoff.
	Final bool
	At    time.Time
}

// Notifiers delivers monitor notifications through the notifier blocks of
// the applied commit: webhook (JSON), slack (incoming webhook) and email.
// Notify only queues; Run owns the single delivery goroutine. A delivery
// that fails, because the endpoint fails or because the notifier's secret
// cannot be read, is retried with exponential backoff and jitter until it
// goes through or a newer notification for the same (notifier, monitor,
// host) replaces it. Secrets are resolved at each attempt, so a secret that
// appears later is used without a reload. A notifier with group_wait sends
// the alerts (or recoveries) of one monitor that start within it as one
// message, and reports each one's outcome.
type Notifiers struct {
	opts  Options
	retry backoff.Policy // from opts.Backoff and opts.MaxBackoff
	wake  chan struct{}

	mu      sync.Mutex
	defs    *definitions.Definitions
	pending map[deliveryKey]*pendingDelivery
	// groups holds, per notifier, monitor and kind, when the message
	// gathering its notifications goes out (group_wait).
	groups map[groupKey]time.Time
	recent []DeliveryRecord
}

// notifierTarget is a notifier with its secrets resolved.
type notifierTarget struct {
	def      *definitions.Notifier
	url      string
	password string
}

// errNoNotifier is a delivery to a notifier the applied commit lacks.
var errNoNotifier = errors.New("no such notifier in the applied commit")

// New returns a Notifiers with no notifier; ApplyConfig loads them.
func New(opts Options) *Notifiers {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.SMTP == nil {
		opts.SMTP = starttlsDialer{}
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	return &Notifiers{
		opts:    opts,
		retry:   backoff.Policy{Base: opts.Backoff, Max: opts.MaxBackoff},
		wake:    make(chan struct{}, 1),
		pending: map[deliveryKey]*pendingDelivery{},
		groups:  map[groupKey]time.Time{},
	}
}

// ApplyConfig implements engine.ConfigApplier: it uses the notifiers of
// an applied commit from now on, and retries waiting deliveries at once
// with them. A notifier whose secret cannot be resolved now is reported in
// the returned error; its deliveries fail, and are retried, until the
// secret can be read.
func (s *Notifiers) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	src := s.opts.Secrets
	var problems []string
	for name := range defs.Notifiers {
		if _, err := resolveNotifier(defs, src, name); err != nil {
			problems = append(problems, err.Error())
		}
	}
	var withdrawn []DeliveryRecord
	s.mu.Lock()
	s.defs = defs
	now := time.Now()
	for k, p := range s.pending {
		if !p.inFlight && !owed(defs, k) {
			delete(s.pending, k)
			withdrawn = append(withdrawn, DeliveryRecord{Notifier: k.notifier, Notification: p.n, Withdrawn: true, Final: true, At: now})
			continue
		}
		p.next = now
	}
	s.mu.Unlock()
	for _, rec := range withdrawn {
		s.record(rec)
	}
	s.signal()
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// owed reports whether the applied commit still has k's monitor notify k's
// notifier: a removed monitor's alerts stop, as its checks do.
func owed(defs *definitions.Definitions, k deliveryKey) bool {
	m := defs.Monitors[k.monitor]
	return m != nil && slices.Contains(m.Notify, k.notifier)
}

// resolveNotifier resolves the secrets of notifier name. Errors name the
// notifier and the secret's reference, never its value.
func resolveNotifier(defs *definitions.Definitions, src definitions.SecretSource, name string) (notifierTarget, error) {
	var n *definitions.Notifier
	if defs != nil {
		n = defs.Notifiers[name]
	}
	if n == nil {
		return notifierTarget{}, errNoNotifier
	}
	t := notifierTarget{def: n}
	if n.URL != nil {
		v, diags := defs.ResolveSecret(n.URL, src)
		if diags.HasErrors() {
			return t, fmt.Errorf("notifier %s: url: %s", name, diags.Error())
		}
		t.url = v
	}
	if n.Password != nil {
		v, diags := defs.ResolveSecret(n.Password, src)
		if diags.HasErrors() {
			return t, fmt.Errorf("notifier %s: password: %s", name, diags.Error())
		}
		t.password = v
	}
	return t, nil
}

// Recent returns the latest delivery records, newest last.
func (s *Notifiers) Recent() []DeliveryRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DeliveryRecord(nil), s.recent...)
}

func (s *Notifiers) record(rec DeliveryRecord) {
	ev := s.opts.Logger.Info()
	switch {
	case rec.Error != "" && rec.Final:
		ev = s.opts.Logger.Error().Str("error", rec.Error)
	case rec.Error != "":
		ev = s.opts.Logger.Warn().Str("error", rec.Error)
	}
	ev.Str("notifier", rec.Notifier).Str("monitor", rec.Notification.Monitor).Str("host", rec.Notification.Host).
		Str("kind", string(rec.Notification.Kind)).Int("attempts", rec.Attempts).Bool("final", rec.Final).
		Bool("withdrawn", rec.Withdrawn).Msg("notification")
	s.mu.Lock()
	s.recent = append(s.recent, rec)
	if len(s.recent) > 500 {
		s.recent = s.recent[len(s.recent)-500:]
	}
	s.mu.Unlock()
	s.opts.Metrics.attempt(rec)
	if s.opts.Outcomes != nil {
		failure := rec.Error
		if rec.Withdrawn {
			failure = ""
		}
		s.opts.Outcomes.NotificationOutcome(context.Background(), rec.Notifier, rec.Notification, failure)
	}
}

// send delivers one message: the notifications ns (one, or a group of
// one monitor and kind) to the notifier t.
func (s *Notifiers) send(ctx context.Context, t notifierTarget, ns []engine.Notification) error {
	l := links{base: strings.TrimRight(s.opts.PublicURL, "/")}
	switch t.def.Type {
	case "webhook":
		return s.postJSON(ctx, t.url, webhookBody(ns, l))
	case "slack":
		return s.postJSON(ctx, t.url, map[string]string{"text": text(ns, l)})
	case "email":
		return s.opts.SMTP.Send(ctx, emailMessage{
			server:   t.def.SMTP,
			username: t.def.Username,
			password: t.password,
			from:     t.def.From,
			to:       t.def.To,
			subject:  subject(ns),
			body:     text(ns, l),
		})
	default:
		return fmt.Errorf("notifier type %q: not supported", t.def.Type)
	}
}

func (s *Notifiers) postJSON(ctx context.Context, target string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("notifier url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ripple")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notifier answered %s", resp.Status)
	}
	return nil
}

// redact removes secret values (a webhook URL carries its token) from an
// error message.
func redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// ReportTo makes Notifiers tell outcomes the outcome of every delivery
// attempt (Options.Outcomes). Call it before Run; it closes the loop
// between the monitor runner, which notifies, and the deliveries, whose
// outcomes it keeps.
func (s *Notifiers) ReportTo(outcomes engine.DeliveryOutcomes) {
	s.opts.Outcomes = outcomes
}
