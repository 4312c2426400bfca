package webhooks

import (
	"context"
	"testing"

	"github.com/ripple-ops/ripple/test/githubfake"
)

func TestNewGitHubClient(t *testing.T) {
	gh := githubfake.New(t)
	gh.RequireToken("tok")
	c, err := NewGitHubClient(gh.URL(), "tok\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL.String(), gh.URL()+"api/v3/"; got != want {
		t.Fatalf("BaseURL = %s, want %s", got, want)
	}
	if _, _, err := c.Repositories.ListStatuses(context.Background(), "o", "r", "abc", nil); err != nil {
		t.Fatalf("request through the enterprise prefix: %v", err)
	}
	for _, u := range []string{"", DefaultGitHubAPIURL} {
		c, err := NewGitHubClient(u, "tok", nil)
		if err != nil || c.BaseURL.String() != DefaultGitHubAPIURL {
			t.Fatalf("%q: %v, %v", u, c, err)
		}
	}
	for _, bad := range []struct{ url, token string }{{gh.URL(), " "}, {"ftp://x/", "tok"}, {"::", "tok"}} {
		if _, err := NewGitHubClient(bad.url, bad.token, nil); err == nil {
			t.Errorf("NewGitHubClient(%q, %q) accepted", bad.url, bad.token)
		}
	}
}
