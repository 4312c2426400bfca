package webui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

type fakeCluster httpapi.Cluster

func (c fakeCluster) Cluster(context.Context) (httpapi.Cluster, error) {
	return httpapi.Cluster(c), nil
}

// TestOverviewShowsTheCluster: on a node of a cluster the overview names
// the leader and each node with its state, heartbeat and share of checks;
// during a failover it says so.
func TestOverviewShowsTheCluster(t *testing.T) {
	c := fakeCluster{Node: "node2", Leader: "node1", Epoch: 7, Lease: "10s", LeaseExpires: time.Now().Add(8 * time.Second),
		Nodes: []httpapi.ClusterNode{
			{Name: "node1", Live: true, Leader: true, Checks: 40, HeartbeatAge: 0.4, Version: "1.4.0"},
			{Name: "node2", Live: true, Checks: 38, HeartbeatAge: 1.2, Version: "1.4.0"},
			{Name: "node3", Live: false, HeartbeatAge: 31, Version: "1.3.9"},
		}}
	f := newFixture(t, func(o *Options) { o.Cluster = c })
	_, body, _ := f.get(t, "/", viewerToken)
	for _, want := range []string{`<b id="cluster-leader">node1</b> (epoch 7, lease 10s)`, "this page comes from node2",
		`<tr data-node="node1"><td>node1</td><td><span class="badge ok">leader</span>`,
		`<tr data-node="node3"><td>node3</td><td><span class="badge critical">dead</span></td><td>31.0 s ago</td><td>0</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	c.Leader = ""
	f = newFixture(t, func(o *Options) { o.Cluster = c })
	if _, body, _ := f.get(t, "/", viewerToken); !strings.Contains(body, "a failover is in progress") {
		t.Error("no leader, and the overview does not say a failover is in progress")
	}
	f = newFixture(t)
	if _, body, _ := f.get(t, "/", viewerToken); strings.Contains(body, `id="cluster"`) {
		t.Error("one daemon shows a cluster")
	}
}
