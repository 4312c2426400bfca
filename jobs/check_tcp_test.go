package jobs

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func TestCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	c := NewChecker(CheckerOptions{})
	ep := localEndpoint()

	res := c.Check(context.Background(), ep, &definitions.HostCheck{Kind: definitions.CheckTCP, Port: port})
	if res.State != engine.StateOK || len(res.Metrics) != 1 || res.Metrics[0].Name != "time" {
		t.Errorf("open port (host address): %+v", res)
	}
	res = c.Check(context.Background(), ep, &definitions.HostCheck{Kind: definitions.CheckTCP, Address: "127.0.0.1", Port: port})
	if res.State != engine.StateOK {
		t.Errorf("open port: %+v", res)
	}
	res = c.Check(context.Background(), ep, &definitions.HostCheck{Kind: definitions.CheckTCP, Address: "127.0.0.1", Port: port, Timeout: time.Nanosecond})
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "no connection within") {
		t.Errorf("timeout: %v %q", res.State, res.Output)
	}

	_ = ln.Close()
	res = c.Check(context.Background(), ep, &definitions.HostCheck{Kind: definitions.CheckTCP, Address: "127.0.0.1", Port: port})
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "refused") {
		t.Errorf("closed port: %v %q", res.State, res.Output)
	}
	res = c.Check(context.Background(), ep, &definitions.HostCheck{Kind: definitions.CheckTCP, Address: "127.0.0.1", Port: 70000})
	if res.State != engine.StateUnknown {
		t.Errorf("bad port: %v %q", res.State, res.Output)
	}
}

func TestCheckCanceledIsUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := NewChecker(CheckerOptions{Commander: checkTestShell{}})
	for _, hc := range []*definitions.HostCheck{
		{Kind: definitions.CheckTCP, Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port},
		{Kind: definitions.CheckHTTP, URL: "http://" + ln.Addr().String() + "/"},
		{Kind: definitions.CheckCommand, Command: "sleep 1"},
	} {
		res := c.Check(ctx, localEndpoint(), hc)
		if res.State != engine.StateUnknown || res.Output != "check canceled" || res.At.IsZero() {
			t.Errorf("%s: %+v, want UNKNOWN check canceled", hc.Kind, res)
		}
	}
}
