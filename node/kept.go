// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/protocol"
)

// A removal keeps a member's records up to a sequence number and names the
// last of them (Membership.KeepUntil). Each record names its predecessor,
// so the kept records are the chain back from that one; a record the
// member's key signs afterwards (a stolen key) with a kept number is not on
// it. Every node walks the chain once, fetching by CID from the other
// members what it does not hold (records of topics it does not follow
// included: it stores only the links), and until it has, judges the
// member's records it cannot place as not verifiable yet (see
// protocol.ErrUnverified): they come again with a later sync round.

// keptWalks is the set of authors whose chain is being walked.
type keptWalks struct {
	mu      sync.Mutex
	walking map[string]bool
}

// keptRetryMax bounds the wait between attempts to find a record of the
// chain that no connected member has.
const keptRetryMax = 5 * time.Minute

// walkRemovedChains starts a walk for every removed member whose removal
// names its last kept record and whose chain is not known yet.
func (n *Node) walkRemovedChains(ctx context.Context) {
	for _, m := range n.roster.List(true) {
		if !m.Removed || m.KeepUntil == "" {
			continue
		}
		if done, _ := n.store.KeptDone(m.PeerID); !done {
			n.spawn(func() { n.walkKept(ctx, m.PeerID) })
		}
	}
}

// walkKept learns the chain of records author's removal kept.
func (n *Node) walkKept(ctx context.Context, author string) {
	n.kept.mu.Lock()
	if n.kept.walking[author] {
		n.kept.mu.Unlock()
		return
	}
	if n.kept.walking == nil {
		n.kept.walking = map[string]bool{}
	}
	n.kept.walking[author] = true
	n.kept.mu.Unlock()
	defer func() {
		n.kept.mu.Lock()
		delete(n.kept.walking, author)
		n.kept.mu.Unlock()
	}()

	m, ok := n.roster.Get(author)
	if done, _ := n.store.KeptDone(author); !ok || !m.Removed || m.KeepUntil == "" || done {
		return
	}
	cur, seq := m.KeepUntil, m.KeepUntilSeq
	var floor uint64
	wait := time.Second
	for cur != "" {
		c, err := cid.Decode(cur)
		if err != nil {
			n.log.Warn("chain of kept records ends in a bad link", "member", author, "link", cur)
			break
		}
		if prev, ok := n.store.KeptLink(author, c); ok {
			cur, seq = prev, seq-1
			continue
		}
		rec := n.findRecord(ctx, c, author)
		if rec == nil {
			if _, err := n.store.Tomb(c); err == nil {
				// Retracted: no node keeps it, so its predecessor is
				// unknown. The chain ends here.
				floor = seq
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, keptRetryMax)
			continue
		}
		if rec.Record.Author != author || rec.Record.Seq != seq {
			n.log.Warn("chain of kept records broken", "member", author, "cid", c, "seq", rec.Record.Seq, "want", seq)
			break
		}
		if err := n.store.PutKeptLink(author, c, rec.Record.Prev); err != nil {
			n.log.Error("chain of kept records", "member", author, "err", err)
			return
		}
		cur, seq = rec.Record.Prev, seq-1
	}
	if err := n.store.SetKeptDone(author, floor); err != nil {
		n.log.Error("chain of kept records", "member", author, "err", err)
		return
	}
	n.log.Info("learnt which records a removal kept", "member", author, "records", m.KeepUntilSeq, "followed_down_to", floor)
}

// findRecord returns the record c, from the store or from a connected
// member other than not. Its CID is its hash: whoever serves it cannot
// forge it.
func (n *Node) findRecord(ctx context.Context, c cid.Cid, not string) *protocol.Signed {
	if rec, err := n.store.Get(c); err == nil {
		return rec
	}
	for _, p := range n.connectedMembers() {
		if p.String() == not {
			continue
		}
		raws, err := n.fetchRaw(ctx, p, []cid.Cid{c})
		if err != nil {
			continue
		}
		for _, raw := range raws {
			if rec, err := protocol.OpenExpect(raw, c, time.Now()); err == nil {
				return rec
			}
		}
	}
	return nil
}
