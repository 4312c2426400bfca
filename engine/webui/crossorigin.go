package webui

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// newCrossOriginProtection builds the check that every request with an
// unsafe method (the actions, /login, /logout) passes before a route sees
// it. A browser's request must come from the UI's own origin: its
// Sec-Fetch-Site says same-origin, or, from a browser that does not send
// that header, its Origin matches Host. publicURL's origin is trusted as
// well, for a UI behind a reverse proxy that rewrites Host; "" trusts no
// other origin. Requests with neither header (curl, scripts with a bearer
// token) go through: browsers send one on every cross-origin POST.
func newCrossOriginProtection(publicURL string) (*http.CrossOriginProtection, error) {
	c := http.NewCrossOriginProtection()
	if publicURL == "" {
		return c, nil
	}
	origin, err := originOf(publicURL)
	if err != nil {
		return nil, fmt.Errorf("public URL %q: %w", publicURL, err)
	}
	if err := c.AddTrustedOrigin(origin); err != nil {
		return nil, fmt.Errorf("public URL %q: %w", publicURL, err)
	}
	return c, nil
}

// originOf is the Origin header a browser sends from pages under the
// absolute URL s: scheme://host[:port] in lower case, without the
// scheme's default port.
func originOf(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Hostname() == "" {
		return "", errors.New("want an absolute URL, scheme://host[:port][/path]")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// refuseCrossOrigin answers a request the cross-origin check refused: 403
// and the error page, before any route ran, so nothing changed and no
// cookie was set or cleared.
func (u *UI) refuseCrossOrigin(w http.ResponseWriter, r *http.Request) {
	u.log.Warn().Str("method", r.Method).Str("path", r.URL.Path).
		Str("origin", r.Header.Get("Origin")).Str("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")).
		Msg("refused a cross-origin request")
	u.fail(w, r, http.StatusForbidden, "this form was sent from another site, so it was refused; send it from ripple's own page")
}
