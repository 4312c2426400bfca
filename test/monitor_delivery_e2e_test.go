package test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// monDeliveryHCL is one host running the monitored service and a webhook
// notifier whose URL file() reads from --secrets-dir, under the name given.
const monDeliveryHCL = `
host "svc-01" {
  address   = "127.0.0.1"
  transport = "local"
}

notifier "webhook" "pager" {
  url        = file(%q)
  group_wait = "0s"
}

monitor "web" {
  targets     { hosts = ["svc-01"] }
  interval    = "1s"
  timeout     = "900ms"
  alert_after = 2
  notify      = ["pager"]
  check "http" {
    url    = "http://${host.address}:%s/healthz"
    status = 200
  }
}
`

// TestMonitorUndeliverableAlertIsRetried: an alert raised while its
// notifier's secret is missing is recorded as a failed delivery (API,
// metrics, no secret in the reason), is still pending after a restart, and
// is delivered, once, when a later commit fixes the notifier; the recovery
// follows.
func TestMonitorUndeliverableAlertIsRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("monitor end-to-end test takes about half a minute")
	}
	e := newMonEnv(t, 0)
	secrets := filepath.Join(e.dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "hook-url"), []byte(e.hook.url), 0o600); err != nil {
		t.Fatal(err)
	}
	e.serveArgs = []string{"--secrets-dir", secrets}
	_, port, err := net.SplitHostPort(strings.TrimPrefix(e.svc.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	// The notifier names a secret file that does not exist.
	broken := e.commit("monitor web, notifier with a missing secret", map[string]string{
		"main.hcl": fmt.Sprintf(monDeliveryHCL, "pager-url", port),
	})
	e.svc.setHealthy(false)
	e.start()
	monWait(t, "the commit applied", 20*time.Second, func() bool { return e.lastApplied() == broken })
	monWait(t, "web firing on svc-01", 15*time.Second, func() bool {
		m, _ := e.monitor("web", "svc-01")
		return m.Firing
	})
	// The failed delivery shows in the API with its reason.
	var reason string
	monWait(t, "a failed delivery to pager in the API", 15*time.Second, func() bool {
		m, _ := e.monitor("web", "svc-01")
		if m.Undelivered == nil {
			return false
		}
		reason = m.Undelivered.Notifiers["pager"]
		return m.Undelivered.Kind == "alert" && reason != ""
	})
	t.Logf("undelivered: %s", reason)
	if !strings.Contains(reason, "pager-url") || strings.Contains(reason, e.hook.url) {
		t.Errorf("failure reason %q: want the missing file named and no secret", reason)
	}
	metrics := e.metrics()
	for _, want := range []string{
		`ripple_notifications_total{kind="alert",notifier="pager",result="failed"}`,
		`ripple_monitor_notification_undelivered{host="svc-01",monitor="web",notifier="pager"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s; it has:\n%s", want, grepLines(metrics, "notification"))
		}
	}

	// A restart keeps the alert pending: not sent, still undelivered.
	e.stop()
	e.start()
	monWait(t, "the restarted daemon applied the commit", 20*time.Second, func() bool { return e.lastApplied() == broken })
	if m, _ := e.monitor("web", "svc-01"); m.Undelivered == nil || m.Undelivered.Kind != "alert" {
		t.Errorf("after a restart: %+v, want the alert still undelivered", m)
	}

	// A commit fixes the notifier: the still-firing alert goes out, once.
	fixed := e.commit("notifier reads the right secret", map[string]string{
		"main.hcl": fmt.Sprintf(monDeliveryHCL, "hook-url", port),
	})
	monWait(t, "the fix applied", 20*time.Second, func() bool { return e.lastApplied() == fixed })
	monWait(t, "the web alert delivered", 40*time.Second, func() bool { return len(e.hook.of("web", "")) > 0 })
	monWait(t, "nothing undelivered", 10*time.Second, func() bool {
		m, _ := e.monitor("web", "svc-01")
		return m.Undelivered == nil
	})
	if got := e.hook.of("web", ""); len(got) != 1 || got[0].Kind != "alert" || got[0].State != "CRITICAL" {
		t.Fatalf("deliveries %v, want one CRITICAL alert", got)
	}

	e.svc.setHealthy(true)
	monWait(t, "the recovery", 15*time.Second, func() bool { return len(e.hook.of("web", "")) >= 2 })
	time.Sleep(2 * time.Second)
	if got := e.hook.of("web", ""); len(got) != 2 || got[1].Kind != "recovery" {
		t.Errorf("deliveries %v, want one alert and one recovery", got)
	}
	if !strings.Contains(e.metrics(), `ripple_notifications_total{kind="alert",notifier="pager",result="sent"} 1`) {
		t.Errorf("/metrics does not count the sent alert:\n%s", grepLines(e.metrics(), "notification"))
	}
}
