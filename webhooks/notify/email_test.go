package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
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

// smtpServer is a minimal SMTP server on loopback, enough to accept one
// message over STARTTLS with a self-signed certificate.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msg  string
	tls  bool
}

func (s *smtpServer) message() string { s.mu.Lock(); defer s.mu.Unlock(); return s.msg }
func (s *smtpServer) tlsUsed() bool   { s.mu.Lock(); defer s.mu.Unlock(); return s.tls }

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
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		c := net.Conn(conn)
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
					s.msg = data.String()
					s.mu.Unlock()
					say("250 ok")
					continue
				}
				data.WriteString(line)
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
	}()
	return s
}
