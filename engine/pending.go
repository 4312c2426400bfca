package engine

import (
	"encoding/json"
	"fmt"
	"time"
)

// pendingJSON is how a store keeps a PendingNotification, the same on
// every store; the monitor and host are the row's.
type pendingJSON struct {
	Kind        string            `json:"kind"`
	State       int               `json:"state"`
	Previous    int               `json:"previous"`
	Value       *float64          `json:"value,omitempty"`
	Message     string            `json:"message"`
	Since       time.Time         `json:"since"`
	At          time.Time         `json:"at"`
	Undelivered map[string]string `json:"undelivered"`
	Severity    string            `json:"severity,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Runbook     string            `json:"runbook,omitempty"`
	Repeat      bool              `json:"repeat,omitempty"`
}

// EncodePending is p as a store keeps it beside its monitor and host: JSON,
// "" for nil.
func EncodePending(p *PendingNotification) (string, error) {
	if p == nil {
		return "", nil
	}
	b, err := json.Marshal(pendingJSON{
		Kind: string(p.Kind), State: int(p.State), Previous: int(p.Previous), Value: p.Value,
		Message: p.Message, Since: p.Since, At: p.At, Undelivered: p.Undelivered,
		Severity: p.Severity, Labels: p.Labels, Runbook: p.Runbook, Repeat: p.Repeat,
	})
	if err != nil {
		return "", fmt.Errorf("encode pending notification: %w", err)
	}
	return string(b), nil
}

// DecodePending reverses EncodePending for the row of (monitor, host); ""
// and a notification owed to nobody are nil.
func DecodePending(monitor, host, s string) (*PendingNotification, error) {
	if s == "" {
		return nil, nil
	}
	var j pendingJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, fmt.Errorf("decode pending notification: %w", err)
	}
	if len(j.Undelivered) == 0 {
		return nil, nil
	}
	return &PendingNotification{
		Notification: Notification{
			Kind: NotificationKind(j.Kind), Monitor: monitor, Host: host,
			State: CheckState(j.State), Previous: CheckState(j.Previous), Value: j.Value,
			Message: j.Message, Since: j.Since, At: j.At,
			Severity: j.Severity, Labels: j.Labels, Runbook: j.Runbook, Repeat: j.Repeat,
		},
		Undelivered: j.Undelivered,
	}, nil
}
