package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// SMTPDialer sends one email. The default requires STARTTLS.
type SMTPDialer interface {
	Send(ctx context.Context, m emailMessage) error
}

type emailMessage struct {
	server   string // host:port
	username string
	password string
	from     string
	to       []string
	subject  string
	body     string
}

// starttlsDialer speaks SMTP and refuses servers that do not offer STARTTLS,
// so credentials and alert contents never cross the network in clear text.
type starttlsDialer struct {
	tlsConfig *tls.Config // nil: system roots, server name from the address
}

func (d starttlsDialer) Send(ctx context.Context, m emailMessage) error {
	host, _, err := net.SplitHostPort(m.server)
	if err != nil {
		return fmt.Errorf("smtp server %q: %w", m.server, err)
	}
	dialer := net.Dialer{Timeout: 10 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", m.server)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp hello: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("smtp server %s does not offer STARTTLS", m.server)
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if d.tlsConfig != nil {
		cfg = d.tlsConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("smtp starttls: %w", err)
	}
	if m.username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.username, m.password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.from); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, rcpt := range m.to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("smtp rcpt %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	msg := "From: " + m.from + "\r\n" +
		"To: " + strings.Join(m.to, ", ") + "\r\n" +
		"Subject: " + m.subject + "\r\n" +
		"Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		m.body + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}
