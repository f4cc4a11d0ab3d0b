// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"

	"github.com/livinglab/livinglab/protocol"
)

// The upgrade from the previous release's wire (record format 1, gossip
// version 2) to this one's (record format 2, gossip version 3) happens
// member by member, without losing a record:
//
//   - A node of this release announces protocol.WireProtocol in identify.
//     Every node remembers (in its store) which members announced it, and
//     a version 2 record proves it of its author as well.
//   - Until every current member has announced it, the node signs version
//     1 records, which the previous release verifies, and subscribes and
//     publishes on the old gossip topics beside the new ones.
//   - Once every member has announced it, the node signs version 2 records
//     and leaves the old topics.
//   - Sync gives a peer that has not announced it version 1 records only.

// wireState is what this node knows of the members' wire versions.
type wireState struct {
	mu     sync.Mutex
	loaded bool
	known  map[string]bool // peer IDs that announced protocol.WireProtocol
	// The last answer of allUpgraded, valid while the roster's generation
	// is allGen and no member was marked since (epoch counts the marks).
	epoch  uint64
	cached bool
	allGen uint64
	allOK  bool
}

// wireKnown tells whether member p announced this release's wire.
func (n *Node) wireKnown(p string) bool {
	n.wire.mu.Lock()
	defer n.wire.mu.Unlock()
	n.loadWireLocked()
	return n.wire.known[p]
}

func (n *Node) loadWireLocked() {
	if n.wire.loaded {
		return
	}
	n.wire.known = map[string]bool{}
	vs, err := n.store.WireVersions()
	if err != nil {
		n.log.Warn("read the members' wire versions", "err", err)
	}
	for p, v := range vs {
		if v >= protocol.GossipVersion {
			n.wire.known[p] = true
		}
	}
	n.wire.loaded = true
}

// markWire records that member p announced this release's wire.
func (n *Node) markWire(p string) {
	n.wire.mu.Lock()
	n.loadWireLocked()
	if n.wire.known[p] {
		n.wire.mu.Unlock()
		return
	}
	n.wire.known[p] = true
	n.wire.epoch++
	n.wire.cached = false
	n.wire.mu.Unlock()
	if err := n.store.MarkWire(p, protocol.GossipVersion); err != nil {
		n.log.Warn("remember a member's wire version", "peer", p, "err", err)
	}
	n.log.Debug("member speaks the new wire", "peer", p)
	if nw := n.net; nw != nil {
		nw.wake()
	}
}

// allUpgraded tells whether every current member other than this node
// announced this release's wire.
// It is asked on every publication and every few seconds by the
// connector, so the answer is kept until the roster changes or a member
// is marked.
func (n *Node) allUpgraded() bool {
	gen := n.roster.Gen()
	n.wire.mu.Lock()
	if n.wire.cached && n.wire.allGen == gen {
		ok := n.wire.allOK
		n.wire.mu.Unlock()
		return ok
	}
	n.loadWireLocked()
	epoch := n.wire.epoch
	n.wire.mu.Unlock()
	self := n.idStr
	ok := true
	for _, m := range n.roster.List(false) {
		if m.PeerID != self && !n.wireKnown(m.PeerID) {
			ok = false
			break
		}
	}
	n.wire.mu.Lock()
	if n.wire.epoch == epoch {
		n.wire.cached, n.wire.allGen, n.wire.allOK = true, gen, ok
	}
	n.wire.mu.Unlock()
	return ok
}

// recordVersion is the record format this node signs now.
func (n *Node) recordVersion() int {
	if n.opts.RecordVersion != 0 {
		return n.opts.RecordVersion
	}
	if n.allUpgraded() {
		return protocol.RecordV2
	}
	return protocol.RecordVersion
}

// peerReads tells whether peer p reads records of version v.
func (n *Node) peerReads(p peer.ID, v int) bool {
	if v <= protocol.RecordVersion || n.wireKnown(p.String()) {
		return true
	}
	// A member admitted a moment ago was identified before it was a
	// member, so identify did not mark it, and the connector marks it
	// only at its next round: look at what identify said now.
	return n.learnWire(p)
}

