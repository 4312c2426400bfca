package engine

import (
	"fmt"
	"os"
	"strings"
)

// ReadSecretFile reads a one-line secret (a token, a webhook secret) from
// path, trimmed; an empty file is an error.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}
