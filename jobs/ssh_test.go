package jobs

import (
	"os/exec"
	"testing"
	"time"
)

func TestWrapCommand(t *testing.T) {
	tests := []struct {
		cmd, become string
		timeout     time.Duration
		want        string
	}{
		{"true", "", 0, "true"},
		{"echo 'a b'", "", 10 * time.Second, `timeout -k 5 11.000s sh -c 'echo '\''a b'\'''`},
		{"id -u", "sudo", 0, `sudo -n -- sh -c 'id -u'`},
		{"id -u", "sudo", 1500 * time.Millisecond, `sudo -n -- timeout -k 5 2.500s sh -c 'id -u'`},
	}
	for _, tt := range tests {
		if got := wrapCommand(tt.cmd, tt.become, tt.timeout, 2*time.Second); got != tt.want {
			t.Errorf("wrapCommand(%q, %q, %v) = %q, want %q", tt.cmd, tt.become, tt.timeout, got, tt.want)
		}
	}
}

// TestShellQuote runs quoted words through a real sh.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", "it's", `"$HOME" $(id) ; rm -rf /`, "new\nline", `\'`} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) through sh gave %q, %v", s, out, err)
		}
	}
}

func TestParseProbe(t *testing.T) {
	sum := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	f, err := parseProbe([]byte("present " + sum + " 644 root adm\n"))
	if err != nil || !f.exists || f.sha256 != sum || f.mode != "644" || f.owner != "root" || f.group != "adm" {
		t.Fatalf("present: %+v %v", f, err)
	}
	if f, err := parseProbe([]byte("absent\n")); err != nil || f.exists {
		t.Fatalf("absent: %+v %v", f, err)
	}
	if _, err := parseProbe([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestCheckDestination(t *testing.T) {
	for _, ok := range []string{"/etc/x.conf", "/a b/c"} {
		if err := checkDestination(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "rel/x", "/", "/etc/../x", "/etc/x/", "/a\nb"} {
		if err := checkDestination(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