// learnWire marks member p as reading this release's wire if identify
// said it does, and tells whether it did.
func (n *Node) learnWire(p peer.ID) bool {
	nw := n.net
	if nw == nil || !n.roster.IsMember(p) {
		return false
	}
	if ok, err := nw.host.Peerstore().SupportsProtocols(p, protocol.WireProtocol); err != nil || len(ok) == 0 {
		return false
	}
	n.markWire(p.String())
	return true
}

// watchWire learns the members' wire versions from identify.
func (nw *p2p) watchWire(ctx context.Context) {
	n := nw.n
	nw.host.SetStreamHandler(protocol.WireProtocol, func(s network.Stream) { s.Close() })
	check := func(p peer.ID, protos []libp2pproto.ID) {
		if slices.Contains(protos, protocol.WireProtocol) && n.roster.IsMember(p) {
			n.markWire(p.String())
		}
	}
	sub, err := nw.host.EventBus().Subscribe([]any{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated)})
	if err != nil {
		n.log.Warn("members' wire versions are not watched", "err", err)
		return
	}
	for _, p := range nw.host.Network().Peers() {
		if ps, err := nw.host.Peerstore().GetProtocols(p); err == nil {
			check(p, ps)
		}
	}
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				switch e := e.(type) {
				case event.EvtPeerIdentificationCompleted:
					check(e.Peer, e.Protocols)
				case event.EvtPeerProtocolsUpdated:
					check(e.Peer, e.Added)
				}
			}
		}
	}()
}

// checkKnownMembers marks the connected members whose identify named the
// new wire before they were members (an admission that arrived later).
func (nw *p2p) checkKnownMembers() {
	n := nw.n
	if n.allUpgraded() {
		return // every member is known already
	}
	for _, p := range nw.host.Network().Peers() {
		if !n.wireKnown(p.String()) {
			n.learnWire(p)
		}
	}
}

// updateLegacy joins the previous gossip version's topics while some
// member needs them, and leaves them once none does.
func (nw *p2p) updateLegacy(ctx context.Context) {
	nw.checkKnownMembers()
	want := !nw.n.allUpgraded()
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for _, t := range nw.topics {
		switch {
		case want && t.old == nil:
			old, err := nw.subscribeLocked(ctx, protocol.LegacyGossipVersion, t.name)
			if err != nil {
				nw.n.log.Warn("join the previous gossip version's topic", "topic", t.name, "err", err)
				continue
			}
			t.old = old
		case !want && t.old != nil:
			nw.n.log.Info("every member speaks gossip version 3: leaving the previous version's topic", "topic", t.name)
			t.old.close(nw.ps)
			t.old = nil
		}
	}
}

// stripLegacyAuthor removes the sender and sequence number that nodes of
// the previous release put on their messages on the previous version's
// topics, so that gossipsub, which refuses them on this node (it neither
// sends nor accepts them, as StrictNoSign requires), takes the message.
// On this version's topics a message with them is refused.
func stripLegacyAuthor(_ peer.ID, rpc *pubsub.RPC) error {
	for _, m := range rpc.GetPublish() {
		if strings.HasPrefix(m.GetTopic(), legacyPrefix) && m.Signature == nil {
			m.From, m.Seqno, m.Key = nil, nil, nil
		}
	}
	return nil
}

var legacyPrefix = "/livinglab/" + strconv.Itoa(protocol.LegacyGossipVersion) + "/"

// chainRecord sets a version 2 record's place in this node's chain on
// each of its topics.
func (n *Node) chainRecord(r *protocol.Record) error {
	if r.Version < protocol.RecordV2 {
		return nil
	}
	heads, err := n.store.OwnChains(r.ChainTopics())
	if err != nil {
		return err
	}
	r.Chain = make(map[string]protocol.ChainLink, len(heads))
	for t, h := range heads {
		r.Chain[t] = protocol.ChainLink{Seq: h.Seq + 1, Prev: h.CID}
	}
	return nil
}
