package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/engine"
)

// postForm sends a form POST with the given headers and, when token is
// set, the session cookie.
func (f *fixture) postForm(t *testing.T, path, token string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: token})
	}
	return f.send(t, req)
}

// TestCrossOriginPostRefused: a form that another site makes a browser
// send, to an action or to /login, is refused with 403 and changes
// nothing: the backend is not called, no event is recorded, the run keeps
// its state and no cookie is set or cleared. The session cookie is sent
// along on purpose: SameSite=Strict does not keep it from a sibling
// subdomain (same-site), and the refusal must not depend on it.
func TestCrossOriginPostRefused(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunWaitingApproval).host(0, "web-01", false)

	senders := []struct {
		name string
		hdr  map[string]string
	}{
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.ripple.example"}},
		{"foreign Origin without Sec-Fetch-Site", map[string]string{"Origin": "https://evil.example"}},
		{"null Origin", map[string]string{"Origin": "null"}},
	}
	posts := []struct {
		path, token string
		form        url.Values
	}{
		{"/runs/1/approve", operatorToken, url.Values{"reason": {"forged"}}},
		{"/runs/1/abort", operatorToken, url.Values{"reason": {"forged"}}},
		{"/runs/1/revert", operatorToken, url.Values{"reason": {"forged"}}},
		{"/jobs/nginx-config/run", operatorToken, url.Values{"reason": {"forged"}, "hosts": {"web-01"}}},
		{"/logout", operatorToken, nil},
		{"/login", "", url.Values{"token": {viewerToken}, "next": {"/runs/1"}}},
	}
	for _, s := range senders {
		for _, p := range posts {
			t.Run(s.name+" "+p.path, func(t *testing.T) {
				code, body, hdr := f.postForm(t, p.path, p.token, p.form, s.hdr)
				if code != http.StatusForbidden {
					t.Errorf("status %d, want 403\n%s", code, body)
				}
				if ck := hdr.Values("Set-Cookie"); len(ck) != 0 {
					t.Errorf("a refused request set cookies %q", ck)
				}
				if !strings.Contains(body, "another site") {
					t.Errorf("the error page does not say why:\n%s", body)
				}
			})
		}
	}
	if call := f.backend.lastCall(); call != "" {
		t.Errorf("refused requests reached the backend: %s", call)
	}
	events, err := f.store.Events(t.Context(), 1)
	if err != nil || len(events) != 0 {
		t.Errorf("refused requests recorded events %+v %v", events, err)
	}
	run, err := f.store.GetRun(t.Context(), 1)
	if err != nil || run.State != engine.RunWaitingApproval {
		t.Errorf("run after refused requests: %+v %v", run, err)
	}
	if runs, err := f.store.GetRun(t.Context(), 2); err == nil {
		t.Errorf("a refused run-now created run %+v", runs)
	}
}

// TestSameOriginPostAccepted: the UI's own forms, as a browser sends them
// (Sec-Fetch-Site: same-origin, or an older one with only a matching
// Origin), and clients that send neither header (curl, scripts) go
// through.
func TestSameOriginPostAccepted(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunWaitingApproval).host(0, "web-01", false)
	browser := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": f.srv.URL}
	oldBrowser := map[string]string{"Origin": f.srv.URL}
	for _, hdr := range []map[string]string{browser, oldBrowser, nil} {
		code, _, h := f.postForm(t, "/login", "", url.Values{"token": {operatorToken}, "next": {"/runs/1"}}, hdr)
		if code != http.StatusSeeOther || h.Get("Location") != "/runs/1" || !strings.Contains(h.Get("Set-Cookie"), CookieName+"="+operatorToken) {
			t.Errorf("login with %v: %d %v", hdr, code, h)
		}
	}
	code, _, h := f.postForm(t, "/runs/1/approve", operatorToken, url.Values{"reason": {"canary fine"}}, browser)
	if code != http.StatusSeeOther || h.Get("Location") != "/runs/1" {
		t.Errorf("approve: %d %v", code, h)
	}
	events, err := f.store.Events(t.Context(), 1)
	if err != nil || len(events) != 1 || events[0].Action != "approve" || events[0].Actor != "alice" || events[0].Reason != "canary fine" {
		t.Errorf("approve recorded %+v %v", events, err)
	}
	code, _, h = f.postForm(t, "/runs/1/abort", operatorToken, url.Values{"reason": {"enough"}}, oldBrowser)
	if code != http.StatusSeeOther || f.backend.lastCall() != `abort 1 alice "enough"` {
		t.Errorf("abort: %d %v %s", code, h, f.backend.lastCall())
	}
	code, _, h = f.postForm(t, "/logout", operatorToken, nil, browser)
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Set-Cookie"), CookieName+"=;") {
		t.Errorf("logout: %d %v", code, h)
	}
}

