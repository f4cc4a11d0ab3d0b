// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/protocol"
)

// Records refused for their author's arrival rate are not lost: once the
// rate allows as many as were refused, the node reconciles their topics
// with the author and fetches them then (its own recent records count
// against the same rate by sync, see accept). Without this, a member
// publishing more than the burst at once would reach the others only at
// the next periodic sync round.

const (
	// followGather is how long refusals are gathered before the wait is
	// worked out, so one burst makes one follow-up.
	followGather = 500 * time.Millisecond
	// followMin and followMax bound the wait for the rate to recover.
	followMin = 250 * time.Millisecond
	followMax = 2 * time.Minute
	// followMaxRecords bounds the refused records remembered per author.
	followMaxRecords = 10000
)

// rateFollow is one pending follow-up for an author.
type rateFollow struct {
	refused map[cid.Cid]bool // each record once, however often offered
	topics  []string
}

// rateRefused notes that rec was refused for its author's arrival rate
// (by gossip on topic, or by sync when topic is "") and schedules the
// follow-up.
func (n *Node) rateRefused(rec *protocol.Signed, topic string) {
	topics := []string{topic}
	if topic == "" {
		topics = rec.Record.Topics
	}
	author := rec.Record.Author
	n.rateMu.Lock()
	if n.follows == nil {
		n.follows = map[string]*rateFollow{}
	}
	f, pending := n.follows[author]
	if !pending {
		f = &rateFollow{refused: map[cid.Cid]bool{}}
		n.follows[author] = f
	}
	if len(f.refused) < followMaxRecords {
		f.refused[rec.CID] = true
	}
	for _, t := range topics {
		if !slices.Contains(f.topics, t) {
			f.topics = append(f.topics, t)
		}
	}
	n.rateMu.Unlock()
	if !pending {
		n.spawn(func() { n.followUp(author) })
	}
}

// followUp waits until the author's arrival rate allows what was refused,
// then reconciles the refused records' topics with the author, if it is
// connected (the periodic sync rounds cover the rest).
func (n *Node) followUp(author string) {
	n.rateMu.Lock()
	f := n.follows[author]
	n.rateMu.Unlock()
	// However this ends (the node stopping included), the next refusal
	// schedules a new follow-up.
	defer func() {
		n.rateMu.Lock()
		if n.follows[author] == f {
			delete(n.follows, author)
		}
		n.rateMu.Unlock()
	}()
	var ctx context.Context
	if nw := n.net; nw != nil {
		ctx = nw.ctx
	}
	if ctx == nil {
		return
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if !sleep(followGather) {
		return
	}
	n.rateMu.Lock()
	wait := followMin
	if lim := n.rates[author]; lim != nil && lim.Limit() > 0 {
		// The bucket holds at most a burst: more than that comes in
		// further follow-ups.
		missing := float64(min(len(f.refused), lim.Burst())) - lim.Tokens()
		wait = time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
	}
	n.rateMu.Unlock()
	wait = min(max(wait, followMin), followMax)
	if !sleep(wait) {
		return
	}
	n.rateMu.Lock()
	delete(n.follows, author)
	n.rateMu.Unlock()
	p, err := peer.Decode(author)
	if err != nil || !slices.Contains(n.connectedMembers(), p) {
		return
	}
	followed := n.Config().Topics
	for _, t := range f.topics {
		if !slices.Contains(followed, t) {
			continue
		}
		if _, err := n.SyncTopic(ctx, p, t); err != nil {
			n.log.Debug("follow-up sync failed", "peer", p, "topic", t, "err", err)
		}
	}
}
