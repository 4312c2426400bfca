package httpapi

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"strings"
)

// Role is what a token may do: a viewer reads, an operator also acts
// (runs, approvals, aborts, accepting a rewritten history).
type Role string

// Roles.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
)

func (r Role) allows(need Role) bool {
	return r == RoleOperator || need == RoleViewer
}

// Identity is who made a request: the token's name (recorded as the actor
// of every action) and role.
type Identity struct {
	Name string
	Role Role
}

type tokenEntry struct {
	sum [sha256.Size]byte
	id  Identity
}

// Tokens are the API's bearer tokens. The zero value (and nil) knows no
// token, so every API request is refused.
type Tokens struct {
	entries []tokenEntry
}

// LoadTokens reads a tokens file: one token per line as `TOKEN ROLE [NAME]`,
// ROLE `viewer` or `operator`; blank lines and lines starting with # are
// skipped. NAME defaults to "<role>-<line>". Errors name the line but never
// echo a token.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open api tokens: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTokens parses the tokens file format described at LoadTokens.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	seen := map[[sha256.Size]byte]bool{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("line %d: want TOKEN ROLE [NAME]", n)
		}
		role := Role(fields[1])
		if role != RoleViewer && role != RoleOperator {
			return nil, fmt.Errorf("line %d: role %q is neither viewer nor operator", n, fields[1])
		}
		if len(fields[0]) < 16 {
			return nil, fmt.Errorf("line %d: token shorter than 16 characters", n)
		}
		name := fmt.Sprintf("%s-%d", role, n)
		if len(fields) == 3 {
			name = fields[2]
		}
		sum := sha256.Sum256([]byte(fields[0]))
		if seen[sum] {
			return nil, fmt.Errorf("line %d: duplicate token", n)
		}
		seen[sum] = true
		t.entries = append(t.entries, tokenEntry{sum: sum, id: Identity{Name: name, Role: role}})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read api tokens: %w", err)
	}
	return t, nil
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// lookup finds the identity of token. Every entry is compared, in constant
// time over equal-length digests, so timing reveals neither which token
// matched nor how much of one.
func (t *Tokens) lookup(token string) (Identity, bool) {
	if t == nil || token == "" {
		return Identity{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var found Identity
	ok := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			found = e.id
			ok = 1
		}
	}
	return found, ok == 1
}
