//go:build !linux

package enginetest

import (
	"os"
	"testing"
)

// Tmpfs needs Linux: elsewhere the test is skipped, or fails in CI.
func Tmpfs(t testing.TB, _ int64) string {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("a tmpfs needs Linux; CI must run this test")
	}
	t.Skip("a tmpfs needs Linux")
	return ""
}

// FillDisk is never reached without Tmpfs.
func FillDisk(t testing.TB, _, _ string) string {
	t.Helper()
	t.Skip("a tmpfs needs Linux")
	return ""
}
