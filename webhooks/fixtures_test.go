package webhooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "github-webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit replaces the first occurrence of each old string with its new one,
// failing if one is missing, so the fixture edits stay honest.
func edit(t testing.TB, b []byte, pairs ...string) []byte {
	t.Helper()
	s := string(b)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("fixture has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

const (
	shaA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
	shaB = "1111111111111111111111111111111111111111"
	zero = "0000000000000000000000000000000000000000"
)

// Payload variants derived from the real fixtures.
func ordinaryPush(t testing.TB) []byte {
	return edit(t, fixture(t, "push/with-new-branch.payload.json"),
		`"ref": "refs/heads/master"`, `"ref": "refs/heads/main"`,
		`"before": "`+zero+`"`, `"before": "`+shaB+`"`,
		`"created": true`, `"created": false`)
}

func forcePush(t testing.TB) []byte {
	return edit(t, ordinaryPush(t), `"forced": false`, `"forced": true`)
}

func branchDeletion(t testing.TB) []byte {
	return edit(t, fixture(t, "push/payload.json"), `"ref": "refs/tags/simple-tag"`, `"ref": "refs/heads/feature"`)
}

func tagPush(t testing.TB) []byte {
	return edit(t, fixture(t, "push/with-new-branch.payload.json"), `"ref": "refs/heads/master"`, `"ref": "refs/tags/v1.0.0"`)
}

func forkPR(t testing.TB) []byte {
	// The head block comes first in the payload, so the first full_name
	// and fork fields are the head repository's.
	return edit(t, fixture(t, "pull_request/opened.payload.json"),
		`"full_name": "Codertocat/Hello-World"`, `"full_name": "forker/Hello-World"`,
		`"fork": false`, `"fork": true`)
}
