package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// apiClient talks to a running daemon's /api/v1 for the operator commands
// (runs, show, approve, abort, run, status, hosts).
type apiClient struct {
	server    string
	token     string
	tokenFrom string // where token came from, for a 401: the file, "RIPPLE_TOKEN" or ""
	http      *http.Client
	json      bool
	e         env
}

// clientFlags are the flags every operator command takes.
type clientFlags struct {
	server, tokenFile string
	json              bool
}

func (f *clientFlags) register(fs *flag.FlagSet, e env) {
	server := e.getenv("RIPPLE_SERVER")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	fs.StringVar(&f.server, "server", server, "daemon `URL` (env RIPPLE_SERVER)")
	fs.StringVar(&f.tokenFile, "token-file", e.getenv("RIPPLE_TOKEN_FILE"), "`FILE` holding the API token (env RIPPLE_TOKEN_FILE, or the token itself in RIPPLE_TOKEN)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts instead of a table")
}

// client builds the API client. The token comes from --token-file, else
// RIPPLE_TOKEN; it never appears on the command line.
func (f *clientFlags) client(e env) (*apiClient, error) {
	token := strings.TrimSpace(e.getenv("RIPPLE_TOKEN"))
	tokenFrom := ""
	if token != "" {
		tokenFrom = "RIPPLE_TOKEN"
	}
	if f.tokenFile != "" {
		tokenFrom = f.tokenFile
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("read token: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if strings.ContainsAny(token, " \t\r\n") {
			return nil, fmt.Errorf("token file %s must hold only the token itself (one word), not lines of an --api-tokens-file (TOKEN ROLE NAME)", f.tokenFile)
		}
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, fmt.Errorf("RIPPLE_TOKEN must hold only the token itself (one word)")
	}
	if !strings.HasPrefix(f.server, "http://") && !strings.HasPrefix(f.server, "https://") {
		return nil, fmt.Errorf("--server %q must start with http:// or https://", f.server)
	}
	return &apiClient{
		server:    strings.TrimRight(f.server, "/"),
		token:     token,
		tokenFrom: tokenFrom,
		http:      &http.Client{Timeout: 30 * time.Second},
		json:      f.json,
		e:         e,
	}, nil
}

// apiError is an error answer from the daemon: its status and message,
// with what the operator may need to act on it (the daemon's URL, where the
// token came from).
type apiError struct {
	status    int
	msg       string // the daemon's message as it sent it
	json      bool   // msg came in the API's error JSON (not a proxy's page)
	server    string
	tokenFrom string // the token file, "RIPPLE_TOKEN", or "" when none was sent
}

// engineClasses are the suffixes the engine's error classes add to a
// message (": invalid request" and so on, see engine.ErrInvalidRequest);
// the status already says as much, so they are not repeated to the
// operator.
var engineClasses = map[int]string{
	http.StatusBadRequest: ": invalid request",
	http.StatusNotFound:   ": not found",
	http.StatusConflict:   ": conflict",
}

// bareThing is what a lookup of one thing names when it finds nothing
// ("run 42", `job "x"`): it reads "no run 42".
var bareThing = regexp.MustCompile(`^[a-z]+ ("[^"]*"|[^\s":]+)$`)

// Error says what the daemon refused, in its words, and what to do where the
// status asks for something other than a change to the request: a token
// (401), a role (403), a reachable daemon (5xx).
func (e *apiError) Error() string {
	msg := e.msg
	if class := engineClasses[e.status]; class != "" && strings.HasSuffix(msg, class) && len(msg) > len(class) {
		msg = strings.TrimSuffix(msg, class)
	}
	// "approve run 2: approve run 2 (succeeded): ..." names the place once.
	if head, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(rest, head+" ") {
		msg = rest
	}
	if !e.json {
		switch {
		case e.status >= 500:
			// A proxy's page: the status is what there is to say.
			return fmt.Sprintf("cannot reach ripple at %s: HTTP %d %s", e.server, e.status, http.StatusText(e.status))
		case msg == "":
			return fmt.Sprintf("the daemon at %s answered HTTP %d %s", e.server, e.status, http.StatusText(e.status))
		}
	}
	switch {
	case e.status == http.StatusUnauthorized && e.tokenFrom == "":
		return "not authorized: " + msg + "; set RIPPLE_TOKEN_FILE (or --token-file) to a file holding an API token"
	case e.status == http.StatusUnauthorized:
		return fmt.Sprintf("not authorized: the daemon at %s refused the token in %s: %s", e.server, e.tokenFrom, msg)
	case e.status == http.StatusForbidden:
		return "not allowed: " + msg
	case e.status == http.StatusNotFound && strings.HasPrefix(msg, "no such endpoint: "):
		return fmt.Sprintf("the daemon at %s does not know %s (no such endpoint): it runs an older ripple", e.server, strings.TrimPrefix(msg, "no such endpoint: "))
	case e.status == http.StatusNotFound && bareThing.MatchString(msg):
		return "no " + msg
	case e.status == http.StatusInternalServerError:
		return fmt.Sprintf("the daemon at %s failed: %s", e.server, msg)
	case e.status >= 500 && e.status != http.StatusNotImplemented:
		return fmt.Sprintf("cannot reach ripple at %s: %s", e.server, msg)
	}
	return msg
}

