// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// gossiplessGrace is how long a connected member that speaks gossipsub may
// go without a stream from this node's gossipsub router before its
// connection is made anew. The router opens that stream at once, or after
// a backoff of at most 10 s when earlier streams to the peer died.
const gossiplessGrace = 15 * time.Second

// healGossip closes the connection of a member that speaks gossipsub but
// to which this node's gossipsub router has held no stream for
// gossiplessGrace, so that the connector makes a new one.
//
// The router opens its stream to a peer when identify says the peer speaks
// gossipsub. It can miss a peer for good: when the identify of a peer's new
// connection arrives while a stream attempt over its old connection is
// failing (a member that restarted), the router skips the peer as known,
// then drops it when the attempt fails, and never asks again. The member
// then never learns this node's subscriptions and gets its records only
// by sync. A new connection is identified anew, and the router takes it.
func (nw *p2p) healGossip(now time.Time) {
	n := nw.n
	connected := map[peer.ID]bool{}
	for _, p := range nw.host.Network().Peers() {
		connected[p] = true
		if !n.roster.IsMember(p) || nw.hasGossipStream(p) {
			nw.gossipless.Delete(p)
			continue
		}
		if ok, err := nw.host.Peerstore().SupportsProtocols(p, pubsub.GossipSubDefaultProtocols...); err != nil || len(ok) == 0 {
			nw.gossipless.Delete(p)
			continue // no router there
		}
		since, _ := nw.gossipless.LoadOrStore(p, now)
		if now.Sub(since.(time.Time)) < gossiplessGrace {
			continue
		}
		nw.gossipless.Delete(p)
		n.log.Info("no gossip stream to a connected member: connecting anew", "peer", p)
		n.stats.gossipReconnects.Inc()
		_ = nw.host.Network().ClosePeer(p)
	}
	nw.gossipless.Range(func(k, _ any) bool {
		if !connected[k.(peer.ID)] {
			nw.gossipless.Delete(k)
		}
		return true
	})
}

// hasGossipStream tells whether this node's gossipsub router holds a
// stream to p.
func (nw *p2p) hasGossipStream(p peer.ID) bool {
	for _, c := range nw.host.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Stat().Direction == network.DirOutbound && slices.Contains(pubsub.GossipSubDefaultProtocols, s.Protocol()) {
				return true
			}
		}
	}
	return false
}
