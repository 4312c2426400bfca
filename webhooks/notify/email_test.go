package notify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"maps"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func TestEmailRequiresSTARTTLS(t *testing.T) {
	for _, offerTLS := range []bool{true, false} {
		srv := startSMTP(t, offerTLS)
		d := starttlsDialer{tlsConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // self-signed test server
		err := d.Send(context.Background(), emailMessage{
			server: srv.addr, from: "ripple@example.test", to: []string{"ops@example.test"},
			subject: "[ripple] CRITICAL disk-root on web-01", body: "disk full",
		})
		if offerTLS {
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msg := srv.message()
			if !srv.tlsUsed() || !strings.Contains(msg, "Subject: [ripple] CRITICAL disk-root on web-01") || !strings.Contains(msg, "disk full") {
				t.Errorf("tls=%v message=%q", srv.tlsUsed(), msg)
			}
		} else if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("server without STARTTLS: err = %v", err)
		}
	}
}

// An alert email, sent through Notifiers to the test SMTP server, is a
// MIME message whose headers each parse, whose subject keeps non-ASCII
// monitor and host names, and whose body survives quoted-printable. A CR or
// LF in a name cannot add a header.
func TestEmailMessageIsMIMEWithEncodedSubject(t *testing.T) {
	srv := startSMTP(t, true)
	defs := &definitions.Definitions{
		Notifiers: map[string]*definitions.Notifier{"mail": {
			Name: "mail", Type: "email", SMTP: srv.addr,
			From: "ripple@alerts.example.test", To: []string{"ops@example.test", "oncall@example.test"},
		}},
		Monitors: map[string]*definitions.Monitor{"größe-/var": {Name: "größe-/var", Notify: []string{"mail"}}},
	}
	n := New(Options{
		SMTP:    starttlsDialer{tlsConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // self-signed test server
		Secrets: staticEnv{},
	})
	if err := n.ApplyConfig(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	alert := notification()
	alert.Monitor, alert.Host = "größe-/var", "wéb-01\r\nBcc: thief@evil.test"
	alert.Message = "Plattenplatz fast erschöpft. " + strings.Repeat("Ünïcödé and a long line, ", 8) + "\n.leading dot line"
	before := time.Now().Truncate(time.Second)
	n.Notify(context.Background(), []string{"mail"}, alert)
	if recs := waitRecords(t, n, 1); recs[0].Error != "" {
		t.Fatalf("delivery failed: %s", recs[0].Error)
	}
	after := time.Now()

	raw := srv.message()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, raw)
	}
	h := msg.Header
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	if _, ok := h["Bcc"]; ok || strings.Contains(strings.ToLower(head), "\r\nbcc:") {
		t.Errorf("a CR/LF in the host name added a header:\n%s", raw)
	}
	for name, want := range map[string]string{
		"From":                      "ripple@alerts.example.test",
		"To":                        "ops@example.test, oncall@example.test",
		"Mime-Version":              "1.0",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	if date, err := h.Date(); err != nil || date.Before(before) || date.After(after) {
		t.Errorf("Date = %q (%v), want a time between %v and %v", h.Get("Date"), err, before, after)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[A-Za-z0-9]{16,}@alerts\.example\.test>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <random@alerts.example.test>", id)
	}

	rawSubject := h.Get("Subject")
	if strings.ContainsFunc(rawSubject, func(r rune) bool { return r > '~' }) {
		t.Errorf("Subject %q is not ASCII: not RFC 2047 encoded", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if want := "[ripple] CRITICAL größe-/var on wéb-01  Bcc: thief@evil.test"; err != nil || subject != want {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, want)
	}

	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body is not quoted-printable: %v", err)
	}
	// Line breaks in the text travel as CRLF; the body is not a header, so
	// the host's "Bcc:" line there is only text.
	wantBody := strings.ReplaceAll(strings.ReplaceAll(text([]engine.Notification{alert}, links{}), "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	if string(body) != wantBody {
		t.Errorf("body decodes to\n%q\nwant\n%q", body, wantBody)
	}
	for i, part := range strings.SplitN(raw, "\r\n\r\n", 2) {
		limit := 998 // RFC 5322 for a header line; RFC 2045 for quoted-printable
		if i == 1 {
			limit = 76
		}
		for line := range strings.SplitSeq(part, "\r\n") {
			if len(line) > limit {
				t.Errorf("line of %d bytes: %q", len(line), line)
			}
		}
	}

	// Every message has its own Message-ID.
	recovery := alert
	recovery.Kind, recovery.State = engine.NotifyRecovery, engine.StateOK
	n.Notify(context.Background(), []string{"mail"}, recovery)
	waitRecords(t, n, 2)
	var ids []string
	for _, m := range srv.messages() {
		parsed, err := mail.ReadMessage(strings.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, parsed.Header.Get("Message-ID"))
	}
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Errorf("Message-IDs %q, want two different ones", ids)
	}
}

// No value, whatever CR and LF it carries, adds a header of its own.
func TestEmailHeadersResistInjection(t *testing.T) {
	m := emailMessage{
		from:    "ripple@example.test\r\nBcc: x@evil.test",
		to:      []string{"ops@example.test\nCc: y@evil.test", "oncall@example.test"},
		subject: "[ripple] CRITICAL disk\r\nX-Injected: 1\ron web-01",
		body:    "disk full",
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.render(time.Unix(0, 0), "ID")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	if got := slices.Sorted(maps.Keys(msg.Header)); !slices.Equal(got, want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	if got := msg.Header.Get("Subject"); got != "[ripple] CRITICAL disk  X-Injected: 1 on web-01" {
		t.Errorf("Subject = %q", got)
	}
	if got := msg.Header.Get("To"); got != "ops@example.test Cc: y@evil.test, oncall@example.test" {
		t.Errorf("To = %q", got)
	}
}

func TestMessageIDHost(t *testing.T) {
	for from, want := range map[string]string{
		"ripple@example.test":               "example.test",
		"Ripple Alerts <ripple@mx.example>": "mx.example",
		"ripple":                            "ripple",
		"":                                  "ripple",
		"ripple@exämple.test":               "ripple", // not ASCII
		"ripple@example.test>\r\nBcc: x@y":  "ripple", // does not parse
	} {
		if got := messageIDHost(from); got != want {
			t.Errorf("messageIDHost(%q) = %q, want %q", from, got, want)
		}
	}
}

// smtpServer is a minimal SMTP server on loopback, enough to accept
// messages over STARTTLS with a self-signed certificate, one connection
// after the other, until the test ends.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs []string // DATA as received, dot-stuffing undone
	tls  bool
}

// message is the last message received; "" before the first.
func (s *smtpServer) message() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		return ""
	}
	return s.msgs[len(s.msgs)-1]
}

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func (s *smtpServer) tlsUsed() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.tls }

func startSMTP(t *testing.T, offerTLS bool) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cert := httptest.NewTLSServer(http.NotFoundHandler())
	tlsCfg := cert.TLS.Clone()
	cert.Close()
	s := &smtpServer{addr: ln.Addr().String()}
	go func() { // ends when Cleanup closes ln
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.serve(conn, offerTLS, tlsCfg)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn, offerTLS bool, tlsCfg *tls.Config) {
	defer conn.Close()
	c := conn
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 test ESMTP")
	inData := false
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if inData {
			if line == ".\r\n" {
				inData = false
				s.mu.Lock()
				s.msgs = append(s.msgs, data.String())
				s.mu.Unlock()
				data.Reset()
				say("250 ok")
				continue
			}
			data.WriteString(strings.TrimPrefix(line, ".")) // RFC 5321 4.5.2
			continue
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			if offerTLS {
				say("250-test")
				say("250 STARTTLS")
			} else {
				say("250 test")
			}
		case cmd == "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(conn, tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			s.mu.Lock()
			s.tls = true
			s.mu.Unlock()
			c = tc
			r = bufio.NewReader(c)
		case cmd == "DATA":
			say("354 go")
			inData = true
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}
