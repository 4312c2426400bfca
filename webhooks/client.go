package webhooks

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultGitHubAPIURL is --github-api-url's default.
const DefaultGitHubAPIURL = "https://api.github.com/"

// githubHTTPTimeout bounds one GitHub request, so a hung connection cannot
// stall the outbox worker.
const githubHTTPTimeout = 30 * time.Second

// NewGitHubClient builds the client for GitHubReporter from
// --github-api-url and a token (as read from --github-token-file; surrounding
// whitespace is trimmed). api.github.com gets the plain client; any other
// URL is treated as GitHub Enterprise (go-github appends api/v3/ unless the
// path already ends with it). httpClient may be nil. Build one client per
// token: go-github remembers rate limits per client.
func NewGitHubClient(apiURL, token string, httpClient *http.Client) (*github.Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("github client: empty token")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: githubHTTPTimeout}
	}
	c := github.NewClient(httpClient).WithAuthToken(token)
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("github client: --github-api-url %q is not an http(s) URL", apiURL)
	}
	if u.Host == "api.github.com" {
		return c, nil
	}
	c, err = c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	return c, nil
}
