package enginetest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size bytes on a new temporary directory and
// returns it; it is unmounted at cleanup. Tests of what ripple does when
// its disk is full use it, so that the file system, not a fake, refuses
// the writes. It needs root: without it, or when the mount fails, the test
// is skipped, except in CI (CI set), where it fails.
func Tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		skipOrFail(t, "mounting a tmpfs needs root")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+strconv.FormatInt(size, 10)+",mode=0700"); err != nil {
		skipOrFail(t, "mount a tmpfs on "+dir+": "+err.Error())
	}
	t.Cleanup(func() {
		// A process that still holds a file there (a daemon being reaped)
		// makes a plain unmount fail; detach it then.
		if err := syscall.Unmount(dir, 0); err != nil {
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		}
	})
	return dir
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI must run this test (as root)", why)
	}
	t.Skipf("%s; skipped (CI fails instead)", why)
}

// FillDisk writes dir/name until the file system holding dir has no space
// left, and returns the file's path: delete it to free the space again.
func FillDisk(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
	defer f.Close()
	// Big writes first, then pages, so that less than a page is left.
	for _, chunk := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill %s: %v", dir, err)
				}
				break
			}
		}
	}
	return p
}