// TestCrossOriginBehindProxy: behind a reverse proxy that rewrites Host,
// a browser that sends only Origin (plain http to a name that is not
// localhost gets no Sec-Fetch-Site) names the public origin, which is not
// the Host the UI sees. Options.PublicURL's origin is trusted for that;
// other origins are still refused.
func TestCrossOriginBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		publicURL, origin string
		want              int
	}{
		{"http://ripple.internal:8080", "http://ripple.internal:8080", http.StatusSeeOther},
		{"https://Ripple.Example:443/ripple/", "https://ripple.example", http.StatusSeeOther},
		{"http://ripple.example:80", "http://ripple.example", http.StatusSeeOther},
		{"https://ripple.example", "http://ripple.example", http.StatusForbidden},
		{"https://ripple.example", "https://ripple.example:8443", http.StatusForbidden},
		{"https://ripple.example", "https://evil.example", http.StatusForbidden},
	} {
		t.Run(tc.publicURL+" "+tc.origin, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.PublicURL = tc.publicURL })
			code, _, h := f.postForm(t, "/login", "", url.Values{"token": {viewerToken}}, map[string]string{"Origin": tc.origin})
			if code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
			if got := h.Get("Set-Cookie") != ""; got != (tc.want == http.StatusSeeOther) {
				t.Errorf("cookie set %v with status %d", got, code)
			}
		})
	}
}

// TestNewRefusesBadPublicURL: a PublicURL without scheme and host cannot
// name the origin to trust, so New says so instead of starting a UI whose
// forms fail behind the proxy.
func TestNewRefusesBadPublicURL(t *testing.T) {
	for _, bad := range []string{"ripple.example", "https://", "/ripple", "://x"} {
		if _, err := New(Options{PublicURL: bad}); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("New with PublicURL %q: %v", bad, err)
		}
	}
}

// TestTokenLinkFromAnotherSiteRefused: GET /?token= signs a browser in, so
// another site (or a sibling subdomain) could link a victim to a URL with
// the attacker's token and the browser would keep the attacker's session
// (login CSRF). Such a navigation gets the login form and no cookie; a
// typed or bookmarked URL (Sec-Fetch-Site: none), a link inside the UI
// (same-origin) and a client that sends no such header still sign in.
func TestTokenLinkFromAnotherSiteRefused(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunRunning)
	get := func(site string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest("GET", f.srv.URL+"/runs/1?token="+operatorToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
			req.Header.Set("Sec-Fetch-Mode", "navigate")
		}
		return f.send(t, req)
	}
	for _, site := range []string{"cross-site", "same-site"} {
		code, body, hdr := get(site)
		if ck := hdr.Get("Set-Cookie"); ck != "" {
			t.Errorf("%s: a token link set a cookie: %q", site, ck)
		}
		if code == http.StatusSeeOther || !strings.Contains(body, `name="token"`) || !strings.Contains(body, `value="/runs/1"`) {
			t.Errorf("%s: %d, want the login form for /runs/1:\n%s", site, code, body)
		}
		if strings.Contains(body, operatorToken) {
			t.Errorf("%s: the page echoes the token", site)
		}
		if !strings.Contains(body, "another site") {
			t.Errorf("%s: the form does not say why:\n%s", site, body)
		}
	}
	for _, site := range []string{"none", "same-origin", ""} {
		code, _, hdr := get(site)
		if code != http.StatusSeeOther || hdr.Get("Location") != "/runs/1" || !strings.Contains(hdr.Get("Set-Cookie"), CookieName+"="+operatorToken) {
			t.Errorf("Sec-Fetch-Site %q: %d %v, want a session and a redirect to /runs/1", site, code, hdr)
		}
	}
}
