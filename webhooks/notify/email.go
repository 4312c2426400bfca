package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
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
	if _, err := w.Write(m.render(time.Now(), rand.Text())); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

// render is m as an RFC 5322 message: UTF-8 text, quoted-printable, with an
// RFC 2047 subject, so non-ASCII monitor and host names survive any relay.
// CR and LF in header values become spaces, so no value can end its header
// line and start another (a Bcc, say). now is the Date; unique must differ
// for every message (Send uses crypto/rand.Text), it makes the Message-ID.
func (m emailMessage) render(now time.Time, unique string) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name + ": " + headerSafe(value) + "\r\n")
	}
	header("From", m.from)
	header("To", strings.Join(m.to, ", "))
	// Encoded words are at most 75 bytes; folding between them keeps
	// lines short, and decoders drop the white space between them.
	subject := mime.QEncoding.Encode("utf-8", headerSafe(m.subject))
	b.WriteString("Subject: " + strings.ReplaceAll(subject, "?= =?", "?=\r\n =?") + "\r\n")
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+unique+"@"+messageIDHost(m.from)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// Writes to a bytes.Buffer do not fail.
	_, _ = qp.Write([]byte(m.body + "\n"))
	_ = qp.Close()
	return b.Bytes()
}

// headerSafe replaces CR and LF, which would end a header line, by spaces.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// messageIDHost is the right-hand side of a Message-ID: the domain of the
// From address, or "ripple" when From does not parse as an address or its
// domain is not plain ASCII.
func messageIDHost(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "ripple"
	}
	host := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if host == "" || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "ripple"
	}
	return host
}
