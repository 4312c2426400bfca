package httpapi

import (
	"net/http"
	"strings"
)

// Mount serves api for the daemon's machine paths (/api/, /livez, /readyz,
// /healthz, /metrics, /webhooks/) and ui for every other path. A nil ui
// leaves api serving everything.
func Mount(api, ui http.Handler) http.Handler {
	if ui == nil {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsAPIPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// IsAPIPath reports whether path belongs to the API handler rather than
// the web UI.
func IsAPIPath(path string) bool {
	switch path {
	case "/api", "/livez", "/readyz", "/healthz", "/metrics", "/webhooks":
		return true
	}
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/")
}
