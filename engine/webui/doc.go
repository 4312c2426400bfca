// Package webui is ripple's web UI: server-rendered html/template pages
// embedded in the binary (overview, runs, jobs, monitors, hosts,
// capacity), with no build step and no external assets. Pages work
// without JavaScript; a small inline script only swaps in live updates
// (a run page follows a Server-Sent Events stream of its re-rendered
// live part, the overview reloads its live part every few seconds).
//
// People sign in with the API's bearer tokens, kept in an HttpOnly
// SameSite=Strict cookie, and actions need the operator role. Every POST
// (actions, sign-in, sign-out) passes net/http's CrossOriginProtection
// first, so a form sent from another site is refused with 403.
//
// It starts no goroutines of its own: a live stream runs in the request's
// goroutine and ends with the request, the run, or shutdown.
package webui