// answerError is the apiError of a non-2xx answer with body raw.
func (c *apiClient) answerError(status int, raw []byte) *apiError {
	ae := &apiError{status: status, server: c.where(), tokenFrom: c.tokenFrom}
	var e httpapi.Error
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		ae.msg, ae.json = e.Error, true
	} else {
		ae.msg = strings.TrimSpace(string(raw))
	}
	return ae
}

// sendError is the error of a request that got no answer: the daemon is
// not reachable (refused, a timeout, a name that does not resolve), unless
// ctx ended it (Ctrl-C).
func (c *apiClient) sendError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("cannot reach ripple at %s: %w", c.where(), err)
}

// where is the daemon's URL for messages, a password in it masked.
func (c *apiClient) where() string {
	if u, err := url.Parse(c.server); err == nil {
		return u.Redacted()
	}
	return c.server
}

// do sends a request and decodes a JSON answer into out (when non-nil).
// The raw body is returned for --json output.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.sendError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.answerError(resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("decode answer: %w", err)
		}
	}
	return raw, nil
}

// get GETs path and decodes the answer into v. With --json it prints the
// raw answer instead and returns printed=true; the caller then returns.
func (c *apiClient) get(ctx context.Context, path string, v any) (printed bool, err error) {
	raw, err := c.do(ctx, "GET", path, nil, v)
	if err != nil {
		return false, err
	}
	if c.json {
		c.printJSON(raw)
		return true, nil
	}
	return false, nil
}

// printJSON writes the daemon's answer as is, for scripts.
func (c *apiClient) printJSON(raw []byte) {
	c.e.stdout.Write(bytes.TrimSpace(raw))
	fmt.Fprintln(c.e.stdout)
}

// parseClient parses an operator command's flags, interspersed with its
// positional arguments, and checks their count. It returns exitError{2}
// on usage errors.
func parseClient(fs *flag.FlagSet, args []string, minPos, maxPos int) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, exitError{2}
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		fs.Usage()
		return nil, exitError{2}
	}
	return pos, nil
}

// apiCommand is an operator command over the daemon's API. It owns what
// they all share: the flags --server, --token-file and --json with their
// environment defaults, parsing (flags among the positional arguments),
// the usage text, and the client; a command declares its own flags and
// work.
type apiCommand struct {
	name, usage    string
	minPos, maxPos int // positional arguments; maxPos -1 takes any number

	// flags declares the command's own flags (optional).
	flags func(fs *flag.FlagSet)
	// check refuses a usage its flags cannot express, before a client is
	// built (optional): it returns exitError{2} after saying why.
	check func(pos []string) error
	// act does the work with the client.
	act func(c *apiClient, pos []string) error
}

// run parses args, builds the client and acts; a help request exits 0, a
// usage error 2.
func (a apiCommand) run(args []string, e env) error {
	fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, a.usage)
		fs.PrintDefaults()
	}
	cf := &clientFlags{}
	cf.register(fs, e)
	if a.flags != nil {
		a.flags(fs)
	}
	pos, err := parseClient(fs, args, a.minPos, a.maxPos)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if a.check != nil {
		if err := a.check(pos); err != nil {
			return err
		}
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	return a.act(c, pos)
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return t.Local().Format("2006-01-02")
	}
}
