// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"fmt"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
)

// A member that speaks gossipsub but to which the node's gossipsub router
// holds no stream (here: the member resets every gossip stream, until the
// router gives up on it) gets a new connection; a member the router
// streams to keeps its connection.
func TestNoGossipStreamReconnects(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.waitMesh(a, b)
	ab := a.Node().net.host.Network().ConnsToPeer(b.ID())
	if len(ab) == 0 {
		t.Fatal("A is not connected to B")
	}
	abConn := ab[0].ID()
	h, _ := rawMemberWith(t, f, rawOptions{setup: func(h host.Host) {
		for _, p := range pubsub.GossipSubDefaultProtocols {
			h.SetStreamHandler(p, func(s network.Stream) { s.Reset() })
		}
	}}, a)
	before := counterValue(a.Node().stats.gossipReconnects)
	eventually(t, 60*time.Second, "A connects anew to the member it cannot gossip with", func() error {
		if d := counterValue(a.Node().stats.gossipReconnects) - before; d < 1 {
			return fmt.Errorf("%.0f reconnects", d)
		}
		return nil
	})
	if n := a.Node().net.host.Network().Connectedness(h.ID()); n != network.Connected {
		eventually(t, 15*time.Second, "A reconnects to the member", func() error {
			if c := a.Node().net.host.Network().Connectedness(h.ID()); c != network.Connected {
				return fmt.Errorf("%v", c)
			}
			return nil
		})
	}
	found := false
	for _, c := range a.Node().net.host.Network().ConnsToPeer(b.ID()) {
		found = found || c.ID() == abConn
	}
	if !found {
		t.Fatal("A's connection to B, whom its router streams to, was closed")
	}
}
