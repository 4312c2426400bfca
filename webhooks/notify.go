package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

var _ engine.NotificationSink = (*Notifiers)(nil)

// NotifiersOptions configures alert delivery.
type NotifiersOptions struct {
	HTTPClient *http.Client // default: 10 s timeout
	SMTP       SMTPDialer   // default: net/smtp with STARTTLS
	PublicURL  string       // base of links to monitor pages
	Logger     zerolog.Logger
	// Attempts per notification before it is recorded as failed; default 5.
	Attempts int
	// Backoff is the first retry delay, doubled each attempt; default 2s.
	Backoff time.Duration
	// Record, when set, is told the outcome of every delivery.
	Record func(DeliveryRecord)
	// QueueSize bounds notifications waiting for delivery; default 1024.
	QueueSize int
}

// DeliveryRecord is the outcome of delivering one notification to one
// notifier.
type DeliveryRecord struct {
	Notifier     string
	Notification engine.Notification
	Attempts     int
	Error        string // empty on success
	At           time.Time
}

// Notifiers delivers monitor notifications through the notifier blocks of
// the applied commit: webhook (JSON), slack (incoming webhook) and email.
// Notify only queues; Run owns the single delivery goroutine, which retries
// each delivery with exponential backoff.
type Notifiers struct {
	opts  NotifiersOptions
	queue chan delivery

	mu      sync.Mutex
	targets map[string]notifierTarget
	recent  []DeliveryRecord
}

type delivery struct {
	notifier string
	n        engine.Notification
}

// notifierTarget is a notifier with its secrets resolved.
type notifierTarget struct {
	def      *definitions.Notifier
	url      string
	password string
}

// NewNotifiers returns a Notifiers with no notifier; ApplyConfig loads them.
func NewNotifiers(opts NotifiersOptions) *Notifiers {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.SMTP == nil {
		opts.SMTP = starttlsDialer{}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	return &Notifiers{opts: opts, queue: make(chan delivery, opts.QueueSize), targets: map[string]notifierTarget{}}
}

// ApplyConfig resolves the notifiers of an applied commit. A notifier whose
// secret cannot be resolved is left out and reported in the returned error;
// the others are applied.
func (s *Notifiers) ApplyConfig(defs *definitions.Definitions, src definitions.SecretSource) error {
	targets := map[string]notifierTarget{}
	var problems []string
	for name, n := range defs.Notifiers {
		t := notifierTarget{def: n}
		if n.URL != nil {
			v, diags := defs.ResolveSecret(n.URL, src)
			if diags.HasErrors() {
				problems = append(problems, fmt.Sprintf("notifier %s: url: %s", name, diags.Error()))
				continue
			}
			t.url = v
		}
		if n.Password != nil {
			v, diags := defs.ResolveSecret(n.Password, src)
			if diags.HasErrors() {
				problems = append(problems, fmt.Sprintf("notifier %s: password: %s", name, diags.Error()))
				continue
			}
			t.password = v
		}
		targets[name] = t
	}
	s.mu.Lock()
	s.targets = targets
	s.mu.Unlock()
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// Notify queues n for each named notifier. When the queue is full the
// notification is recorded as dropped rather than blocking the monitors.
func (s *Notifiers) Notify(_ context.Context, notifiers []string, n engine.Notification) {
	for _, name := range notifiers {
		select {
		case s.queue <- delivery{notifier: name, n: n}:
		default:
			s.record(DeliveryRecord{Notifier: name, Notification: n, Error: "queue full: notification dropped", At: time.Now()})
		}
	}
}

// Run delivers queued notifications until ctx ends.
func (s *Notifiers) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-s.queue:
			s.deliver(ctx, d)
		}
	}
}

// Recent returns the latest delivery records, newest last.
func (s *Notifiers) Recent() []DeliveryRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DeliveryRecord(nil), s.recent...)
}

