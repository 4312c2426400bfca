package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// TestClientErrors: an operator command prints the daemon's refusal as
// the daemon words it, without the engine's class suffix (": invalid
// request", ": not found", ": conflict") or the HTTP status, and says what
// to do where the status asks for something else: a token for 401, a role
// for 403, a reachable daemon for a connection refused or a 5xx. Each
// exits 1.
func TestClientErrors(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "op.token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := func() string { // a port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	for _, c := range []struct {
		name      string
		status    int
		body      string // JSON error message, or raw with raw set
		raw       bool
		tokenFile string
		args      []string
		want      string // the whole stderr line after "ripple: "
	}{
		{"400", 400, `job restart-app: param service: "database" is not allowed (allowed: "app", "worker"): invalid request`, false, tokenFile,
			[]string{"run", "restart-app", "--param", "service=database"},
			`job restart-app: param service: "database" is not allowed (allowed: "app", "worker")`},
		{"401 no token", 401, "missing bearer token", false, "", []string{"runs"},
			"not authorized: missing bearer token; set RIPPLE_TOKEN_FILE (or --token-file) to a file holding an API token"},
		{"401 unknown token", 401, "unknown token", false, tokenFile, []string{"runs"},
			"not authorized: the daemon at SERVER refused the token in " + tokenFile + ": unknown token"},
		{"403", 403, "token wall has role viewer; this needs operator", false, tokenFile, []string{"abort", "3"},
			"not allowed: token wall has role viewer; this needs operator"},
		{"404 run", 404, "run 42: not found", false, tokenFile, []string{"show", "42"}, "no run 42"},
		{"404 named", 404, `no monitor "nope" at the applied commit: not found`, false, tokenFile, []string{"monitors", "nope"},
			`no monitor "nope" at the applied commit`},
		{"404 endpoint", 404, "no such endpoint: GET /api/v1/traps", false, tokenFile, []string{"traps"},
			"the daemon at SERVER does not know GET /api/v1/traps (no such endpoint): it runs an older ripple"},
		{"409 leader", 409, "param db_password of job restart-app is sensitive: start the run on the leader, node-a: conflict", false, tokenFile,
			[]string{"run", "restart-app"},
			"param db_password of job restart-app is sensitive: start the run on the leader, node-a"},
		{"409 place named twice", 409, "approve run 2: approve run 2 (succeeded): run is not waiting for an operator", false, tokenFile, []string{"approve", "2"},
			"approve run 2 (succeeded): run is not waiting for an operator"},
		{"500", 500, "read runs: database is locked", false, tokenFile, []string{"runs"},
			"the daemon at SERVER failed: read runs: database is locked"},
		{"503", 503, "daemon is not running", false, tokenFile, []string{"runs"},
			"cannot reach ripple at SERVER: daemon is not running"},
		{"502 proxy", 502, "<html>Bad Gateway</html>", true, tokenFile, []string{"runs"},
			"cannot reach ripple at SERVER: HTTP 502 Bad Gateway"},
		{"refused", 0, "", false, tokenFile, []string{"runs"},
			"cannot reach ripple at " + strings.Replace(refused, "://", "://ops:xxxxx@", 1) + ": "},
	} {
		t.Run(c.name, func(t *testing.T) {
			server := strings.Replace(refused, "://", "://ops:s3cret@", 1) // a password in the URL is never printed
			if c.status != 0 {
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if c.raw {
						w.WriteHeader(c.status)
						w.Write([]byte(c.body))
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(c.status)
					json.NewEncoder(w).Encode(httpapi.Error{Error: c.body})
				}))
				defer ts.Close()
				server = strings.Replace(ts.URL, "://", "://ops:s3cret@", 1)
			}
			var out, errb bytes.Buffer
			getenv := func(k string) string {
				switch k {
				case "RIPPLE_SERVER":
					return server
				case "RIPPLE_TOKEN_FILE":
					return c.tokenFile
				}
				return ""
			}
			err := run(context.Background(), c.args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: getenv})
			if err == nil {
				t.Fatalf("ripple %s: no error; printed %q", strings.Join(c.args, " "), out.String())
			}
			var usage exitError
			if errors.As(err, &usage) {
				t.Fatalf("ripple %s: %v (a usage error, not the daemon's); stderr %q", strings.Join(c.args, " "), err, errb.String())
			}
			want := strings.ReplaceAll(c.want, "SERVER", strings.Replace(server, ":s3cret@", ":xxxxx@", 1))
			got := err.Error()
			if strings.Contains(got, "s3cret") {
				t.Errorf("a secret is in the error: %s", got)
			}
			if c.status == 0 {
				if !strings.HasPrefix(got, want) || !strings.Contains(got, "refused") {
					t.Errorf("ripple %s:\n got %s\nwant %s... connection refused", strings.Join(c.args, " "), got, want)
				}
				return
			}
			if got != want {
				t.Errorf("ripple %s:\n got %s\nwant %s", strings.Join(c.args, " "), got, want)
			}
		})
	}
}
