package webui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// CookieName is the session cookie. It holds the API token itself,
// HttpOnly and SameSite=Strict, so scripts cannot read it and other sites
// cannot send it.
const CookieName = "ripple_token"

// sessionMaxAge is how long a browser keeps the cookie.
const sessionMaxAge = 30 * 24 * time.Hour

// identify finds the caller: the session cookie, or a bearer header (for
// scripts and curl).
func (u *UI) identify(r *http.Request) (httpapi.Identity, bool) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if id, ok := u.opts.Tokens.Lookup(c.Value); ok {
			return id, true
		}
	}
	a := r.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return u.opts.Tokens.Lookup(strings.TrimSpace(tok))
	}
	return httpapi.Identity{}, false
}

func (u *UI) setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.HasPrefix(u.opts.PublicURL, "https://"),
		MaxAge: int(sessionMaxAge.Seconds()),
	})
}

// page wraps a GET page: it signs the caller in from ?token= (then
// redirects without it, so the token leaves the address bar and history),
// and sends callers without a session to the login form. A ?token= link
// followed from another site is not signed in with (see linkFromElsewhere).
func (u *UI) page(next func(http.ResponseWriter, *http.Request, *view)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if tok := q.Get("token"); tok != "" {
			q.Del("token")
			if linkFromElsewhere(r) {
				u.log.Warn().Str("path", r.URL.Path).Str("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")).
					Msg("refused a ?token= sign-in linked from another site")
				target := *r.URL
				target.RawQuery = q.Encode()
				u.renderLogin(w, r, http.StatusUnauthorized, target.RequestURI(),
					"this sign-in link came from another site, so it was not used; sign in here")
				return
			}
			if _, ok := u.opts.Tokens.Lookup(tok); !ok {
				u.renderLogin(w, r, http.StatusUnauthorized, r.URL.Path, "unknown token")
				return
			}
			u.setSession(w, r, tok)
			target := *r.URL
			target.RawQuery = q.Encode()
			http.Redirect(w, r, target.RequestURI(), http.StatusSeeOther)
			return
		}
		id, ok := u.identify(r)
		if !ok {
			u.renderLogin(w, r, http.StatusUnauthorized, r.URL.RequestURI(), "")
			return
		}
		v := &view{Who: id, CanAct: id.Role.Allows(httpapi.RoleOperator), Status: u.opts.Backend.Status(),
			Path: r.URL.Path, Wall: q.Get("wall") == "1"}
		next(w, r, v)
	})
}

// linkFromElsewhere reports whether the browser says r is a navigation
// started by another site: Sec-Fetch-Site cross-site, or same-site (a
// sibling subdomain, which SameSite does not tell apart either). Signing
// in from such a ?token= link would let that site sign a victim in as the
// attacker (login CSRF), as a forged /login form would. A typed or
// bookmarked address says "none" and a link inside the UI "same-origin";
// clients that send no such header (curl, old browsers) are not refused.
func linkFromElsewhere(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// action wraps a form POST: a session with role need. Forms from other
// sites never get here (see newCrossOriginProtection).
func (u *UI) action(need httpapi.Role, next func(http.ResponseWriter, *http.Request, httpapi.Identity)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		id, ok := u.identify(r)
		if !ok {
			u.renderLogin(w, r, http.StatusUnauthorized, "/", "sign in first")
			return
		}
		if !id.Role.Allows(need) {
			u.fail(w, r, http.StatusForbidden, "token "+id.Name+" has role "+string(id.Role)+"; this needs "+string(need))
			return
		}
		next(w, r, id)
	})
}

type loginData struct {
	Next  string
	Error string
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, code int, next, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ripple"`)
	}
	u.render(w, r, code, "login", "layout", &view{Title: "Sign in", Data: loginData{Next: safeNext(next), Error: msg}})
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	u.renderLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

// login checks a posted token and sets the session cookie. A form posted
// from another site never gets here (login CSRF would sign the victim in
// as the attacker); see newCrossOriginProtection.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	if _, ok := u.opts.Tokens.Lookup(tok); !ok {
		u.renderLogin(w, r, http.StatusUnauthorized, next, "unknown token")
		return
	}
	u.setSession(w, r, tok)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, _ httpapi.Identity) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	p, err := url.Parse(next)
	if err != nil || next == "" || p.IsAbs() || p.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}
