package definitions

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAlertingAttributes reads what alerts carry and what suppresses them
// from testdata/valid/alerting, and the defaults where nothing is said.
func TestAlertingAttributes(t *testing.T) {
	d, diags := Load(os.DirFS("testdata/valid/alerting"), "", Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	app := d.Monitors["app-health"]
	got := struct {
		Severity     string
		Labels       map[string]string
		Runbook      string
		DependsOn    []string
		Connectivity bool
		Repeat       time.Duration
	}{app.Severity, app.Labels, app.Runbook, app.DependsOn, app.Connectivity, app.RepeatInterval}
	want := got
	want.Severity, want.Labels, want.Runbook = "warning", map[string]string{"team": "app", "service": "app"}, "restart-app"
	want.DependsOn, want.Connectivity, want.Repeat = []string{"host-ssh"}, false, 30*time.Minute
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("app-health (-want +got):\n%s", diff)
	}
	ssh := d.Monitors["host-ssh"]
	if !ssh.Connectivity || ssh.Severity != SeverityCritical || ssh.RepeatInterval != DefaultRepeatInterval || ssh.Runbook != "" || ssh.Labels != nil {
		t.Errorf("host-ssh defaults: %+v", ssh)
	}
	if p := d.Hosts["app-01"].Parents; len(p) != 1 || p[0] != "sw-core-1" {
		t.Errorf("app-01 parents = %v", p)
	}
	if d.Hosts["sw-core-1"].Parents != nil {
		t.Errorf("sw-core-1 parents = %v, want none", d.Hosts["sw-core-1"].Parents)
	}
	if w := d.Notifiers["pager"].GroupWait; w != time.Minute {
		t.Errorf("pager group_wait = %s", w)
	}
	if w := d.Notifiers["chat"].GroupWait; w != 0 {
		t.Errorf("chat group_wait = %s, want 0 (sends at once)", w)
	}
	dflt, diags := Load(os.DirFS("testdata/valid/design_example"), "", Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if w := dflt.Notifiers["ops-chat"].GroupWait; w != DefaultGroupWait {
		t.Errorf("default group_wait = %s, want %s", w, DefaultGroupWait)
	}
}
