// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"slices"
	"time"

	"github.com/livinglab/livinglab/protocol"
)

// Status is the answer of /api/v1/status and `livinglab status`.
type Status struct {
	PeerID     string        `json:"peer_id"`
	Region     string        `json:"region"`
	Federation string        `json:"federation"`
	Version    string        `json:"version"`
	Uptime     string        `json:"uptime"`
	Peers      int           `json:"peers"`
	Topics     []TopicStatus `json:"topics"`
	Members    []MemberSync  `json:"members"`
	StoreLSM   int64         `json:"store_lsm_bytes"`
	StoreVLog  int64         `json:"store_vlog_bytes"`
	// Integrity says whether every held record still matches its CID.
	Integrity IntegrityStatus `json:"integrity"`
}

// TopicStatus is what this node holds of one topic and how in step it is.
type TopicStatus struct {
	Topic      string       `json:"topic"`
	Subscribed bool         `json:"subscribed"`
	Records    int          `json:"records"`
	InSync     bool         `json:"in_sync"`
	Peers      []SyncResult `json:"peers"`
	MeshPeers  int          `json:"mesh_peers"`
}

// MemberSync is one member's connection and sync state.
type MemberSync struct {
	PeerID    string    `json:"peer_id"`
	Region    string    `json:"region"`
	Connected bool      `json:"connected"`
	Self      bool      `json:"self"`
	LastSync  time.Time `json:"last_sync,omitzero"`
	InSync    bool      `json:"in_sync"`
}

var started = time.Now()

// Status reports the node's state.
func (n *Node) Status() Status {
	cfg := n.Config()
	st := Status{PeerID: n.id.String(), Region: cfg.Region, Federation: cfg.Federation.Name, Version: Version,
		Uptime: time.Since(started).Round(time.Second).String()}
	st.StoreLSM, st.StoreVLog = n.store.Size()
	st.Integrity = n.Integrity()
	nw := n.net
	connected := map[string]bool{}
	if nw != nil {
		for _, p := range nw.host.Network().Peers() {
			connected[p.String()] = true
		}
		st.Peers = len(connected)
	}
	topics := append([]string{protocol.ControlTopic}, cfg.Topics...)
	n.syncSt.mu.Lock()
	defer n.syncSt.mu.Unlock()
	for _, t := range topics {
		ts := TopicStatus{Topic: t, Subscribed: true, Peers: []SyncResult{}}
		ts.Records, _ = n.store.CountTopic(t)
		ts.InSync = true
		any := false
		for _, r := range n.syncSt.last[t] {
			ts.Peers = append(ts.Peers, r)
			if connected[r.Peer] {
				any = true
				ts.InSync = ts.InSync && r.InSync
			}
		}
		// A damaged record is held by CID but not in content: until it is
		// repaired this node does not hold what its peers hold.
		ts.InSync = ts.InSync && any && st.Integrity.Damaged == 0
		slices.SortFunc(ts.Peers, func(a, b SyncResult) int { return b.At.Compare(a.At) })
		if nw != nil && nw.ps != nil {
			// Members only: a stranger let in to join may announce
			// subscriptions, which gossip ignores (topicPeerFilter).
			for _, p := range nw.topicPeers(cfg.Federation.Name, t) {
				if n.roster.IsMember(p) {
					ts.MeshPeers++
				}
			}
		}
		st.Topics = append(st.Topics, ts)
	}
	for _, m := range n.roster.List(false) {
		ms := MemberSync{PeerID: m.PeerID, Region: m.Region, Connected: connected[m.PeerID], Self: m.PeerID == n.id.String()}
		ms.InSync = ms.Self
		if !ms.Self {
			inSync := true
			for _, t := range topics {
				for p, r := range n.syncSt.last[t] {
					if p.String() == m.PeerID {
						if r.At.After(ms.LastSync) {
							ms.LastSync = r.At
						}
						inSync = inSync && r.InSync
					}
				}
			}
			ms.InSync = inSync && !ms.LastSync.IsZero()
		}
		st.Members = append(st.Members, ms)
	}
	return st
}