func (s *Notifiers) deliver(ctx context.Context, d delivery) {
	s.mu.Lock()
	t, ok := s.targets[d.notifier]
	s.mu.Unlock()
	rec := DeliveryRecord{Notifier: d.notifier, Notification: d.n}
	if !ok {
		rec.Error = "no such notifier in the applied commit"
		rec.At = time.Now()
		s.record(rec)
		return
	}
	wait := s.opts.Backoff
	for rec.Attempts < s.opts.Attempts {
		rec.Attempts++
		err := s.send(ctx, t, d.n)
		if err == nil {
			rec.Error = ""
			break
		}
		rec.Error = redact(err.Error(), t.url, t.password)
		if rec.Attempts == s.opts.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			rec.Error += " (shutting down)"
			rec.At = time.Now()
			s.record(rec)
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	rec.At = time.Now()
	s.record(rec)
}

func (s *Notifiers) record(rec DeliveryRecord) {
	ev := s.opts.Logger.Info()
	if rec.Error != "" {
		ev = s.opts.Logger.Warn().Str("error", rec.Error)
	}
	ev.Str("notifier", rec.Notifier).Str("monitor", rec.Notification.Monitor).Str("host", rec.Notification.Host).
		Str("kind", string(rec.Notification.Kind)).Int("attempts", rec.Attempts).Msg("notification")
	s.mu.Lock()
	s.recent = append(s.recent, rec)
	if len(s.recent) > 500 {
		s.recent = s.recent[len(s.recent)-500:]
	}
	s.mu.Unlock()
	if s.opts.Record != nil {
		s.opts.Record(rec)
	}
}

func (s *Notifiers) send(ctx context.Context, t notifierTarget, n engine.Notification) error {
	switch t.def.Type {
	case "webhook":
		return s.postJSON(ctx, t.url, webhookBody(n, s.monitorURL(n.Monitor)))
	case "slack":
		return s.postJSON(ctx, t.url, map[string]string{"text": slackText(n, s.monitorURL(n.Monitor))})
	case "email":
		return s.opts.SMTP.Send(ctx, emailMessage{
			server:   t.def.SMTP,
			username: t.def.Username,
			password: t.password,
			from:     t.def.From,
			to:       t.def.To,
			subject:  subject(n),
			body:     slackText(n, s.monitorURL(n.Monitor)),
		})
	default:
		return fmt.Errorf("notifier type %q: not supported", t.def.Type)
	}
}

func (s *Notifiers) monitorURL(monitor string) string {
	if s.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.PublicURL, "/") + "/monitors/" + url.PathEscape(monitor)
}

// webhookPayload is the JSON a "webhook" notifier receives.
type webhookPayload struct {
	Kind          string   `json:"kind"`
	Monitor       string   `json:"monitor"`
	Host          string   `json:"host"`
	State         string   `json:"state"`
	PreviousState string   `json:"previous_state"`
	Value         *float64 `json:"value"`
	Message       string   `json:"message"`
	Since         string   `json:"since"`
	URL           string   `json:"url,omitempty"`
}

func webhookBody(n engine.Notification, link string) webhookPayload {
	return webhookPayload{
		Kind:          string(n.Kind),
		Monitor:       n.Monitor,
		Host:          n.Host,
		State:         n.State.String(),
		PreviousState: n.Previous.String(),
		Value:         n.Value,
		Message:       n.Message,
		Since:         n.Since.UTC().Format(time.RFC3339),
		URL:           link,
	}
}

func subject(n engine.Notification) string {
	if n.Kind == engine.NotifyRecovery {
		return fmt.Sprintf("[ripple] RECOVERED %s on %s", n.Monitor, n.Host)
	}
	return fmt.Sprintf("[ripple] %s %s on %s", n.State, n.Monitor, n.Host)
}

func slackText(n engine.Notification, link string) string {
	var b strings.Builder
	b.WriteString(subject(n))
	if n.Message != "" {
		b.WriteString(": ")
		b.WriteString(n.Message)
	}
	fmt.Fprintf(&b, " (since %s)", n.Since.UTC().Format(time.RFC3339))
	if link != "" {
		b.WriteString(" ")
		b.WriteString(link)
	}
	return b.String()
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
